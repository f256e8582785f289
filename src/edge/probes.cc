// OPTIONS in and out: the answer to an OPTIONS addressed to this server, keep-alives to
// UDP bindings behind NAT, and the probes that take trunk gateways out and back in.
#include "edge/edge.h"

#include <chrono>

#include "edge/internal/worker_state.h"

namespace edge {

using internal::failsOver;
using internal::gatewayUri;
using internal::randomTag;
using transaction::ServerId;

namespace {

constexpr std::string_view kAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, PRACK, REFER, MESSAGE, NOTIFY, "
    "SUBSCRIBE";

}  // namespace

void EdgeWorker::handleOptionsToUs(ServerId id) {
  // §11.2: what a request to this proxy may use. Supported lists the option tags a request
  // passing through may require of us (Proxy-Require).
  std::string supported;
  for (std::string_view tag : internal::kProxySupported) {
    if (!supported.empty()) supported += ", ";
    supported.append(tag);
  }
  answer(id, 200, {},
         {{"Allow", std::string(kAllow)},
          {"Accept", "application/sdp"},
          {"Accept-Encoding", "identity"},
          {"Supported", supported}});
}

size_t EdgeWorker::pingNatBindings() {
  std::vector<std::pair<transport::Flow, std::string>> targets;
  shared_.location().forEach(now(), [&](const Binding& b) {
    if (b.flow.protocol == transport::Protocol::kUdp && behindNat(b))
      targets.emplace_back(b.flow, b.contact);
  });
  for (auto& [flow, contact] : targets) sender_.send(flow, optionsRequest(contact, flow), {});
  shared_.counters().nat_pings.fetch_add(targets.size(), std::memory_order_relaxed);
  return targets.size();
}

size_t EdgeWorker::probeGateways(std::chrono::steady_clock::time_point now) {
  Routing* routing = shared_.routing();
  if (routing == nullptr || layer_ == nullptr) return 0;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  size_t sent = 0;
  for (const auto& trunk_ptr : routing->trunks()) {
    Trunk* trunk = trunk_ptr.get();
    if (trunk->probe_interval.count() == 0) continue;
    const int64_t interval_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(trunk->probe_interval).count();
    for (const auto& gw_ptr : trunk->gateways) {
      Gateway* gw = gw_ptr.get();
      if (gw->next_probe.load(std::memory_order_relaxed) > now_ms) continue;
      if (gw->probe_seq.load(std::memory_order_relaxed) != 0) continue;  // one in flight
      gw->next_probe.store(now_ms + interval_ms, std::memory_order_relaxed);
      transport::Flow flow = flowTo(gw->protocol, gw->address);
      const std::string uri = gatewayUri(*gw);
      const uint64_t seq = ++branch_counter_;
      gw->probe_seq.store(seq, std::memory_order_relaxed);
      // The first verdict wins: an answer, the transaction's own failure, or the deadline.
      auto verdict = [routing, trunk, gw, seq](bool alive) {
        uint64_t expected = seq;
        if (gw->probe_seq.compare_exchange_strong(expected, 0))
          routing->probeResult(*trunk, *gw, alive);
      };
      transaction::ClientCallbacks cb;
      cb.onResponse = [verdict](const sip::Message& r) {
        if (r.statusCode() >= 200) verdict(!failsOver(r.statusCode()));
      };
      cb.onTimeout = [verdict] { verdict(false); };
      cb.onTransportError = [verdict](const common::Status&) { verdict(false); };
      auto client = layer_->sendRequest(optionsRequest(uri, flow), flow, std::move(cb));
      if (!client) {
        verdict(false);
        continue;
      }
      timers_.schedule(shared_.options().probe_timeout, [verdict] { verdict(false); });
      ++sent;
    }
  }
  shared_.counters().probes.fetch_add(sent, std::memory_order_relaxed);
  return sent;
}

std::string EdgeWorker::optionsRequest(const std::string& uri, const transport::Flow& flow) {
  transport::Address local = routableLocal(flow.local, flow.remote);
  std::string n = std::to_string(++branch_counter_);
  std::string msg = "OPTIONS " + uri + " SIP/2.0\r\n";
  msg += "Via: SIP/2.0/" + std::string(transport::viaName(flow.protocol)) + " " + local.toString() +
         ";branch=z9hG4bKsbka." + n + ";rport\r\n";
  msg += "From: <sip:keepalive@" + local.toString() + ">;tag=" + randomTag() + "\r\n";
  msg += "To: <" + uri + ">\r\n";
  std::string call_id = "ka-" + n + "-" + randomTag();
  for (int tries = 0; owns_call_id_ && !owns_call_id_(call_id) && tries < 64; ++tries)
    call_id = "ka-" + n + "-" + randomTag();
  msg += "Call-ID: " + call_id + "\r\n";
  msg += "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n";
  msg += "User-Agent: " + shared_.options().user_agent + "\r\nContent-Length: 0\r\n\r\n";
  return msg;
}

}  // namespace edge
