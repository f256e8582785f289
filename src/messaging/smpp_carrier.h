// An SMPP 3.4 client (ESME) bound as a transceiver to one SMSC, behind the messaging::Carrier
// seam: it keeps the bind up (enquire_link, reconnect with jittered backoff), sends each
// message as one submit_sm per part within a window and a parts-per-second limit, slows down
// on throttling answers, and turns deliver_sm into inbound messages and delivery receipts.
//
//   messaging::SmppCarrier smsc({.name = "smsc1", .host = "127.0.0.1", .port = 2775,
//                                .system_id = "sb", .password = "secret"});
//   smsc.start(&events);
//   smsc.submit(sms, [](messaging::SubmitOutcome o) { /* runs on the carrier's thread */ });
//   smsc.stop();
//
// Choices a caller can rely on:
// - registered_delivery is set on every part when want_receipt: receipts come per part, each
//   naming its part's id (carrier_ids holds them all, in part order).
// - Addresses out: "+<digits>" goes as the digits with ton 1 (international) npi 1 (E.164);
//   other all-digit addresses as ton 0 npi 1; anything else (an alphanumeric sender) as ton 5
//   npi 0. Addresses in: '+' is prepended to an all-digit address when its ton is 1, or when
//   its ton is 0 (unknown) and it has 11 to 15 digits and does not start with 0; any other
//   address is passed on as the SMSC gave it.
// - A connection that breaks (or stop()) ends every message still inside: kUnknown when some
//   part of it was accepted or is waiting for an answer, kNotSent otherwise. Messages are
//   never kept across connections.
// - Inbound: parts that do not complete a message are answered at once; the part that
//   completes one is answered when `ack` is called (ack(false): ESME_RX_T_APPN, and the other
//   parts are kept so that the SMSC's retry of that part completes the message again; a resend
//   of it before `ack` is answered ESME_RX_T_APPN too). An SMSC sending a deliver_sm again
//   after ack(true) (its answer lost) gets 0 and no second onInbound for a concatenated
//   message; a single-part one is handed over again (nothing identifies it as a repeat).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "messaging/carrier.h"

namespace messaging {

namespace internal {
class SmppSession;  // the io_context, its thread, the socket and every piece of SMPP state
}

struct SmppCarrierOptions {
  std::string name;  // the trunk name
  std::string host;  // the SMSC
  uint16_t port = 2775;
  std::string system_id, password, system_type;
  size_t window = 10;           // outstanding submit_sm at most
  uint32_t max_per_second = 0;  // carrier's limit on submit_sm parts; 0 = none
  std::chrono::milliseconds enquire_link_interval{30000};
  // A bind, submit_sm, enquire_link or unbind without an answer for this long (or a TCP
  // connect that takes longer): the connection is considered broken.
  std::chrono::milliseconds response_timeout{10000};
  // Before reconnect attempt n (from 0) the carrier waits a random time in [d/2, d] with
  // d = min(reconnect_max, reconnect_min * 2^n); n restarts at 0 after a successful bind.
  std::chrono::milliseconds reconnect_min{500}, reconnect_max{30000};
  // Pause after a throttling answer, doubling while they continue, back to throttle_min
  // after a part sent after the last pause is accepted.
  std::chrono::milliseconds throttle_min{200}, throttle_max{10000};
  int64_t reassembly_timeout_s = 300;
};

class SmppCarrier final : public Carrier {
 public:
  explicit SmppCarrier(SmppCarrierOptions options);
  // Calls stop(). Must not run on the carrier's thread (i.e. not from a callback).
  ~SmppCarrier() override;
  SmppCarrier(const SmppCarrier&) = delete;
  SmppCarrier& operator=(const SmppCarrier&) = delete;

  const std::string& name() const override { return name_; }
  // Starts the carrier's thread and connects. A second start() is ignored; a stopped carrier
  // does not start again.
  void start(CarrierEvents* events) override;
  // Unbinds (waiting at most response_timeout, capped at 1 s, for unbind_resp), ends every
  // message still inside (their `done` runs on the carrier's thread), and joins the thread.
  // Must not be called from a carrier callback.
  void stop() override;
  size_t room() const override;
  // Before start() or after stop(), `done` runs at once on the caller's thread (kNotSent).
  void submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) override;
  Stats stats() const override;

  // True while bound (tests and the status page).
  bool bound() const;

 private:
  std::string name_;
  // Shared with the `ack` functions handed to CarrierEvents, which may be called (from any
  // thread) after the carrier is gone; they hold it weakly.
  std::shared_ptr<internal::SmppSession> session_;
};

}  // namespace messaging
