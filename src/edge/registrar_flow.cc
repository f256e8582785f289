// The registrar flow (RFC 3261 §10): a REGISTER, once authenticated, is applied to the
// location service and, when registrations persist, committed to the store before the 200.
#include "edge/edge.h"

#include "common/log.h"
#include "common/strings.h"
#include "edge/internal/worker_state.h"

namespace edge {

using transaction::ServerId;

void EdgeWorker::handleRegister(ServerId id, const sip::Message& request,
                                const transport::Flow& from) {
  (void)from;
  shared_.counters().registers.fetch_add(1, std::memory_order_relaxed);
  const auto& to = request.to();
  if (!to) return reject(id, 400, "Bad To");
  if (!shared_.options().auth_register) return finishRegister(id, "");
  std::string realm = common::toLower(to->uri.host());
  authenticate(id, request, false, realm,
               [this, id](const std::string& user) { finishRegister(id, user); });
}

void EdgeWorker::finishRegister(ServerId id, const std::string& auth_user) {
  const sip::Message* req = layer_->request(id);
  if (req == nullptr) return;
  const transport::Flow* from = layer_->responseFlow(id);
  // A user registers their own address-of-record only.
  if (!auth_user.empty() && req->to()->uri.user() != auth_user)
    return reject(id, 403, "Not Your Address");
  std::string aor = canonicalAor(req->to()->uri);
  int64_t t = now();
  RegisterPlan plan =
      planRegister(*req, from ? *from : transport::Flow(), shared_.location().lookup(aor, t), t,
                   shared_.options().registrar);
  if (plan.status != 200) return reject(id, plan.status, plan.reason, plan.headers);
  if (plan.upserts.empty() && plan.removed.empty()) {
    // A query: nothing to write. §10.3 step 8: the 200 carries the registrar's Date.
    shared_.counters().registers_ok.fetch_add(1, std::memory_order_relaxed);
    plan.headers.emplace_back("Date", sip::formatSipDate(t));
    return answer(id, 200, {}, plan.headers);
  }
  EdgeStore::Back back = backHere();
  auto shared_plan = std::make_shared<RegisterPlan>(std::move(plan));
  auto saved = [this, id, shared_plan](common::Status st) {
    if (!st) {
      shared_.counters().store_errors.fetch_add(1, std::memory_order_relaxed);
      SB_LOG(kWarn, "registrar: saving " + shared_plan->aor + " failed: " + st.error().reason);
      return reject(id, 500, "Binding Not Saved", {{"Retry-After", "5"}});
    }
    shared_.location().replace(shared_plan->aor, shared_plan->next);
    shared_.counters().registers_ok.fetch_add(1, std::memory_order_relaxed);
    // RFC 3327 §5.3: the Path the registrar stored goes back in the 200.
    std::vector<std::pair<std::string, std::string>> headers = shared_plan->headers;
    if (!shared_plan->upserts.empty()) {
      for (const std::string& p : shared_plan->upserts.front().path)
        headers.emplace_back("Path", p);
    }
    headers.emplace_back("Date", sip::formatSipDate(now()));  // §10.3 step 8
    answer(id, 200, {}, headers);
  };
  if (!shared_.options().persist_registrations) return saved({});
  shared_.store().saveRegistration(*shared_plan, back, std::move(saved));
}

}  // namespace edge
