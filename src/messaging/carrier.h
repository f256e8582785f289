// The seam between the messaging service and a carrier connection (an SMPP bind, a SIP trunk
// for SIP MESSAGE). The service owns the queue, the rate limits and the store; a Carrier only
// moves one message at a time and reports what became of it, and hands inbound messages and
// delivery receipts back through CarrierEvents.
//
// Threads: a Carrier runs its own I/O thread. submit() may be called from any thread; every
// callback (done, onInbound, onReceipt) runs on the carrier's thread and must not block for
// long (post blocking work elsewhere and call `ack` when it is done).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace messaging {

struct OutboundSms {
  std::string message_sid;
  std::string from;  // E.164
  std::string to;    // E.164
  std::string body;  // UTF-8, at most 1,600 characters
  bool want_receipt = true;
  uint8_t reference = 0;  // the concatenation reference (UDH) for a multi-part message
};

struct SubmitOutcome {
  enum class Kind {
    kAccepted,  // the carrier took every part: carrier_ids holds one id per part
    kRejected,  // the carrier refused it for good (status code, reason): the message failed
    kNotSent,   // never left us (not bound, stopping): safe to send again
    kUnknown,   // on the wire, but the connection broke before the carrier answered: sending
                // again may duplicate it
  };
  Kind kind = Kind::kNotSent;
  std::vector<std::string> carrier_ids;
  uint32_t carrier_status = 0;  // SMPP command_status (or SIP status) of a rejection
  std::string reason;
};

struct InboundSms {
  std::string trunk;
  std::string from;  // as the carrier gave it, normalised to E.164 when it can be
  std::string to;
  std::string body;  // UTF-8, concatenated parts joined
  int64_t segments = 1;
};

struct DeliveryReceipt {
  std::string trunk;
  std::string carrier_message_id;
  std::string state;  // SMPP receipt stat: DELIVRD, ACCEPTD, UNDELIV, REJECTD, EXPIRED,
                      // UNKNOWN, DELETED, ENROUTE
  std::string error;  // the receipt's err: field ("000" ...), "" when absent
};

class CarrierEvents {
 public:
  virtual ~CarrierEvents() = default;
  // `ack(true)` once the message is stored (the carrier is then told it arrived);
  // `ack(false)` asks the carrier to try again later.
  virtual void onInbound(InboundSms sms, std::function<void(bool stored)> ack) = 0;
  virtual void onReceipt(DeliveryReceipt receipt, std::function<void(bool stored)> ack) = 0;
};

class Carrier {
 public:
  virtual ~Carrier() = default;
  virtual const std::string& name() const = 0;
  // Connects (and keeps reconnecting) until stop(). `events` outlives the carrier's run.
  virtual void start(CarrierEvents* events) = 0;
  // Stops: every submit still waiting gets `done` (kNotSent or kUnknown) before it returns.
  virtual void stop() = 0;
  // How many more messages it takes right now: 0 while not connected or throttled.
  virtual size_t room() const = 0;
  // Calls `done` exactly once. Throttling answers are retried inside the carrier (slowing
  // down); only a final outcome comes back.
  virtual void submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) = 0;

  struct Stats {
    uint64_t submitted = 0;  // parts written to the carrier
    uint64_t accepted = 0;   // messages accepted
    uint64_t rejected = 0;
    uint64_t throttled = 0;  // throttling answers received
    uint64_t reconnects = 0;
    uint64_t inbound = 0;
    uint64_t receipts = 0;
    uint64_t bad_pdus = 0;  // undecodable input from the carrier
  };
  virtual Stats stats() const = 0;
};

}  // namespace messaging
