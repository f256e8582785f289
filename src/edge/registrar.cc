#include "edge/registrar.h"

#include <algorithm>

#include "sip/uri.h"

namespace edge {
namespace {

RegisterPlan fail(int status, std::string reason = {}) {
  RegisterPlan p;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

bool sameContact(std::string_view a, std::string_view b) {
  if (a == b) return true;
  auto ua = sip::Uri::parse(a);
  auto ub = sip::Uri::parse(b);
  return ua && ub && sip::equivalent(*ua, *ub);
}

std::string qText(int q) {
  if (q >= 1000) return "1";
  std::string s = "0." + std::to_string(1000 + q).substr(1);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string stripQuotes(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

}  // namespace

RegisterPlan planRegister(const sip::Message& request, const transport::Flow& flow,
                          const std::vector<Binding>& current, int64_t now,
                          const RegistrarOptions& options) {
  const auto& to = request.to();
  if (!to) return fail(400, "Bad To");
  std::string aor = canonicalAor(to->uri);
  if (aor.empty()) return fail(404, "Not A Registrable Address");
  const auto& call_id = request.callId();
  const auto& cseq = request.cseq();
  if (!call_id || !cseq) return fail(400);

  std::optional<uint32_t> header_expires;
  if (request.headerCount(sip::HeaderId::kExpires) > 0) {
    auto e = request.expires();
    if (!e) return fail(400, "Bad Expires");
    header_expires = *e;
  }

  RegisterPlan plan;
  plan.aor = aor;
  std::vector<Binding> next = current;

  // A binding with the same Call-ID and a CSeq not above the stored one is an old request
  // arriving late: the whole update is refused (§10.3 step 7).
  auto outOfOrder = [&](const Binding& b) {
    return b.call_id == *call_id && cseq->number <= b.cseq;
  };

  if (request.headerCount(sip::HeaderId::kContact) > 0) {
    const auto& contacts = request.contacts();
    if (!contacts) return fail(400, "Bad Contact");
    if (contacts->star) {
      // "Contact: *" only alone and only with Expires: 0 (§10.2.2).
      if (!contacts->contacts.empty() || header_expires != 0u) return fail(400, "Bad Wildcard");
      for (const Binding& b : next) {
        if (outOfOrder(b)) return fail(500, "Out Of Order");
      }
      for (const Binding& b : next) plan.removed.push_back(b.contact);
      next.clear();
    } else {
      std::vector<std::string> path;
      if (request.headerCount(sip::HeaderId::kPath) > 0) {
        const auto& p = request.paths();
        if (!p) return fail(400, "Bad Path");
        for (const sip::NameAddr& n : *p) path.push_back("<" + std::string(n.uri.text()) + ">");
      }
      std::string user_agent(request.headerValue(sip::HeaderId::kUserAgent));
      for (const sip::NameAddr& c : contacts->contacts) {
        if (!c.uri.isSip() && c.uri.scheme() != sip::UriScheme::kOther)
          return fail(400, "Bad Contact URI");
        uint32_t expires = c.expires().value_or(header_expires.value_or(options.default_expires));
        if (expires > 0 && expires < options.min_expires) {
          RegisterPlan too_brief = fail(423);
          too_brief.headers.emplace_back("Min-Expires", std::to_string(options.min_expires));
          return too_brief;
        }
        expires = std::min(expires, options.max_expires);
        std::string contact(c.uri.text());
        auto it = std::find_if(next.begin(), next.end(),
                               [&](const Binding& b) { return sameContact(b.contact, contact); });
        if (it != next.end() && outOfOrder(*it)) return fail(500, "Out Of Order");
        if (expires == 0) {
          if (it != next.end()) {
            plan.removed.push_back(it->contact);
            next.erase(it);
          }
          continue;
        }
        Binding b;
        b.aor = aor;
        b.contact = contact;
        if (auto inst = c.params.find("+sip.instance")) b.instance_id = stripQuotes(*inst);
        if (auto reg = c.params.find("reg-id")) b.reg_id = std::string(*reg);
        b.call_id = std::string(*call_id);
        b.cseq = cseq->number;
        b.expires_at = now + int64_t(expires);
        b.q = c.qMillis().value_or(1000);
        b.path = path;
        b.flow = flow;
        b.user_agent = user_agent;
        b.updated_at = now;
        if (it != next.end()) {
          *it = b;
        } else {
          next.push_back(b);
        }
        plan.upserts.push_back(std::move(b));
      }
      if (next.size() > options.max_contacts) return fail(403, "Too Many Contacts");
    }
  }
  // A REGISTER without Contact is a query: the current bindings come back unchanged.
  for (const std::string& v : contactValues(next, now)) plan.headers.emplace_back("Contact", v);
  plan.next = std::move(next);
  return plan;
}

std::vector<std::string> contactValues(const std::vector<Binding>& bindings, int64_t now) {
  std::vector<std::string> out;
  for (const Binding& b : bindings) {
    if (b.expires_at <= now) continue;
    std::string v = "<" + b.contact + ">;expires=" + std::to_string(b.expires_at - now);
    if (b.q != 1000) v += ";q=" + qText(b.q);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace edge
