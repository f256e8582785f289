// The registrar's decision for one REGISTER (RFC 3261 §10.3, RFC 3327 Path): given the
// AOR's current bindings, what the new set is, what must be written to the store and what
// to answer. Pure logic: no store, no clock, no socket, so every rule is unit-tested alone;
// the edge runs it after authentication and commits the changes before it replies.
//
//   auto plan = edge::planRegister(req, flow, location.lookup(aor, now), now, options);
//   if (plan.status != 200) return reply(plan.status, plan.headers);
//   persist(plan.upserts, plan.removed, [&] { location.replace(plan.aor, plan.next); ok(); });
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edge/location.h"
#include "sip/message.h"
#include "transport/flow.h"

namespace edge {

struct RegistrarOptions {
  uint32_t min_expires = 60;        // below it (and above 0): 423 with Min-Expires
  uint32_t max_expires = 3600;      // longer requests are shortened to it
  uint32_t default_expires = 3600;  // when neither the contact nor the request says
  size_t max_contacts = 10;         // per AOR; more is refused with 403
};

struct RegisterPlan {
  int status = 200;
  std::string reason;  // empty: the default phrase
  // Extra response headers: Min-Expires for 423; the bindings' Contact values for 200.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string aor;
  std::vector<Binding> next;         // the AOR's bindings after this request (200 only)
  std::vector<Binding> upserts;      // bindings added or refreshed
  std::vector<std::string> removed;  // contacts removed (explicitly or by `*`)
};

RegisterPlan planRegister(const sip::Message& request, const transport::Flow& flow,
                          const std::vector<Binding>& current, int64_t now,
                          const RegistrarOptions& options);

// The Contact header values a 200 OK lists: "<uri>;expires=N[;q=0.5]".
std::vector<std::string> contactValues(const std::vector<Binding>& bindings, int64_t now);

}  // namespace edge
