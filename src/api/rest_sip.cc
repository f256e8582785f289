// SIP Domains and Credential Lists as Twilio shapes them (rest_context.h), under
// /2010-04-01/Accounts/{AC}/SIP/:
//   Domains.json, Domains/{SD}.json, Domains/{SD}/CredentialListMappings[/{CL}].json (also as
//   Domains/{SD}/Auth/Calls/... and .../Auth/Registrations/..., the same mappings: the edge
//   asks one credential for calls and registrations alike),
//   CredentialLists.json, CredentialLists/{CL}.json, CredentialLists/{CL}/Credentials[/{CR}].json
// The store derives the edge's digest credentials from them in each change's transaction,
// with the HA1s computed here (deriver()) from the password sealed under the master key.
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/form.h"
#include "api/internal/rest_context.h"
#include "api/json_writer.h"
#include "api/twilio_format.h"
#include "common/ids.h"
#include "sip/auth.h"
#include "store/sip_auth_lists.h"

namespace api::internal {

namespace {

constexpr size_t kMaxUsername = 32;  // Twilio's limit
constexpr size_t kMaxPassword = 128;

// The path's segments with ".json" taken off the last; empty when it does not end so.
std::vector<std::string_view> segments(std::string_view rest) {
  constexpr std::string_view kJson = ".json";
  if (rest.size() <= kJson.size() || rest.substr(rest.size() - kJson.size()) != kJson) return {};
  rest.remove_suffix(kJson.size());
  std::vector<std::string_view> out;
  while (true) {
    size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (std::string_view s : out)
    if (s.empty()) return {};
  return out;
}

// Twilio's rule: at least 12 characters with an upper-case letter, a lower-case letter and a
// digit.
std::optional<std::string> passwordProblem(std::string_view p) {
  bool upper = false, lower = false, digit = false;
  for (char ch : p) {
    upper = upper || (ch >= 'A' && ch <= 'Z');
    lower = lower || (ch >= 'a' && ch <= 'z');
    digit = digit || (ch >= '0' && ch <= '9');
  }
  if (p.size() < 12 || !upper || !lower || !digit)
    return "Password must be at least 12 characters long and contain an upper-case letter, a "
           "lower-case letter and a digit";
  if (p.size() > kMaxPassword)
    return "Password must be at most " + std::to_string(kMaxPassword) + " characters long";
  return std::nullopt;
}

// A SIP user part that needs no escaping in a URI nor in the digest's quoted username.
bool isUsername(std::string_view u) {
  if (u.empty() || u.size() > kMaxUsername) return false;
  for (char ch : u) {
    const bool alnum =
        (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (!alnum && std::string_view("-_.!~*'()&=+$,;").find(ch) == std::string_view::npos)
      return false;
  }
  return true;
}

// Opens the sealed password (bound to the credential's SID) and hashes it for the realm.
store::SipAuthLists::Deriver deriver(const MasterKey& key) {
  return [&key](std::string_view domain, std::string_view realm,
                const store::ListCredential& cr) -> common::Result<store::SipCredential> {
    auto password = key.open(cr.password_sealed, cr.sid);
    if (!password)
      return common::makeError(common::ErrorCode::kInternal,
                               "sip credential " + cr.sid + ": " + password.error().reason);
    store::SipCredential out;
    out.domain = std::string(domain);
    out.username = cr.username;
    out.ha1_md5 = sip::computeHa1(sip::DigestAlgorithm::kMd5, cr.username, realm, *password);
    out.ha1_sha256 = sip::computeHa1(sip::DigestAlgorithm::kSha256, cr.username, realm, *password);
    if (out.ha1_md5.empty() && out.ha1_sha256.empty())
      return common::makeError(common::ErrorCode::kInternal,
                               "sip credential " + cr.sid + ": no digest algorithm available");
    return out;
  };
}

// Which of the three paths a mapping was reached by: its own URI and page key follow it.
enum class MappingPath { kLegacy, kAuthCalls, kAuthRegistrations };

class SipResources {
 public:
  SipResources(store::Store& store, const MasterKey& key, Ctx& c)
      : repo_(store.sipAuthLists()), key_(key), derive_(deriver(key)), c_(c) {}

  HttpReply route(std::string_view rest) {
    const bool get = c_.req.method == "GET";
    if (auto denied = need(c_, get ? Permission::kSipRead : Permission::kSipWrite)) return *denied;
    auto seg = segments(rest);
    const size_t n = seg.size();
    if (n == 0) return notFound(c_.req.path());
    if (seg[0] == "Domains") {
      if (n == 1) return domains();
      if (!store::isSid(seg[1], "SD")) return notFound(c_.req.path());
      if (n == 2) return domain(seg[1]);
      if (seg[2] == "CredentialListMappings" && n <= 4)
        return mappings(seg[1], n == 4 ? seg[3] : "", MappingPath::kLegacy);
      if (seg[2] == "Auth" && (n == 5 || n == 6) && seg[4] == "CredentialListMappings") {
        if (seg[3] == "Calls")
          return mappings(seg[1], n == 6 ? seg[5] : "", MappingPath::kAuthCalls);
        if (seg[3] == "Registrations")
          return mappings(seg[1], n == 6 ? seg[5] : "", MappingPath::kAuthRegistrations);
      }
      return notFound(c_.req.path());
    }
    if (seg[0] == "CredentialLists") {
      if (n == 1) return lists();
      if (!store::isSid(seg[1], "CL")) return notFound(c_.req.path());
      if (n == 2) return list(seg[1]);
      if (seg[2] == "Credentials" && n <= 4) return credentials(seg[1], n == 4 ? seg[3] : "");
    }
    return notFound(c_.req.path());
  }

 private:
  // --- JSON ------------------------------------------------------------------------------

  std::string domainUri(std::string_view sid) const {
    return c_.base + "/SIP/Domains/" + std::string(sid);
  }
  std::string listUri(std::string_view sid) const {
    return c_.base + "/SIP/CredentialLists/" + std::string(sid);
  }
  std::string mappingsUri(std::string_view domain_sid, MappingPath path) const {
    switch (path) {
      case MappingPath::kAuthCalls:
        return domainUri(domain_sid) + "/Auth/Calls/CredentialListMappings";
      case MappingPath::kAuthRegistrations:
        return domainUri(domain_sid) + "/Auth/Registrations/CredentialListMappings";
      case MappingPath::kLegacy:
        break;
    }
    return domainUri(domain_sid) + "/CredentialListMappings";
  }

  void writeDomain(JsonWriter& w, const store::ApiSipDomain& d) const {
    const std::string uri = domainUri(d.sid);
    w.beginObject();
    w.key("sid").string(d.sid);
    w.key("account_sid").string(d.account_sid);
    w.key("api_version").string(kApiVersion);
    w.key("auth_type").string(d.credential_lists > 0 ? "CREDENTIAL_LIST" : "");
    w.key("date_created").string(rfc2822Date(d.created_at));
    w.key("date_updated").string(rfc2822Date(d.updated_at));
    w.key("domain_name").string(d.domain_name);
    w.key("friendly_name").string(d.friendly_name);
    w.key("voice_url").stringOrNull(d.voice_url);
    w.key("voice_method").string(d.voice_method);
    w.key("voice_fallback_url").stringOrNull(d.voice_fallback_url);
    w.key("voice_fallback_method").string(d.voice_fallback_method);
    w.key("voice_status_callback_url").stringOrNull(d.voice_status_callback_url);
    w.key("voice_status_callback_method").string(d.voice_status_callback_method);
    w.key("sip_registration").boolean(d.sip_registration);
    w.key("emergency_calling_enabled").boolean(false);
    w.key("secure").boolean(false);
    w.key("byoc_trunk_sid").null();
    w.key("emergency_caller_sid").null();
    w.key("uri").string(uri + ".json");
    w.key("subresource_uris").beginObject();
    w.key("credential_list_mappings").string(uri + "/CredentialListMappings.json");
    w.endObject();
    w.endObject();
  }

  void writeList(JsonWriter& w, const store::CredentialList& l) const {
    const std::string uri = listUri(l.sid);
    w.beginObject();
    w.key("sid").string(l.sid);
    w.key("account_sid").string(l.account_sid);
    w.key("friendly_name").string(l.friendly_name);
    w.key("date_created").string(rfc2822Date(l.created_at));
    w.key("date_updated").string(rfc2822Date(l.updated_at));
    w.key("uri").string(uri + ".json");
    w.key("subresource_uris").beginObject();
    w.key("credentials").string(uri + "/Credentials.json");
    w.endObject();
    w.endObject();
  }

  // The password is never shown, not even on create.
  void writeCredential(JsonWriter& w, const store::ListCredential& cr) const {
    w.beginObject();
    w.key("sid").string(cr.sid);
    w.key("account_sid").string(cr.account_sid);
    w.key("credential_list_sid").string(cr.list_sid);
    w.key("username").string(cr.username);
    w.key("date_created").string(rfc2822Date(cr.created_at));
    w.key("date_updated").string(rfc2822Date(cr.updated_at));
    w.key("uri").string(listUri(cr.list_sid) + "/Credentials/" + cr.sid + ".json");
    w.endObject();
  }

  void writeMapping(JsonWriter& w, const store::DomainListMapping& m, MappingPath path) const {
    w.beginObject();
    w.key("sid").string(m.list_sid);
    w.key("account_sid").string(m.account_sid);
    w.key("domain_sid").string(m.domain_sid);
    w.key("friendly_name").string(m.friendly_name);
    w.key("date_created").string(rfc2822Date(m.created_at));
    w.key("date_updated").string(rfc2822Date(m.created_at));
    w.key("uri").string(mappingsUri(m.domain_sid, path) + "/" + m.list_sid + ".json");
    w.endObject();
  }

  // A page of `fetch(offset, limit)`'s rows (asked for one more, to know whether more follow).
  template <typename Fetch, typename Write>
  HttpReply page(const std::string& list_path, std::string_view key, Fetch fetch, Write write) {
    ApiError err;
    auto p = parsePaging(c_.params, {}, &err);
    if (!p) return errorReply(err);
    return listReply(fetch(p->offset(), p->page_size + 1), *p, list_path, key, write);
  }

  template <typename T, typename Write>
  HttpReply reply(int status, const T& value, Write write) {
    JsonWriter w;
    write(w, value);
    return jsonReply(status, w.take());
  }

  HttpReply failed(const common::Error& e) {
    if (e.code == common::ErrorCode::kInvalidArgument) return badParam(e.reason);
    return storeFailed(e);
  }

  // --- Domains -----------------------------------------------------------------------

  std::optional<HttpReply> applyDomain(store::ApiSipDomain& d) {
    if (auto name = param(c_, "DomainName")) {
      std::string lower = *name;
      for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      if (!store::isSipDomainName(lower))
        return badParam("DomainName '" + *name +
                        "' is not a valid DNS host name (labels of letters, digits and '-', "
                        "at least two, at most 253 characters)");
      d.domain_name = lower;
    }
    if (auto e = nameParam(c_, &d.friendly_name)) return e;
    for (auto [name, field] : {std::pair{"VoiceUrl", &d.voice_url},
                               {"VoiceFallbackUrl", &d.voice_fallback_url},
                               {"VoiceStatusCallbackUrl", &d.voice_status_callback_url}})
      if (auto e = urlParam(c_, name, field)) return e;
    for (auto [name, field] : {std::pair{"VoiceMethod", &d.voice_method},
                               {"VoiceFallbackMethod", &d.voice_fallback_method},
                               {"VoiceStatusCallbackMethod", &d.voice_status_callback_method}})
      if (auto e = methodParam(c_, name, field)) return e;
    if (auto e = boolParam(c_, "SipRegistration", &d.sip_registration)) return e;
    d.updated_at = c_.now;
    return std::nullopt;
  }

  static const std::vector<std::string_view>& domainParams() {
    static const std::vector<std::string_view> kParams = {"DomainName",
                                                          "FriendlyName",
                                                          "VoiceUrl",
                                                          "VoiceMethod",
                                                          "VoiceFallbackUrl",
                                                          "VoiceFallbackMethod",
                                                          "VoiceStatusCallbackUrl",
                                                          "VoiceStatusCallbackMethod",
                                                          "SipRegistration"};
    return kParams;
  }

  // Whoever holds the name (the operator, another account, or this account's other domain),
  // the answer is the same, so it tells nothing about who that is. 21231 is Twilio's "Domain
  // Validation Error" for a create or update of a SIP domain.
  HttpReply nameTaken(std::string_view name) {
    return errorReply(400, 21231, "DomainName " + std::string(name) + " is not available");
  }

  HttpReply domains() {
    auto write = [this](JsonWriter& w, const store::ApiSipDomain& d) { writeDomain(w, d); };
    if (c_.req.method == "GET")
      return page(
          c_.base + "/SIP/Domains.json", "domains",
          [&](int64_t offset, int64_t limit) {
            return repo_.listDomains(c_.account.sid, offset, limit);
          },
          write);
    if (c_.req.method != "POST") return methodNotAllowed("GET, POST");
    if (auto e = onlyParams(c_, domainParams())) return *e;
    if (!param(c_, "DomainName")) return badParam("DomainName is required");
    store::ApiSipDomain d;
    d.sid = common::newSid("SD");
    d.account_sid = c_.account.sid;
    d.created_at = c_.now;
    if (auto e = applyDomain(d)) return *e;
    if (d.friendly_name.empty()) d.friendly_name = d.domain_name;
    auto made = repo_.createDomain(d);
    if (!made) return failed(made.error());
    if (*made == store::SipAuthOutcome::kTaken) return nameTaken(d.domain_name);
    return reply(201, d, write);
  }

  HttpReply domain(std::string_view sid) {
    auto write = [this](JsonWriter& w, const store::ApiSipDomain& d) { writeDomain(w, d); };
    auto found = repo_.findDomain(c_.account.sid, sid);
    if (!found) return storeFailed(found.error());
    if (!*found) return notFound(c_.req.path());
    store::ApiSipDomain d = std::move(**found);
    if (c_.req.method == "GET") {
      if (auto e = onlyParams(c_, {})) return *e;
      return reply(200, d, write);
    }
    if (c_.req.method == "DELETE") {
      if (auto e = onlyParams(c_, {})) return *e;
      auto gone = repo_.removeDomain(c_.account.sid, sid);
      if (!gone) return storeFailed(gone.error());
      if (!*gone) return notFound(c_.req.path());
      return noContent();
    }
    if (c_.req.method != "POST") return methodNotAllowed("GET, POST, DELETE");
    if (auto e = onlyParams(c_, domainParams())) return *e;
    if (auto e = applyDomain(d)) return *e;
    auto updated = repo_.updateDomain(d, derive_);
    if (!updated) return failed(updated.error());
    if (*updated == store::SipAuthOutcome::kNotFound) return notFound(c_.req.path());
    if (*updated == store::SipAuthOutcome::kTaken) return nameTaken(d.domain_name);
    return reply(200, d, write);
  }

  // --- Credential lists ----------------------------------------------------------------

  HttpReply lists() {
    auto write = [this](JsonWriter& w, const store::CredentialList& l) { writeList(w, l); };
    if (c_.req.method == "GET")
      return page(
          c_.base + "/SIP/CredentialLists.json", "credential_lists",
          [&](int64_t offset, int64_t limit) {
            return repo_.listLists(c_.account.sid, offset, limit);
          },
          write);
    if (c_.req.method != "POST") return methodNotAllowed("GET, POST");
    if (auto e = onlyParams(c_, {"FriendlyName"})) return *e;
    store::CredentialList l;
    if (auto e = nameParam(c_, &l.friendly_name)) return *e;
    if (l.friendly_name.empty()) return badParam("FriendlyName is required");
    l.sid = common::newSid("CL");
    l.account_sid = c_.account.sid;
    l.created_at = l.updated_at = c_.now;
    if (auto st = repo_.createList(l); !st) return failed(st.error());
    return reply(201, l, write);
  }

  HttpReply list(std::string_view sid) {
    auto write = [this](JsonWriter& w, const store::CredentialList& l) { writeList(w, l); };
    auto found = repo_.findList(c_.account.sid, sid);
    if (!found) return storeFailed(found.error());
    if (!*found) return notFound(c_.req.path());
    store::CredentialList l = std::move(**found);
    if (c_.req.method == "GET") {
      if (auto e = onlyParams(c_, {})) return *e;
      return reply(200, l, write);
    }
    if (c_.req.method == "DELETE") {
      if (auto e = onlyParams(c_, {})) return *e;
      auto gone = repo_.removeList(c_.account.sid, sid, derive_);
      if (!gone) return storeFailed(gone.error());
      if (!*gone) return notFound(c_.req.path());
      return noContent();
    }
    if (c_.req.method != "POST") return methodNotAllowed("GET, POST, DELETE");
    if (auto e = onlyParams(c_, {"FriendlyName"})) return *e;
    if (auto e = nameParam(c_, &l.friendly_name)) return *e;
    if (l.friendly_name.empty()) return badParam("FriendlyName is required");
    l.updated_at = c_.now;
    auto renamed = repo_.renameList(c_.account.sid, sid, l.friendly_name, l.updated_at);
    if (!renamed) return storeFailed(renamed.error());
    if (!*renamed) return notFound(c_.req.path());
    return reply(200, l, write);
  }

  // --- Credentials ---------------------------------------------------------------------

  HttpReply credentials(std::string_view list_sid, std::string_view sid) {
    auto write = [this](JsonWriter& w, const store::ListCredential& cr) { writeCredential(w, cr); };
    auto owner = repo_.findList(c_.account.sid, list_sid);
    if (!owner) return storeFailed(owner.error());
    if (!*owner) return notFound(c_.req.path());
    if (sid.empty()) {
      if (c_.req.method == "GET")
        return page(
            listUri(list_sid) + "/Credentials.json", "credentials",
            [&](int64_t offset, int64_t limit) {
              return repo_.listCredentials(c_.account.sid, list_sid, offset, limit);
            },
            write);
      if (c_.req.method != "POST") return methodNotAllowed("GET, POST");
      if (auto e = onlyParams(c_, {"Username", "Password"})) return *e;
      auto username = param(c_, "Username");
      auto password = param(c_, "Password");
      if (!username) return badParam("Username is required");
      if (!password) return badParam("Password is required");
      if (!isUsername(*username))
        return badParam("Username must be 1 to " + std::to_string(kMaxUsername) +
                        " letters, digits or -_.!~*'()&=+$,;");
      if (auto problem = passwordProblem(*password)) return badParam(*problem);
      store::ListCredential cr;
      cr.sid = common::newSid("CR");
      cr.account_sid = c_.account.sid;
      cr.list_sid = std::string(list_sid);
      cr.username = *username;
      cr.password_sealed = key().seal(*password, cr.sid);
      cr.created_at = cr.updated_at = c_.now;
      auto made = repo_.createCredential(cr, derive_);
      if (!made) return failed(made.error());
      if (*made == store::SipAuthOutcome::kNotFound) return notFound(c_.req.path());
      if (*made == store::SipAuthOutcome::kTaken)
        return badParam("The username " + cr.username + " is already in this credential list");
      return reply(201, cr, write);
    }
    if (!store::isSid(sid, "CR")) return notFound(c_.req.path());
    auto found = repo_.findCredential(c_.account.sid, list_sid, sid);
    if (!found) return storeFailed(found.error());
    if (!*found) return notFound(c_.req.path());
    store::ListCredential cr = std::move(**found);
    if (c_.req.method == "GET") {
      if (auto e = onlyParams(c_, {})) return *e;
      return reply(200, cr, write);
    }
    if (c_.req.method == "DELETE") {
      if (auto e = onlyParams(c_, {})) return *e;
      auto gone = repo_.removeCredential(c_.account.sid, list_sid, sid, derive_);
      if (!gone) return failed(gone.error());
      if (!*gone) return notFound(c_.req.path());
      return noContent();
    }
    if (c_.req.method != "POST") return methodNotAllowed("GET, POST, DELETE");
    if (auto e = onlyParams(c_, {"Password"})) return *e;
    auto password = param(c_, "Password");
    if (!password) return badParam("Password is required");
    if (auto problem = passwordProblem(*password)) return badParam(*problem);
    cr.password_sealed = key().seal(*password, cr.sid);
    cr.updated_at = c_.now;
    auto updated = repo_.updatePassword(c_.account.sid, list_sid, sid, cr.password_sealed,
                                        cr.updated_at, derive_);
    if (!updated) return failed(updated.error());
    if (!*updated) return notFound(c_.req.path());
    return reply(200, cr, write);
  }

  // --- Mappings ------------------------------------------------------------------------

  HttpReply mappings(std::string_view domain_sid, std::string_view list_sid, MappingPath path) {
    auto write = [this, path](JsonWriter& w, const store::DomainListMapping& m) {
      writeMapping(w, m, path);
    };
    auto owner = repo_.findDomain(c_.account.sid, domain_sid);
    if (!owner) return storeFailed(owner.error());
    if (!*owner) return notFound(c_.req.path());
    if (list_sid.empty()) {
      if (c_.req.method == "GET")
        return page(
            mappingsUri(domain_sid, path) + ".json",
            path == MappingPath::kLegacy ? "credential_list_mappings" : "contents",
            [&](int64_t offset, int64_t limit) {
              return repo_.listMappings(c_.account.sid, domain_sid, offset, limit);
            },
            write);
      if (c_.req.method != "POST") return methodNotAllowed("GET, POST");
      if (auto e = onlyParams(c_, {"CredentialListSid"})) return *e;
      auto cl = param(c_, "CredentialListSid");
      if (!cl) return badParam("CredentialListSid is required");
      if (!store::isSid(*cl, "CL")) return notFound("credential list " + *cl);
      auto made = repo_.createMapping(c_.account.sid, domain_sid, *cl, c_.now, derive_);
      if (!made) return failed(made.error());
      if (*made == store::SipAuthOutcome::kNotFound) return notFound("credential list " + *cl);
      if (*made == store::SipAuthOutcome::kTaken)
        return badParam("The credential list " + *cl + " is already mapped to this domain");
      auto m = repo_.findMapping(c_.account.sid, domain_sid, *cl);
      if (!m) return storeFailed(m.error());
      if (!*m) return notFound(c_.req.path());  // removed already by a concurrent request
      return reply(201, **m, write);
    }
    if (!store::isSid(list_sid, "CL")) return notFound(c_.req.path());
    auto found = repo_.findMapping(c_.account.sid, domain_sid, list_sid);
    if (!found) return storeFailed(found.error());
    if (!*found) return notFound(c_.req.path());
    if (c_.req.method == "GET") {
      if (auto e = onlyParams(c_, {})) return *e;
      return reply(200, **found, write);
    }
    if (c_.req.method != "DELETE") return methodNotAllowed("GET, DELETE");
    if (auto e = onlyParams(c_, {})) return *e;
    auto gone = repo_.removeMapping(c_.account.sid, domain_sid, list_sid, derive_);
    if (!gone) return failed(gone.error());
    if (!*gone) return notFound(c_.req.path());
    return noContent();
  }

  const MasterKey& key() const { return key_; }

  store::SipAuthLists& repo_;
  const MasterKey& key_;
  const store::SipAuthLists::Deriver derive_;
  Ctx& c_;
};

}  // namespace

HttpReply sipResources(store::Store& store, const MasterKey& key, Ctx& c, std::string_view rest) {
  SipResources sip(store, key, c);
  return sip.route(rest);
}

}  // namespace api::internal
