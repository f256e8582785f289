#include "app/sip_domain_ownership.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/log.h"
#include "common/strings.h"

namespace {

constexpr const char* kUsage =
    "  sip-domain list\n"
    "  sip-domain assign --domain DOMAIN (--operator | --account SID)\n"
    "  sip-domain release --domain DOMAIN\n"
    "  sip-domain evict --domain DOMAIN   removes what others hold on the owner's name\n";

std::string ownerName(const std::optional<std::string>& account_sid) {
  return account_sid ? "account " + *account_sid : std::string("the operator");
}

nlohmann::json accountOrNull(const std::optional<std::string>& account_sid) {
  return account_sid ? nlohmann::json(*account_sid) : nlohmann::json(nullptr);
}

bool configured(const common::Config& config, const std::string& domain) {
  auto names = configuredSipDomains(config);
  return std::find(names.begin(), names.end(), domain) != names.end();
}

int usage(std::ostream& err, const std::string& why) {
  err << "switchboard admin: " << why << "\n" << kUsage;
  return 2;
}

int failed(std::ostream& err, const std::string& why) {
  err << "switchboard admin: " << why << "\n";
  return 1;
}

const std::string* value(const ConfigOptions& o, const char* name) {
  auto it = o.values.find(name);
  return it == o.values.end() || it->second.empty() ? nullptr : &it->second;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int list(store::Store& store, const common::Config& config, std::ostream& out, std::ostream& err) {
  auto owners = store.sipDomainOwners().list();
  if (!owners) return failed(err, owners.error().reason);
  auto strays = store.sipDomainOwners().strays();
  if (!strays) return failed(err, strays.error().reason);
  // One entry per name: owned ones, configured ones not claimed yet (serve claims them when
  // it starts), and names nobody owns that still hold something.
  std::map<std::string, nlohmann::json> names;
  for (const store::SipDomainOwner& o : *owners)
    names[o.domain] = {{"domain", o.domain},
                       {"owner", o.account_sid ? "account" : "operator"},
                       {"account_sid", accountOrNull(o.account_sid)},
                       {"claimed_by", o.claimed_by},
                       {"claimed_at", o.claimed_at}};
  for (const std::string& d : configuredSipDomains(config))
    if (!names.count(d))
      names[d] = {{"domain", d},
                  {"owner", "operator"},
                  {"account_sid", nullptr},
                  {"claimed_by", "config"},
                  {"claimed_at", nullptr}};
  for (const store::SipDomainStray& s : *strays)
    if (!names.count(s.domain))
      names[s.domain] = {{"domain", s.domain},
                         {"owner", nullptr},
                         {"account_sid", nullptr},
                         {"claimed_by", nullptr},
                         {"claimed_at", nullptr}};
  for (auto& [d, j] : names) {
    j["in_config"] = configured(config, d);
    j["not_the_owners"] = nlohmann::json::array();
  }
  for (const store::SipDomainStray& s : *strays) {
    nlohmann::json held = {{"holder", s.holder ? "account" : "operator"},
                           {"account_sid", accountOrNull(s.holder)},
                           {"credentials", s.credentials},
                           {"sip_domain_sid", accountOrNull(s.sip_domain)}};
    names[s.domain]["not_the_owners"].push_back(std::move(held));
  }
  nlohmann::json arr = nlohmann::json::array();
  for (auto& [d, j] : names) arr.push_back(std::move(j));
  out << arr.dump() << "\n";
  return 0;
}

int assign(store::Store& store, const common::Config& config, const ConfigOptions& o,
           const std::string& domain, std::ostream& out, std::ostream& err) {
  const std::string* account = value(o, "--account");
  const bool to_operator = o.flags.count("--operator") > 0;
  if (to_operator == (account != nullptr))
    return usage(err, "sip-domain assign needs one of --operator or --account");
  std::optional<std::string> owner;
  if (account) {
    if (configured(config, domain))
      return failed(err, "the SIP domain " + domain +
                             " is in sip.domains or sip.redirect_domains: it is the operator's "
                             "while the configuration names it");
    auto found = store.accounts().find(*account);
    if (!found) return failed(err, found.error().reason);
    if (!*found) return failed(err, "no account " + *account);
    owner = *account;
  }
  auto previous = store.sipDomainOwners().assign(domain, owner, "admin", unixNow());
  if (!previous) {
    if (previous.error().code == common::ErrorCode::kInvalidArgument)
      return usage(err, previous.error().reason);
    return failed(err, previous.error().reason);
  }
  nlohmann::json j = {{"domain", domain},
                      {"owner", owner ? "account" : "operator"},
                      {"account_sid", accountOrNull(owner)}};
  if (*previous)
    j["previous"] = {{"owner", (*previous)->account_sid ? "account" : "operator"},
                     {"account_sid", accountOrNull((*previous)->account_sid)}};
  else
    j["previous"] = nullptr;
  out << j.dump() << "\n";
  return 0;
}

// Removes what sits on an owned name without being its owner's: other accounts' API SIP
// Domains (with their mappings and derived credentials) and credential rows of anyone but the
// owner. Afterwards the owner can create its own API SIP Domain on the name.
int evict(store::Store& store, const std::string& domain, std::ostream& out, std::ostream& err) {
  auto owner = store.sipDomainOwners().find(domain);
  if (!owner) return failed(err, owner.error().reason);
  if (!*owner)
    return failed(
        err, "the SIP domain " + domain + " has no owner; `sip-domain assign` gives it one first");
  auto strays = store.sipDomainOwners().strays();
  if (!strays) return failed(err, strays.error().reason);
  nlohmann::json removed = nlohmann::json::array();
  for (const store::SipDomainStray& s : *strays) {
    if (s.domain != domain || !s.sip_domain || !s.holder) continue;
    auto gone = store.sipAuthLists().removeDomain(*s.holder, *s.sip_domain);
    if (!gone) return failed(err, gone.error().reason);
    if (*gone) removed.push_back({{"sip_domain_sid", *s.sip_domain}, {"account_sid", *s.holder}});
  }
  auto creds = store.sipCredentials().list(domain);
  if (!creds) return failed(err, creds.error().reason);
  for (const store::SipCredential& c : *creds) {
    if (c.account_sid == (*owner)->account_sid) continue;
    auto gone = store.sipCredentials().remove(domain, c.username);
    if (!gone) return failed(err, gone.error().reason);
    if (*gone)
      removed.push_back(
          {{"credential", c.username}, {"account_sid", accountOrNull(c.account_sid)}});
  }
  out << nlohmann::json{{"domain", domain},
                        {"owner", (*owner)->account_sid ? "account" : "operator"},
                        {"account_sid", accountOrNull((*owner)->account_sid)},
                        {"removed", std::move(removed)}}
             .dump()
      << "\n";
  return 0;
}

}  // namespace

std::vector<std::string> configuredSipDomains(const common::Config& config) {
  std::vector<std::string> out;
  for (const auto* list : {&config.sip().domains, &config.sip().redirect_domains})
    for (const std::string& d : *list) {
      std::string name = common::toLower(d);
      if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(std::move(name));
    }
  return out;
}

common::Status claimConfiguredDomains(const common::Config& config, store::Store& store,
                                      int64_t now) {
  store::SipDomainOwners& owners = store.sipDomainOwners();
  for (const std::string& d : configuredSipDomains(config)) {
    auto got = owners.claim(d, std::nullopt, "config", now);
    if (!got) return got.error();
    if (*got != store::ClaimOutcome::kTaken) continue;
    auto previous = owners.assign(d, std::nullopt, "config", now);
    if (!previous) return previous.error();
    SB_LOG(kWarn, "sip domains: " + d + " is configured (sip.domains or sip.redirect_domains) " +
                      "but was " + ownerName(*previous ? (*previous)->account_sid : std::nullopt) +
                      "'s in the store; it is the operator's now");
  }
  auto strays = owners.strays();
  if (!strays) return strays.error();
  if (strays->empty()) return {};
  std::string names;
  std::string last;
  for (const store::SipDomainStray& s : *strays) {
    if (s.domain == last) continue;
    last = s.domain;
    names += (names.empty() ? "" : ", ") + s.domain;
  }
  SB_LOG(kWarn,
         "sip domains: credentials or SIP Domains that are not the name owner's, which "
         "no longer authenticate, on: " +
             names + " (see `switchboard admin sip-domain list`)");
  return {};
}

common::Status claimForSipUser(store::Store& store, const common::Config& config,
                               const std::string& domain,
                               const std::optional<std::string>& account_sid, int64_t now) {
  const std::string name = common::toLower(domain);
  if (account_sid && configured(config, name))
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "the SIP domain " + name +
                                 " belongs to the operator (sip.domains or sip.redirect_domains); "
                                 "add the user without --account, or use a name of its own");
  auto got = store.sipDomainOwners().claim(name, account_sid, "admin", now);
  if (!got) return got.error();
  if (*got != store::ClaimOutcome::kTaken) return {};
  auto owner = store.sipDomainOwners().find(name);
  std::string who = "someone else";
  if (owner && *owner) who = ownerName((*owner)->account_sid);
  return common::makeError(common::ErrorCode::kInvalidArgument,
                           "the SIP domain " + name + " belongs to " + who + ", not to " +
                               ownerName(account_sid) +
                               " (`switchboard admin sip-domain assign` changes its owner)");
}

int sipDomainCommand(store::Store& store, const common::Config& config, const ConfigOptions& o,
                     std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action == "list") return list(store, config, out, err);
  if (action != "assign" && action != "release" && action != "evict")
    return usage(err, "unknown sip-domain action '" + action + "'");
  const std::string* domain = value(o, "--domain");
  if (!domain) return usage(err, "sip-domain " + action + " needs --domain");
  const std::string name = common::toLower(*domain);
  if (action == "assign") return assign(store, config, o, name, out, err);
  if (action == "evict") return evict(store, name, out, err);
  if (configured(config, name))
    return failed(err, "the SIP domain " + name +
                           " is in sip.domains or sip.redirect_domains: it stays the operator's "
                           "while the configuration names it");
  auto released = store.sipDomainOwners().release(name);
  if (!released) return failed(err, released.error().reason);
  out << nlohmann::json{{"domain", name}, {"released", *released}}.dump() << "\n";
  return *released ? 0 : 1;
}
