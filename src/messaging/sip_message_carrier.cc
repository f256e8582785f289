#include "messaging/sip_message_carrier.h"

#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace messaging {

// Sizes: the service caps a body at 1,600 characters, up to 6,400 bytes of UTF-8. RFC 3428
// §8 asks for MESSAGEs under 1300 bytes on paths without congestion control (UDP); a larger
// one still goes whole (IP fragments it) rather than being cut into several MESSAGEs the
// handset would show as separate texts. Trunks that take long texts should use TCP or TLS.

struct SipMessageCarrier::State {
  mutable std::mutex mu;
  bool started = false;
  bool stopped = false;
  uint64_t next_id = 1;
  std::map<uint64_t, std::function<void(SubmitOutcome)>> outstanding;
  Stats stats;
};

SipMessageCarrier::SipMessageCarrier(SipMessageCarrierOptions options, SipMessageSender& sender)
    : options_(std::move(options)), sender_(sender), state_(std::make_shared<State>()) {
  if (options_.window == 0) options_.window = 1;
}

SipMessageCarrier::~SipMessageCarrier() {
  stop();
}

void SipMessageCarrier::start(CarrierEvents* events) {
  (void)events;  // inbound MESSAGEs reach the service through the edge, not through here
  std::lock_guard lock(state_->mu);
  if (!state_->stopped) state_->started = true;
}

void SipMessageCarrier::stop() {
  std::map<uint64_t, std::function<void(SubmitOutcome)>> left;
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    left.swap(state_->outstanding);
  }
  for (auto& [id, done] : left) {
    SubmitOutcome o;
    o.kind = SubmitOutcome::Kind::kUnknown;
    o.reason = "carrier stopped before the MESSAGE was answered";
    done(std::move(o));
  }
}

size_t SipMessageCarrier::room() const {
  size_t free = 0;
  {
    std::lock_guard lock(state_->mu);
    if (!state_->started || state_->stopped) return 0;
    const size_t n = state_->outstanding.size();
    free = n >= options_.window ? 0 : options_.window - n;
  }
  // Asked without the lock: the sender may take locks of its own.
  if (free == 0 || !sender_.available(options_.trunk)) return 0;
  return free;
}

SubmitOutcome SipMessageCarrier::outcomeOf(const SipSendResult& r) {
  SubmitOutcome o;
  o.reason = r.reason;
  if (r.status >= 200 && r.status < 300) {
    o.kind = SubmitOutcome::Kind::kAccepted;
    o.carrier_ids.push_back(r.call_id);
  } else if (r.status >= 300 && r.status <= 699) {
    o.kind = SubmitOutcome::Kind::kRejected;
    o.carrier_status = uint32_t(r.status);
    o.reason = std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason);
  } else if (r.status < 0) {
    o.kind = SubmitOutcome::Kind::kNotSent;
  } else {
    // 0 (no final answer) or nonsense: it may have arrived.
    o.kind = SubmitOutcome::Kind::kUnknown;
  }
  if (o.reason.empty()) o.reason = "SIP status " + std::to_string(r.status);
  return o;
}

void SipMessageCarrier::submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) {
  uint64_t id = 0;
  {
    std::lock_guard lock(state_->mu);
    if (state_->started && !state_->stopped) {
      id = state_->next_id++;
      state_->outstanding.emplace(id, std::move(done));
      ++state_->stats.submitted;
    }
  }
  if (id == 0) {
    SubmitOutcome o;
    o.kind = SubmitOutcome::Kind::kNotSent;
    o.reason = "SIP MESSAGE carrier " + options_.name + " is not running";
    done(std::move(o));
    return;
  }
  std::weak_ptr<State> weak = state_;
  auto answered = [weak, id, name = options_.name, sid = sms.message_sid](SipSendResult r) {
    auto state = weak.lock();
    if (!state) return;
    std::function<void(SubmitOutcome)> cb;
    SubmitOutcome o = outcomeOf(r);
    // A 2xx without a Call-ID (a sender that does not tell) still needs an id per message.
    if (o.kind == SubmitOutcome::Kind::kAccepted && o.carrier_ids.front().empty())
      o.carrier_ids.front() = name + "-" + sid;
    {
      std::lock_guard lock(state->mu);
      auto it = state->outstanding.find(id);
      if (it == state->outstanding.end()) return;  // stop() answered it already
      cb = std::move(it->second);
      state->outstanding.erase(it);
      if (o.kind == SubmitOutcome::Kind::kAccepted) ++state->stats.accepted;
      if (o.kind == SubmitOutcome::Kind::kRejected) ++state->stats.rejected;
      if (o.kind == SubmitOutcome::Kind::kNotSent) --state->stats.submitted;
    }
    cb(std::move(o));
  };
  sender_.sendMessage(options_.trunk, sms.from, sms.to, sms.body, std::move(answered));
}

Carrier::Stats SipMessageCarrier::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

}  // namespace messaging
