#include "app/admin.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/options.h"
#include "common/config.h"
#include "common/strings.h"
#include "sip/auth.h"
#include "store/store.h"

namespace {

constexpr const char* kUsage =
    "usage: switchboard admin [--config FILE] [--set KEY=VALUE ...] VERB\n"
    "  sip-user add --domain DOMAIN --user USER --password PASSWORD [--account SID]\n"
    "  sip-user list --domain DOMAIN\n"
    "  sip-user remove --domain DOMAIN --user USER\n";

int64_t nowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int usage(std::ostream& err, const std::string& why) {
  err << "switchboard admin: " << why << "\n" << kUsage;
  return 2;
}

nlohmann::json credentialJson(const store::SipCredential& c) {
  nlohmann::json j = {{"domain", c.domain},
                      {"username", c.username},
                      {"realm", c.domain},
                      {"algorithms", nlohmann::json::array()},
                      {"created_at", c.created_at}};
  if (!c.ha1_sha256.empty()) j["algorithms"].push_back("SHA-256");
  if (!c.ha1_md5.empty()) j["algorithms"].push_back("MD5");
  j["account_sid"] = c.account_sid ? nlohmann::json(*c.account_sid) : nlohmann::json(nullptr);
  return j;
}

int sipUser(store::Store& db, const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  auto need = [&](const char* name) -> const std::string* {
    auto it = o.values.find(name);
    if (it == o.values.end() || it->second.empty()) return nullptr;
    return &it->second;
  };
  const std::string* domain = need("--domain");
  if (!domain) return usage(err, "sip-user " + action + " needs --domain");
  std::string realm = common::toLower(*domain);
  if (action == "add") {
    const std::string* user = need("--user");
    const std::string* password = need("--password");
    if (!user || !password) return usage(err, "sip-user add needs --user and --password");
    store::SipCredential c;
    c.domain = realm;
    c.username = *user;
    // The realm of our challenges is the domain, so HA1 is computed with it; the password
    // itself is never stored.
    c.ha1_md5 = sip::computeHa1(sip::DigestAlgorithm::kMd5, *user, realm, *password);
    c.ha1_sha256 = sip::computeHa1(sip::DigestAlgorithm::kSha256, *user, realm, *password);
    if (const std::string* account = need("--account")) c.account_sid = *account;
    c.created_at = nowUnix();
    if (auto st = db.sipCredentials().upsert(c); !st) {
      err << "switchboard admin: " << st.error().reason << "\n";
      return 1;
    }
    auto saved = db.sipCredentials().find(realm, *user);
    if (!saved || !*saved) {
      err << "switchboard admin: the credentials were not found after saving\n";
      return 1;
    }
    out << credentialJson(**saved).dump() << "\n";
    return 0;
  }
  if (action == "list") {
    auto list = db.sipCredentials().list(realm);
    if (!list) {
      err << "switchboard admin: " << list.error().reason << "\n";
      return 1;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : *list) arr.push_back(credentialJson(c));
    out << arr.dump() << "\n";
    return 0;
  }
  if (action == "remove") {
    const std::string* user = need("--user");
    if (!user) return usage(err, "sip-user remove needs --user");
    auto removed = db.sipCredentials().remove(realm, *user);
    if (!removed) {
      err << "switchboard admin: " << removed.error().reason << "\n";
      return 1;
    }
    out << nlohmann::json{{"domain", realm}, {"username", *user}, {"removed", *removed}}.dump()
        << "\n";
    return *removed ? 0 : 1;
  }
  return usage(err, "unknown sip-user action '" + action + "'");
}

}  // namespace

int runAdmin(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto o = parseConfigOptions(args, {},
                              {"--domain", "--user", "--password", "--account", "--name",
                               "--number", "--voice-url", "--sms-url", "--role"});
  if (!o) return usage(err, o.error().reason);
  if (o->positional.empty()) return usage(err, "no verb");
  auto cfg = common::Config::load(o->config_file, o->overrides);
  if (!cfg) {
    err << "switchboard admin: " << cfg.error().reason << "\n";
    return 2;
  }
  const std::string& noun = o->positional[0];
  if (noun != "sip-user")
    return usage(err, "unknown verb '" + noun + "' (not yet: account, number, user)");
  auto db = store::Store::open(cfg->store().url);
  if (!db) {
    err << "switchboard admin: " << db.error().reason << "\n";
    return 1;
  }
  return sipUser(**db, *o, out, err);
}
