#include "app/admin.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "api/provisioning.h"
#include "api/secrets.h"
#include "api/twilio_format.h"
#include "api/webhook_client.h"
#include "api/webhook_target_policy.h"
#include "app/options.h"
#include "app/sip_domain_ownership.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/private_files.h"
#include "common/strings.h"
#include "sip/auth.h"
#include "store/store.h"

namespace {

constexpr const char* kUsage =
    "usage: switchboard admin [--config FILE] [--set KEY=VALUE ...] VERB\n"
    "  account create --name NAME [--parent SID]   prints sid and auth_token (shown once)\n"
    "  account show --account SID\n"
    "  account rotate-token --account SID   makes a new secondary auth token (replacing an\n"
    "              earlier secondary) and prints it once; the primary keeps working beside it\n"
    "  account rotate-token --account SID --promote   the secondary token becomes the primary\n"
    "              and is printed; the old primary stops (serve follows within 5 s); fails\n"
    "              when there is no secondary. Both are written to the account's audit log\n"
    "  account set --account SID [--sms-per-second N] [--dlr-level2 on|off] [--help-text T]\n"
    "              [--stop-text T] [--start-text T]   SMS settings (serve follows within 1 s)\n"
    "  number add --account SID --number E164 [--voice-url URL] [--sms-url URL]\n"
    "             [--sms-native-opt-out on|off]\n"
    "  number list --account SID\n"
    "  user add --account SID --email EMAIL --role owner|admin|developer|billing|read-only\n"
    "           prints the user and an API key (sid and secret, shown once)\n"
    "  sip-user add --domain DOMAIN --user USER --password PASSWORD [--account SID]\n"
    "              claims DOMAIN for the account (the operator without one); refused when\n"
    "              it belongs to someone else\n"
    "  sip-user list --domain DOMAIN\n"
    "  sip-user remove --domain DOMAIN --user USER\n"
    "  sip-domain list                owners of SIP domain names, and what others hold on them\n"
    "  sip-domain assign --domain DOMAIN (--operator | --account SID)\n"
    "  sip-domain release --domain DOMAIN   (only the owner's credentials authenticate at once)\n"
    "  sip-domain evict --domain DOMAIN     removes others' SIP Domains and credentials on it\n"
    "  trunk add --name NAME --gateways udp:IP:PORT[*WEIGHT],... [--algorithm round-robin|\n"
    "            weighted|hash] [--acl CIDR,...] [--probe-interval SECONDS]\n"
    "  trunk list\n"
    "  trunk remove --name NAME\n"
    "  route add (--prefix [+]DIGITS | --default) --trunk NAME [--stateless]\n"
    "  route list\n"
    "  route remove (--prefix [+]DIGITS | --default)\n"
    "  (trunks and routes take effect when serve starts)\n"
    "  sms-trunk add --name NAME --smpp HOST:PORT --system-id ID --password PASSWORD\n"
    "                [--system-type T] [--window N] [--max-per-second N] [--prefix +1,+44,...]\n"
    "  sms-trunk add --name NAME --sip SIP_TRUNK [--window N] [--prefix ...]   SIP MESSAGE\n"
    "  sms-trunk list\n"
    "  sms-trunk remove --name NAME\n"
    "  (SMS trunks take effect when serve starts)\n"
    "  sip-block list                 sources the flood guard has blocked, still in force\n"
    "  sip-block remove --source IP   lifts a block (the running server follows within 2 s)\n";

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

int sipUser(store::Store& db, const common::Config& cfg, const ConfigOptions& o, std::ostream& out,
            std::ostream& err) {
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
    if (auto claimed = claimForSipUser(db, cfg, realm, c.account_sid, c.created_at); !claimed) {
      err << "switchboard admin: " << claimed.error().reason << "\n";
      return 1;
    }
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

nlohmann::json trunkJson(const store::SipTrunk& t) {
  nlohmann::json gws = nlohmann::json::array();
  for (const auto& g : t.gateways) gws.push_back({{"uri", g.uri}, {"weight", g.weight}});
  return {{"name", t.name}, {"algorithm", t.algorithm},           {"gateways", gws},
          {"acl", t.acl},   {"probe_interval", t.probe_interval}, {"created_at", t.created_at}};
}

nlohmann::json routeJson(const store::SipRoute& r) {
  return {{"prefix", r.prefix},
          {"trunk", r.trunk},
          {"stateless", r.stateless},
          {"created_at", r.created_at}};
}

// The store's own checks (kInvalidArgument) are bad input: the usage, exit 2. Anything else
// (a missing trunk, the database) exits 1 with the reason.
int storeError(std::ostream& err, const common::Error& e) {
  if (e.code == common::ErrorCode::kInvalidArgument) return usage(err, e.reason);
  err << "switchboard admin: " << e.reason << "\n";
  return 1;
}

std::vector<std::string> commaList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = common::trimLws(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

int trunk(store::Store& db, const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  auto value = [&](const char* name) -> const std::string* {
    auto it = o.values.find(name);
    return it == o.values.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (action == "add") {
    const std::string* name = value("--name");
    const std::string* gateways = value("--gateways");
    if (!name || !gateways) return usage(err, "trunk add needs --name and --gateways");
    store::SipTrunk t;
    t.name = *name;
    if (const std::string* a = value("--algorithm")) t.algorithm = *a;
    for (const std::string& g : commaList(*gateways)) {
      store::SipGateway gw;
      gw.uri = g;
      if (auto star = g.rfind('*'); star != std::string::npos) {
        gw.uri = g.substr(0, star);
        auto w = common::parseUint(std::string_view(g).substr(star + 1), 1000);
        if (!w || *w < 1) return usage(err, "bad weight in '" + g + "'");
        gw.weight = uint32_t(*w);
      }
      t.gateways.push_back(std::move(gw));
    }
    if (const std::string* acl = value("--acl")) t.acl = commaList(*acl);
    if (const std::string* p = value("--probe-interval")) {
      auto v = common::parseUint(*p, 86400);
      if (!v) return usage(err, "bad --probe-interval '" + *p + "'");
      t.probe_interval = uint32_t(*v);
    }
    if (auto st = db.sipTrunks().upsertTrunk(t); !st) return storeError(err, st.error());
    auto saved = db.sipTrunks().findTrunk(t.name);
    if (!saved || !*saved) {
      err << "switchboard admin: the trunk was not found after saving\n";
      return 1;
    }
    out << trunkJson(**saved).dump() << "\n";
    return 0;
  }
  if (action == "list") {
    auto list = db.sipTrunks().listTrunks();
    if (!list) return storeError(err, list.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : *list) arr.push_back(trunkJson(t));
    out << arr.dump() << "\n";
    return 0;
  }
  if (action == "remove") {
    const std::string* name = value("--name");
    if (!name) return usage(err, "trunk remove needs --name");
    auto removed = db.sipTrunks().removeTrunk(*name);
    if (!removed) return storeError(err, removed.error());
    out << nlohmann::json{{"name", *name}, {"removed", *removed}}.dump() << "\n";
    return *removed ? 0 : 1;
  }
  return usage(err, "unknown trunk action '" + action + "'");
}

int route(store::Store& db, const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action == "list") {
    auto list = db.sipTrunks().listRoutes();
    if (!list) return storeError(err, list.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : *list) arr.push_back(routeJson(r));
    out << arr.dump() << "\n";
    return 0;
  }
  // The default route is the empty prefix: --default, or an explicitly empty --prefix.
  auto p = o.values.find("--prefix");
  bool is_default = o.flags.count("--default") > 0;
  if ((p == o.values.end()) == !is_default)
    return usage(err, "route " + action + " needs one of --prefix or --default");
  std::string prefix = is_default ? "" : p->second;
  if (action == "add") {
    auto t = o.values.find("--trunk");
    if (t == o.values.end() || t->second.empty()) return usage(err, "route add needs --trunk");
    store::SipRoute r{prefix, t->second, nowUnix(), o.flags.count("--stateless") > 0};
    if (auto st = db.sipTrunks().addRoute(r); !st) return storeError(err, st.error());
    // As stored: a re-pointed prefix keeps its first created_at.
    auto list = db.sipTrunks().listRoutes();
    if (!list) return storeError(err, list.error());
    for (const auto& saved : *list)
      if (saved.prefix == r.prefix) r = saved;
    out << routeJson(r).dump() << "\n";
    return 0;
  }
  if (action == "remove") {
    auto removed = db.sipTrunks().removeRoute(prefix);
    if (!removed) return storeError(err, removed.error());
    out << nlohmann::json{{"prefix", prefix}, {"removed", *removed}}.dump() << "\n";
    return *removed ? 0 : 1;
  }
  return usage(err, "unknown route action '" + action + "'");
}

int sipBlock(store::Store& db, const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action == "list") {
    auto list = db.sipBlocks().listActive(nowUnix());
    if (!list) return storeError(err, list.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& b : *list)
      arr.push_back({{"source", b.source},
                     {"blocked_at", b.blocked_at},
                     {"until", b.until},
                     {"requests", b.requests}});
    out << arr.dump() << "\n";
    return 0;
  }
  if (action == "remove") {
    auto it = o.values.find("--source");
    if (it == o.values.end() || it->second.empty())
      return usage(err, "sip-block remove needs --source");
    auto removed = db.sipBlocks().remove(it->second);
    if (!removed) return storeError(err, removed.error());
    out << nlohmann::json{{"source", it->second}, {"removed", *removed}}.dump() << "\n";
    return *removed ? 0 : 1;
  }
  return usage(err, "unknown sip-block action '" + action + "'");
}

nlohmann::json accountJson(const store::Account& a) {
  return {{"sid", a.sid},
          {"friendly_name", a.friendly_name},
          {"status", a.status},
          {"parent_sid", a.parent_sid ? nlohmann::json(*a.parent_sid) : nlohmann::json(nullptr)},
          {"balance", api::formatMillicents(a.balance_millicents)},
          {"currency", a.currency},
          {"date_created", api::rfc2822Date(a.created_at)}};
}

nlohmann::json numberJson(const store::PhoneNumber& n) {
  return {{"sid", n.sid},
          {"account_sid", n.account_sid},
          {"phone_number", n.phone_number},
          {"friendly_name", n.friendly_name},
          {"voice_url", n.voice_url},
          {"sms_url", n.sms_url},
          {"porting_status", n.porting_status},
          {"hosting", n.hosting},
          {"sms_native_opt_out", n.sms_native_opt_out},
          {"date_created", api::rfc2822Date(n.created_at)}};
}

const std::string* value(const ConfigOptions& o, const char* name) {
  auto it = o.values.find(name);
  if (it == o.values.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// Twilio's two steps of a rotation, as the API's /v1/AuthTokens offers them; each is audited
// in the account's log as the API request it stands for, with "admin" as principal and source.
int rotateToken(store::Store& db, api::Provisioning& prov, const ConfigOptions& o,
                std::ostream& out, std::ostream& err) {
  const std::string* sid = value(o, "--account");
  if (!sid) return usage(err, "account rotate-token needs --account");
  const bool promote = o.flags.count("--promote") > 0;
  const int64_t now = nowUnix();
  nlohmann::json j = {{"account_sid", *sid}};
  if (promote) {
    auto promoted = prov.promoteSecondaryToken(*sid, now);
    if (!promoted) return storeError(err, promoted.error());
    if (!*promoted) {
      err << "switchboard admin: account " << *sid
          << " does not exist or has no secondary auth token to promote (make one with "
             "account rotate-token --account SID)\n";
      return 1;
    }
    j["auth_token"] = prov.authToken(**promoted);
  } else {
    auto made = prov.createSecondaryToken(*sid, now);
    if (!made) return storeError(err, made.error());
    if (!*made) {
      err << "switchboard admin: no account " << *sid << "\n";
      return 1;
    }
    j["secondary_auth_token"] = (*made)->token;
  }
  store::AuditEntry e;
  e.at_ms = now * 1000;
  e.account_sid = *sid;
  e.principal = "admin";
  e.method = "POST";
  e.path = promote ? "/v1/AuthTokens/Promote" : "/v1/AuthTokens/Secondary";
  e.status = promote ? 200 : 201;
  e.source = "admin";
  if (auto st = db.auditLog().append({e}); !st) {
    err << "switchboard admin: the rotation was made but not audited: " << st.error().reason
        << "\n";
    out << j.dump() << "\n";
    return 1;
  }
  out << j.dump() << "\n";
  return 0;
}

int account(store::Store& db, api::Provisioning& prov, const ConfigOptions& o, std::ostream& out,
            std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action == "create") {
    const std::string* name = value(o, "--name");
    if (!name) return usage(err, "account create needs --name");
    std::optional<std::string> parent;
    if (const std::string* p = value(o, "--parent")) parent = *p;
    auto made = prov.createAccount(*name, parent, nowUnix());
    if (!made) return storeError(err, made.error());
    nlohmann::json j = accountJson(made->account);
    j["auth_token"] = made->auth_token;
    out << j.dump() << "\n";
    return 0;
  }
  if (action == "show") {
    const std::string* sid = value(o, "--account");
    if (!sid) return usage(err, "account show needs --account");
    auto found = db.accounts().find(*sid);
    if (!found) return storeError(err, found.error());
    if (!*found) {
      err << "switchboard admin: no account " << *sid << "\n";
      return 1;
    }
    out << accountJson(**found).dump() << "\n";
    return 0;
  }
  if (action == "rotate-token") return rotateToken(db, prov, o, out, err);
  if (action == "set") {
    const std::string* sid = value(o, "--account");
    if (!sid) return usage(err, "account set needs --account");
    auto settings = db.messagingSettings().account(*sid);
    if (!settings) return storeError(err, settings.error());
    if (const std::string* v = value(o, "--sms-per-second")) {
      auto n = common::parseUint(*v, 100000);
      if (!n || *n == 0)
        return usage(err, "--sms-per-second must be a whole number from 1 to 100000");
      settings->sms_per_second = int64_t(*n);
    }
    if (const std::string* v = value(o, "--dlr-level2")) {
      if (*v != "on" && *v != "off") return usage(err, "--dlr-level2 must be on or off");
      settings->dlr_level2 = *v == "on";
    }
    for (auto [flag, field] : {std::pair{"--help-text", &settings->help_text},
                               {"--stop-text", &settings->stop_text},
                               {"--start-text", &settings->start_text}})
      if (const std::string* v = value(o, flag)) *field = *v;
    settings->updated_at = nowUnix();
    if (auto st = db.messagingSettings().putAccount(*settings); !st)
      return storeError(err, st.error());
    out << nlohmann::json{{"account_sid", settings->account_sid},
                          {"sms_per_second", settings->sms_per_second},
                          {"dlr_level2", settings->dlr_level2},
                          {"help_text", settings->help_text},
                          {"stop_text", settings->stop_text},
                          {"start_text", settings->start_text}}
               .dump()
        << "\n";
    return 0;
  }
  return usage(err, "unknown account action '" + action + "'");
}

nlohmann::json smsTrunkJson(const store::SmsTrunk& t) {
  return {{"name", t.name},
          {"kind", t.kind},
          {"address", t.address},
          {"system_id", t.system_id},
          {"system_type", t.system_type},
          {"window", t.window},
          {"max_per_second", t.max_per_second},
          {"prefixes", t.prefixes}};
}

int smsTrunk(store::Store& db, const api::MasterKey& key, const ConfigOptions& o, std::ostream& out,
             std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action == "add") {
    const std::string* name = value(o, "--name");
    const std::string* smpp = value(o, "--smpp");
    const std::string* system_id = value(o, "--system-id");
    const std::string* password = value(o, "--password");
    const std::string* sip = value(o, "--sip");
    store::SmsTrunk t;
    if (sip) {
      if (!name || smpp) return usage(err, "sms-trunk add --sip needs --name and no --smpp");
      t.name = *name;
      t.kind = "sip";
      t.address = *sip;
    } else {
      if (!name || !smpp || !system_id || !password)
        return usage(err, "sms-trunk add needs --name, --smpp, --system-id and --password");
      if (!common::HostPort::parse(*smpp)) return usage(err, "--smpp must be HOST:PORT");
      t.name = *name;
      t.kind = "smpp";
      t.address = *smpp;
      t.system_id = *system_id;
      t.password_sealed = key.seal(*password, "sms-trunk:" + *name);
    }
    if (const std::string* v = value(o, "--system-type")) t.system_type = *v;
    if (const std::string* v = value(o, "--window")) {
      auto n = common::parseUint(*v, 1000);
      if (!n) return usage(err, "--window must be a whole number up to 1000");
      t.window = int64_t(*n);
    }
    if (const std::string* v = value(o, "--max-per-second")) {
      auto n = common::parseUint(*v, 1000000);
      if (!n) return usage(err, "--max-per-second must be a whole number");
      t.max_per_second = int64_t(*n);
    }
    if (const std::string* v = value(o, "--prefix")) t.prefixes = commaList(*v);
    t.created_at = nowUnix();
    if (auto st = db.messagingSettings().upsertTrunk(t); !st) return storeError(err, st.error());
    out << smsTrunkJson(t).dump() << "\n";
    return 0;
  }
  if (action == "list") {
    auto rows = db.messagingSettings().listTrunks();
    if (!rows) return storeError(err, rows.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : *rows) arr.push_back(smsTrunkJson(t));
    out << arr.dump() << "\n";
    return 0;
  }
  if (action == "remove") {
    const std::string* name = value(o, "--name");
    if (!name) return usage(err, "sms-trunk remove needs --name");
    auto gone = db.messagingSettings().removeTrunk(*name);
    if (!gone) return storeError(err, gone.error());
    if (!*gone) {
      err << "switchboard admin: no SMS trunk " << *name << "\n";
      return 1;
    }
    out << nlohmann::json{{"removed", *name}}.dump() << "\n";
    return 0;
  }
  return usage(err, "unknown sms-trunk action '" + action + "'");
}

// The operator is trusted: a local URL is stored, with a note when serve under this
// configuration would refuse to deliver to it (webhooks.allow).
int number(store::Store& db, const common::Config& cfg, const ConfigOptions& o, std::ostream& out,
           std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  const std::string* acc = value(o, "--account");
  if (action == "add") {
    const std::string* e164 = value(o, "--number");
    if (!acc || !e164) return usage(err, "number add needs --account and --number");
    if (!store::isE164(*e164)) return usage(err, "--number must be E.164 (+ then digits)");
    store::PhoneNumber n;
    n.sid = common::newSid("PN");
    n.account_sid = *acc;
    n.phone_number = n.friendly_name = *e164;
    for (auto [flag, field] : {std::pair{"--voice-url", &n.voice_url}, {"--sms-url", &n.sms_url}}) {
      if (const std::string* url = value(o, flag)) {
        if (!api::isWebhookUrl(*url))
          return usage(err, std::string(flag) + " must be an http(s) URL");
        auto policy = api::WebhookTargetPolicy::create(
            cfg.getList("webhooks.allow")
                .value_or(std::vector<std::string>{}));  // validated by Config
        if (auto why =
                policy ? policy->refusalForHost(api::parseWebhookUrl(*url)->host) : std::nullopt)
          err << "switchboard admin: note: " << flag << " " << *url << " is stored, but " << *why
              << ": serve refuses to deliver there unless webhooks.allow admits it\n";
        *field = *url;
      }
    }
    if (const std::string* v = value(o, "--sms-native-opt-out")) {
      if (*v != "on" && *v != "off") return usage(err, "--sms-native-opt-out must be on or off");
      n.sms_native_opt_out = *v == "on";
    }
    n.created_at = n.updated_at = nowUnix();
    auto made = db.phoneNumbers().create(n);
    if (!made) return storeError(err, made.error());
    if (!*made) {
      err << "switchboard admin: " << *e164 << " is already provisioned\n";
      return 1;
    }
    out << numberJson(n).dump() << "\n";
    return 0;
  }
  if (action == "list") {
    if (!acc) return usage(err, "number list needs --account");
    auto rows = db.phoneNumbers().list(*acc, {}, 0, 1000000);
    if (!rows) return storeError(err, rows.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& n : *rows) arr.push_back(numberJson(n));
    out << arr.dump() << "\n";
    return 0;
  }
  return usage(err, "unknown number action '" + action + "'");
}

int user(api::Provisioning& prov, const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& action = o.positional.size() > 1 ? o.positional[1] : "";
  if (action != "add") return usage(err, "unknown user action '" + action + "'");
  const std::string* acc = value(o, "--account");
  const std::string* email = value(o, "--email");
  const std::string* role = value(o, "--role");
  if (!acc || !email || !role) return usage(err, "user add needs --account, --email and --role");
  auto made = prov.createUser(*acc, *email, *role, nowUnix());
  if (!made) return storeError(err, made.error());
  const auto& [u, key] = *made;
  out << nlohmann::json{{"sid", u.sid},
                        {"account_sid", u.account_sid},
                        {"email", u.email},
                        {"role", u.role},
                        {"api_key", {{"sid", key.key.sid}, {"secret", key.secret}}}}
             .dump()
      << "\n";
  return 0;
}

}  // namespace

int runAdmin(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto o = parseConfigOptions(
      args, {"--default", "--stateless", "--operator", "--promote"},
      {"--domain",         "--user",      "--password",       "--account",
       "--name",           "--number",    "--voice-url",      "--sms-url",
       "--role",           "--gateways",  "--algorithm",      "--acl",
       "--probe-interval", "--prefix",    "--trunk",          "--source",
       "--parent",         "--email",     "--sms-per-second", "--dlr-level2",
       "--help-text",      "--stop-text", "--start-text",     "--sms-native-opt-out",
       "--smpp",           "--system-id", "--system-type",    "--window",
       "--max-per-second", "--sip"});
  if (!o) return usage(err, o.error().reason);
  if (o->positional.empty()) return usage(err, "no verb");
  auto cfg = common::Config::load(o->config_file, o->overrides);
  if (!cfg) {
    err << "switchboard admin: " << cfg.error().reason << "\n";
    return 2;
  }
  const std::string& noun = o->positional[0];
  if (noun != "sip-user" && noun != "sip-domain" && noun != "trunk" && noun != "route" &&
      noun != "sip-block" && noun != "account" && noun != "number" && noun != "user" &&
      noun != "sms-trunk")
    return usage(err, "unknown verb '" + noun + "'");
  // The data directory serve would refuse is refused here too, before the store opens.
  if (auto st = common::checkPrivate(cfg->dataDir(), "data directory"); !st) {
    err << "switchboard admin: " << st.error().reason << "\n";
    return 1;
  }
  auto db = store::Store::open(cfg->store().url);
  if (!db) {
    err << "switchboard admin: " << db.error().reason << "\n";
    return 1;
  }
  if (noun == "sip-domain") return sipDomainCommand(**db, *cfg, *o, out, err);
  if (noun == "trunk") return trunk(**db, *o, out, err);
  if (noun == "route") return route(**db, *o, out, err);
  if (noun == "sip-block") return sipBlock(**db, *o, out, err);
  if (noun == "number") return number(**db, *cfg, *o, out, err);
  if (noun == "account" || noun == "user" || noun == "sms-trunk") {
    auto key = api::MasterKey::load(cfg->masterKey(), cfg->dataDir());
    if (!key) {
      err << "switchboard admin: " << key.error().reason << "\n";
      return 1;
    }
    if (noun == "sms-trunk") return smsTrunk(**db, *key, *o, out, err);
    api::Provisioning prov(**db, *key);
    return noun == "account" ? account(**db, prov, *o, out, err) : user(prov, *o, out, err);
  }
  return sipUser(**db, *cfg, *o, out, err);
}
