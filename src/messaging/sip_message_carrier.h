// SMS over SIP MESSAGE (RFC 3428): a Carrier that hands each message to the SIP edge, which
// sends it as one MESSAGE (text/plain, UTF-8) to a SIP trunk's gateways. The edge sits above
// messaging in the layering, so it is reached through SipMessageSender, which app implements.
// Inbound MESSAGEs from trunks do not pass here: the edge hands them to the service directly.
//
//   messaging::SipMessageCarrier sip({.name = "sip-sms", .trunk = "carrier", .window = 10},
//                                    edge.messageSender());
//   sip.start(&events);
//   sip.submit(sms, [](messaging::SubmitOutcome o) { /* runs on a SIP worker thread */ });
//
// Outcomes: a 2xx is kAccepted (the carrier id is the MESSAGE's Call-ID); 3xx-6xx is
// kRejected with the SIP status as carrier_status; no final answer (timeouts, a connection
// lost after sending) is kUnknown; never sent (edge not running, unknown trunk, no gateway
// reachable) is kNotSent. SIP has no delivery receipts: accepted messages stay "sent".
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "messaging/carrier.h"

namespace messaging {

// What became of one MESSAGE.
struct SipSendResult {
  // The final response's status; 0 when it went out and no final answer came (it may have
  // arrived); -1 when it never left.
  int status = 0;
  std::string reason;
  std::string call_id;  // the MESSAGE's Call-ID ("" when it never left)
};

// The SIP edge as the carrier sees it (app implements it over the edge's workers).
class SipMessageSender {
 public:
  virtual ~SipMessageSender() = default;
  // Whether a MESSAGE to `trunk` can be sent now (the edge runs and knows the trunk).
  virtual bool available(const std::string& trunk) const = 0;
  // Sends MESSAGE (Content-Type text/plain;charset=UTF-8, body `text`) from sip:FROM@... to
  // sip:TO@... over SIP trunk `trunk` (its gateways, failing over as the edge does). `done`
  // runs exactly once, on any thread, possibly inside this call.
  virtual void sendMessage(const std::string& trunk, const std::string& from, const std::string& to,
                           const std::string& text, std::function<void(SipSendResult)> done) = 0;
};

struct SipMessageCarrierOptions {
  std::string name;    // the SMS trunk's name
  std::string trunk;   // the SIP trunk the MESSAGEs go to (edge::Routing's trunk name)
  size_t window = 10;  // MESSAGE transactions outstanding at most
};

class SipMessageCarrier final : public Carrier {
 public:
  // `sender` outlives the carrier.
  SipMessageCarrier(SipMessageCarrierOptions options, SipMessageSender& sender);
  ~SipMessageCarrier() override;  // stop()
  SipMessageCarrier(const SipMessageCarrier&) = delete;
  SipMessageCarrier& operator=(const SipMessageCarrier&) = delete;

  const std::string& name() const override { return options_.name; }
  void start(CarrierEvents* events) override;
  // Every message still waiting for its answer ends as kUnknown (its `done` runs on the
  // caller's thread); answers arriving later are ignored. A stopped carrier stays stopped.
  void stop() override;
  // window - outstanding; 0 before start(), after stop() and while the sender cannot reach
  // the trunk.
  size_t room() const override;
  // The whole body goes in one MESSAGE (see the note on sizes in the .cc). Before start() or
  // after stop(), `done` runs at once on the caller's thread with kNotSent.
  void submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) override;
  Stats stats() const override;

  // The outcome of a MESSAGE's result (exposed for tests).
  static SubmitOutcome outcomeOf(const SipSendResult& result);

 private:
  struct State;  // shared with the callbacks still in the edge
  SipMessageCarrierOptions options_;
  SipMessageSender& sender_;
  std::shared_ptr<State> state_;
};

}  // namespace messaging
