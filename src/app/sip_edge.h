// The SIP edge as `serve` runs it: the worker threads with their transports,
// transaction layers and edge workers, wired from the configuration. The only place that
// knows all of these parts (DESIGN.md: app wires, the parts talk through their headers).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "edge/edge.h"
#include "messaging/sip_message_carrier.h"
#include "store/store.h"

class SipEdge {
 public:
  // `store` outlives the edge (serve opens it once for every part).
  SipEdge(const common::Config& config, store::Store& store);
  ~SipEdge();
  SipEdge(const SipEdge&) = delete;
  SipEdge& operator=(const SipEdge&) = delete;

  // Loads the bindings, binds every listener and starts the workers.
  common::Status start();
  // "udp:127.0.0.1:5060", one per bound listener (ports resolved when 0 was asked).
  std::vector<std::string> listening() const;
  // Stops the workers and closes everything; idempotent.
  void stop();

  // SMS over SIP MESSAGE. The sender a messaging::SipMessageCarrier uses to reach SIP trunks;
  // it lives as long as the edge and answers -1 (never sent) while the edge is not running.
  messaging::SipMessageSender& messageSender();
  // Before start(): MESSAGEs from trunks to numbers go to `hook` instead of being proxied.
  // Its `respond` may be called from any thread, also after stop() (then it does nothing).
  void setInboundMessageHook(edge::InboundMessageHook hook);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
