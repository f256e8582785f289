#include "api/rest_api.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/form.h"
#include "api/internal/rest_context.h"
#include "api/json_writer.h"
#include "api/twilio_format.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/phone_numbers.h"

namespace api {

using namespace internal;  // NOLINT: the shared handler vocabulary

namespace {

constexpr std::string_view kPrefix = "/2010-04-01/";
constexpr std::string_view kAccountsPrefix = "/2010-04-01/Accounts/";
constexpr std::string_view kAuthTokensPrefix = "/v1/AuthTokens/";

void writeAccount(JsonWriter& w, const store::Account& a, const std::string& token) {
  const std::string uri = "/2010-04-01/Accounts/" + a.sid;
  w.beginObject();
  w.key("sid").string(a.sid);
  w.key("friendly_name").string(a.friendly_name);
  w.key("status").string(a.status);
  w.key("type").string("Full");
  w.key("owner_account_sid").string(a.parent_sid ? *a.parent_sid : a.sid);
  w.key("auth_token").stringOrNull(token);
  w.key("date_created").string(rfc2822Date(a.created_at));
  w.key("date_updated").string(rfc2822Date(a.updated_at));
  w.key("uri").string(uri + ".json");
  w.key("subresource_uris").beginObject();
  w.key("incoming_phone_numbers").string(uri + "/IncomingPhoneNumbers.json");
  w.key("balance").string(uri + "/Balance.json");
  w.key("usage").string(uri + "/Usage.json");
  w.key("keys").string(uri + "/Keys.json");
  w.key("messages").string(uri + "/Messages.json");
  w.endObject();
  w.endObject();
}

void writeNumber(JsonWriter& w, const store::PhoneNumber& n) {
  const std::string uri =
      "/2010-04-01/Accounts/" + n.account_sid + "/IncomingPhoneNumbers/" + n.sid;
  w.beginObject();
  w.key("sid").string(n.sid);
  w.key("account_sid").string(n.account_sid);
  w.key("phone_number").string(n.phone_number);
  w.key("friendly_name").string(n.friendly_name);
  w.key("voice_url").string(n.voice_url);
  w.key("voice_method").string(n.voice_method);
  w.key("voice_fallback_url").string(n.voice_fallback_url);
  w.key("voice_fallback_method").string(n.voice_fallback_method);
  w.key("voice_caller_id_lookup").boolean(false);
  w.key("voice_application_sid").null();
  w.key("voice_receive_mode").string("voice");
  w.key("sms_url").string(n.sms_url);
  w.key("sms_method").string(n.sms_method);
  w.key("sms_fallback_url").string(n.sms_fallback_url);
  w.key("sms_fallback_method").string(n.sms_fallback_method);
  w.key("sms_application_sid").null();
  w.key("status_callback").string(n.status_callback);
  w.key("status_callback_method").string(n.status_callback_method);
  w.key("capabilities").beginObject();
  w.key("voice").boolean(n.voice_capable);
  w.key("sms").boolean(n.sms_capable);
  w.key("mms").boolean(n.mms_capable);
  w.key("fax").boolean(n.fax_capable);
  w.endObject();
  w.key("date_created").string(rfc2822Date(n.created_at));
  w.key("date_updated").string(rfc2822Date(n.updated_at));
  w.key("api_version").string(kApiVersion);
  w.key("beta").boolean(false);
  // Twilio's word for a number whose messages it hosts while voice stays elsewhere.
  w.key("origin").string(n.hosting == "sms-only" ? "hosted" : "twilio");
  w.key("status").string("in-use");
  w.key("type").string("local");
  w.key("trunk_sid").null();
  w.key("address_sid").null();
  w.key("address_requirements").string("none");
  w.key("identity_sid").null();
  w.key("bundle_sid").null();
  w.key("emergency_status").string("Inactive");
  w.key("emergency_address_sid").null();
  w.key("emergency_address_status").string("unregistered");
  w.key("porting_status").string(n.porting_status);
  w.key("hosting").string(n.hosting);
  w.key("uri").string(uri + ".json");
  w.key("subresource_uris").beginObject();
  w.key("assigned_add_ons").string(uri + "/AssignedAddOns.json");
  w.endObject();
  w.endObject();
}

}  // namespace

struct RestApi::Impl {
  Impl(store::Store& s, const MasterKey& k, Options o)
      : store(s),
        key(k),
        options(std::move(o)),
        auth(s.accounts(), s.apiAccess(), k, options.auth),
        audit(s.auditLog(), options.audit),
        provisioning(s, k) {}

  int64_t now() const {
    if (options.now) return options.now();
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  HttpReply route(Ctx& c, std::string_view rest);
  HttpReply accounts(Ctx& c, std::string_view rest);
  HttpReply numbers(Ctx& c, std::string_view sid);
  HttpReply balance(Ctx& c);
  HttpReply usage(Ctx& c);
  HttpReply keys(Ctx& c, std::string_view sid);
  HttpReply auditEvents(Ctx& c);

  store::Store& store;
  const MasterKey& key;
  const Options options;
  Authenticator auth;
  AuditTrail audit;
  Provisioning provisioning;
  std::atomic<uint64_t> requests{0}, client_errors{0}, server_errors{0};
};

HttpReply RestApi::Impl::numbers(Ctx& c, std::string_view sid) {
  const bool get = c.req.method == "GET";
  if (auto denied = need(c, get ? Permission::kNumbersRead : Permission::kNumbersWrite))
    return *denied;
  auto& repo = store.phoneNumbers();
  const std::string list_path = c.base + "/IncomingPhoneNumbers.json";

  // Fields a create and an update share.
  auto apply = [&](store::PhoneNumber& n) -> std::optional<HttpReply> {
    if (auto e = nameParam(c, &n.friendly_name)) return e;
    for (auto [name, field] : {std::pair{"VoiceUrl", &n.voice_url},
                               {"VoiceFallbackUrl", &n.voice_fallback_url},
                               {"SmsUrl", &n.sms_url},
                               {"SmsFallbackUrl", &n.sms_fallback_url},
                               {"StatusCallback", &n.status_callback}})
      if (auto e = urlParam(c, name, field)) return e;
    for (auto [name, field] : {std::pair{"VoiceMethod", &n.voice_method},
                               {"VoiceFallbackMethod", &n.voice_fallback_method},
                               {"SmsMethod", &n.sms_method},
                               {"SmsFallbackMethod", &n.sms_fallback_method},
                               {"StatusCallbackMethod", &n.status_callback_method}})
      if (auto e = methodParam(c, name, field)) return e;
    if (auto v = param(c, "PortingStatus")) {
      if (!store::isPortingStatus(*v))
        return badParam("PortingStatus must be none, loa-received, in-progress or completed");
      n.porting_status = *v;
    }
    if (auto v = param(c, "Hosting")) {
      if (!store::isHosting(*v)) return badParam("Hosting must be full or sms-only");
      n.hosting = *v;
    }
    // Voice of an SMS-hosted number is answered by the carrier that keeps it.
    n.voice_capable = n.hosting == "full";
    n.updated_at = c.now;
    return std::nullopt;
  };
  static const std::vector<std::string_view> kWritable = {"FriendlyName",
                                                          "VoiceUrl",
                                                          "VoiceMethod",
                                                          "VoiceFallbackUrl",
                                                          "VoiceFallbackMethod",
                                                          "SmsUrl",
                                                          "SmsMethod",
                                                          "SmsFallbackUrl",
                                                          "SmsFallbackMethod",
                                                          "StatusCallback",
                                                          "StatusCallbackMethod",
                                                          "PortingStatus",
                                                          "Hosting"};

  if (sid.empty()) {
    if (get) {
      ApiError err;
      auto page = parsePaging(c.params, {"PhoneNumber", "FriendlyName"}, &err);
      if (!page) return errorReply(err);
      store::PhoneNumberFilter f;
      if (auto v = formValue(page->filters, "PhoneNumber")) f.phone_number = std::string(*v);
      if (auto v = formValue(page->filters, "FriendlyName")) f.friendly_name = std::string(*v);
      return listReply(repo.list(c.account.sid, f, page->offset(), page->page_size + 1), *page,
                       list_path, "incoming_phone_numbers", writeNumber);
    }
    if (c.req.method != "POST") return methodNotAllowed("GET, POST");
    std::vector<std::string_view> allowed(kWritable);
    allowed.push_back("PhoneNumber");
    allowed.push_back("AreaCode");
    if (auto e = onlyParams(c, allowed)) return *e;
    store::PhoneNumber n;
    auto number = param(c, "PhoneNumber");
    if (!number) {
      if (param(c, "AreaCode"))
        return errorReply(400, 21452,
                          "No phone numbers are available by AreaCode: Switchboard hosts the "
                          "numbers you bring; give PhoneNumber in E.164");
      return errorReply(400, 21421, "PhoneNumber is required");
    }
    if (!store::isE164(*number))
      return errorReply(400, 21421, "The phone number " + *number + " is not a valid E.164 number");
    n.sid = common::newSid("PN");
    n.account_sid = c.account.sid;
    n.phone_number = *number;
    n.friendly_name = *number;
    n.created_at = c.now;
    if (auto e = apply(n)) return *e;
    auto made = repo.create(n);
    if (!made) {
      if (made.error().code == common::ErrorCode::kInvalidArgument)
        return badParam(made.error().reason);
      return storeFailed(made.error());
    }
    if (!*made)
      return errorReply(400, 21422, "The phone number " + *number + " is already provisioned");
    JsonWriter w;
    writeNumber(w, n);
    return jsonReply(201, w.take());
  }

  auto found = repo.find(c.account.sid, sid);
  if (!found) return storeFailed(found.error());
  if (!*found) return notFound(c.req.path());
  store::PhoneNumber n = std::move(**found);
  if (get) {
    if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
    JsonWriter w;
    writeNumber(w, n);
    return jsonReply(200, w.take());
  }
  if (c.req.method == "DELETE") {
    auto gone = repo.remove(c.account.sid, sid);
    if (!gone) return storeFailed(gone.error());
    if (!*gone) return notFound(c.req.path());
    return noContent();
  }
  if (c.req.method != "POST") return methodNotAllowed("GET, POST, DELETE");
  if (auto e = onlyParams(c, kWritable)) return *e;
  if (auto e = apply(n)) return *e;
  auto updated = repo.update(n);
  if (!updated) {
    if (updated.error().code == common::ErrorCode::kInvalidArgument)
      return badParam(updated.error().reason);
    return storeFailed(updated.error());
  }
  if (!*updated) return notFound(c.req.path());
  JsonWriter w;
  writeNumber(w, n);
  return jsonReply(200, w.take());
}

HttpReply RestApi::Impl::accounts(Ctx& c, std::string_view rest) {
  const bool get = c.req.method == "GET";
  if (auto denied = need(c, get ? Permission::kAccountsRead : Permission::kAccountsWrite))
    return *denied;
  // The auth token acts as the owner: it is shown only to a caller who is one already.
  const bool show_token = mayGrant(c, "owner");
  auto token = [&](const store::Account& a) {
    return show_token ? provisioning.authToken(a) : std::string();
  };
  if (rest.empty()) {  // /Accounts.json: the caller's account and its subaccounts
    auto home = auth.reachable(c.caller, c.caller.account_sid);
    if (!home) return storeFailed(home.error());
    if (!*home) return notFound(c.req.path());
    if (get) {
      ApiError err;
      auto page = parsePaging(c.params, {"FriendlyName", "Status"}, &err);
      if (!page) return errorReply(err);
      store::AccountFilter f;
      if (auto v = formValue(page->filters, "FriendlyName")) f.friendly_name = std::string(*v);
      if (auto v = formValue(page->filters, "Status")) f.status = std::string(*v);
      // A subaccount's family is itself alone: its parent is not its to list.
      return listReply(
          store.accounts().listFamily((*home)->sid, f, page->offset(), page->page_size + 1), *page,
          "/2010-04-01/Accounts.json", "accounts",
          [&](JsonWriter& items, const store::Account& a) { writeAccount(items, a, token(a)); });
    }
    if (c.req.method != "POST") return methodNotAllowed("GET, POST");
    if (auto e = onlyParams(c, {"FriendlyName"})) return *e;
    if ((*home)->parent_sid)
      return errorReply(403, 20403, "Forbidden: a subaccount cannot create subaccounts");
    std::string name;
    if (auto e = nameParam(c, &name)) return *e;
    auto made = provisioning.createAccount(name, (*home)->sid, c.now);
    if (!made) return storeFailed(made.error());
    JsonWriter w;
    writeAccount(w, made->account, show_token ? made->auth_token : std::string());
    return jsonReply(201, w.take());
  }
  // /Accounts/{AC}.json
  if (get) {
    if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
    // Read afresh: the authentication cache may be seconds old.
    auto fresh = store.accounts().find(c.account.sid);
    if (!fresh) return storeFailed(fresh.error());
    if (!*fresh) return notFound(c.req.path());
    JsonWriter w;
    writeAccount(w, **fresh, token(**fresh));
    return jsonReply(200, w.take());
  }
  if (c.req.method != "POST") return methodNotAllowed("GET, POST");
  if (auto e = onlyParams(c, {"FriendlyName", "Status"})) return *e;
  store::AccountUpdate u;
  u.updated_at = c.now;
  std::string name;
  if (param(c, "FriendlyName")) {
    if (auto e = nameParam(c, &name)) return *e;
    u.friendly_name = name;
  }
  if (auto status = param(c, "Status")) {
    if (!store::isAccountStatus(*status))
      return badParam("Status must be active, suspended or closed");
    if (c.account.sid == c.caller.account_sid)
      return errorReply(403, 20403,
                        "Forbidden: an account's status is changed by its parent account");
    if (c.account.status == "closed" && *status != "closed")
      return badParam("A closed account cannot be reopened");
    u.status = *status;
  }
  // The status read above may be a few seconds old (the credential cache): the store checks
  // again that a closed account is not reopened or renamed.
  u.unless_closed = !(u.status && *u.status == "closed");
  auto updated = store.accounts().update(c.account.sid, u);
  if (!updated) return storeFailed(updated.error());
  if (!*updated) {
    auth.invalidate(c.account.sid);
    return errorReply(403, 20005, "Account not active: " + c.account.sid + " is closed");
  }
  auth.invalidate(c.account.sid);
  JsonWriter w;
  writeAccount(w, **updated, token(**updated));
  return jsonReply(200, w.take());
}

HttpReply RestApi::Impl::balance(Ctx& c) {
  if (c.req.method != "GET") return methodNotAllowed("GET");
  if (auto denied = need(c, Permission::kBillingRead)) return *denied;
  if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
  auto fresh = store.accounts().find(c.account.sid);  // not the cached copy: money moves
  if (!fresh) return storeFailed(fresh.error());
  if (!*fresh) return notFound(c.req.path());
  JsonWriter w;
  w.beginObject();
  w.key("account_sid").string(c.account.sid);
  w.key("balance").string(formatMillicents((*fresh)->balance_millicents));
  w.key("currency").string((*fresh)->currency);
  w.endObject();
  return jsonReply(200, w.take());
}

HttpReply RestApi::Impl::usage(Ctx& c) {
  if (c.req.method != "GET") return methodNotAllowed("GET");
  if (auto denied = need(c, Permission::kBillingRead)) return *denied;
  ApiError err;
  auto page =
      parsePaging(c.params, {"Category", "StartDate", "EndDate", "IncludeSubaccounts"}, &err);
  if (!page) return errorReply(err);
  int64_t start = c.account.created_at, end = c.now;
  for (auto [name, field] : {std::pair{"StartDate", &start}, {"EndDate", &end}}) {
    if (auto v = formValue(page->filters, name)) {
      auto t = parseIsoDateTime(*v);
      if (!t) return badParam(std::string(name) + ": " + t.error().reason);
      *field = *t;
    }
  }
  if (end < start) return badParam("EndDate is before StartDate");
  // What is counted so far: the numbers held (calls and messages join with their parts).
  struct Record {
    std::string category, description, unit;
    int64_t count;
  };
  std::vector<Record> records;
  auto held = store.phoneNumbers().count(c.account.sid, {});
  if (!held) return storeFailed(held.error());
  records.push_back({"phonenumbers", "Phone Numbers", "numbers", *held});
  auto category = formValue(page->filters, "Category");
  std::erase_if(records, [&](const Record& r) { return category && r.category != *category; });
  const auto slice = pageSlice(*page, records.size());
  const size_t first = slice.first, last = slice.second;
  JsonWriter w;
  writePage(w, c.base + "/Usage/Records.json", "usage_records", *page, last - first,
            last < records.size(), [&](JsonWriter& items) {
              for (size_t i = first; i < last; ++i) {
                const Record& r = records[i];
                items.beginObject();
                items.key("account_sid").string(c.account.sid);
                items.key("api_version").string(kApiVersion);
                items.key("as_of").string(isoDate(c.now));
                items.key("category").string(r.category);
                items.key("count").string(std::to_string(r.count));
                items.key("count_unit").string(r.unit);
                items.key("description").string(r.description);
                items.key("start_date").string(isoDate(start));
                items.key("end_date").string(isoDate(end));
                items.key("price").string("0.00");
                items.key("price_unit").string(common::toLower(c.account.currency));
                items.key("usage").string(std::to_string(r.count));
                items.key("usage_unit").string(r.unit);
                items.key("uri").string(c.base + "/Usage/Records.json?Category=" + r.category);
                items.key("subresource_uris").beginObject().endObject();
                items.endObject();
              }
            });
  return jsonReply(200, w.take());
}

HttpReply RestApi::Impl::keys(Ctx& c, std::string_view sid) {
  const bool get = c.req.method == "GET";
  if (auto denied = need(c, get ? Permission::kKeysRead : Permission::kKeysWrite)) return *denied;
  auto& repo = store.apiAccess();
  if (sid.empty()) {
    if (get) {
      ApiError err;
      auto page = parsePaging(c.params, {}, &err);
      if (!page) return errorReply(err);
      auto rows = repo.listKeys(c.account.sid);
      if (!rows) return storeFailed(rows.error());
      const auto slice = pageSlice(*page, rows->size());
      const size_t first = slice.first, last = slice.second;
      JsonWriter w;
      writePage(w, c.base + "/Keys.json", "keys", *page, last - first, last < rows->size(),
                [&](JsonWriter& items) {
                  for (size_t i = first; i < last; ++i) writeKey(items, (*rows)[i], nullptr);
                });
      return jsonReply(200, w.take());
    }
    if (c.req.method != "POST") return methodNotAllowed("GET, POST");
    if (auto e = onlyParams(c, {"FriendlyName", "Role"})) return *e;
    std::string name, role = param(c, "Role").value_or(c.caller.role);
    if (auto e = nameParam(c, &name)) return *e;
    if (!store::isRole(role))
      return badParam("Role must be owner, admin, developer, billing or read-only");
    if (!mayGrant(c, role))
      return errorReply(403, 20403, "Forbidden: cannot create a key with role '" + role + "'");
    auto made = provisioning.createKey(c.account.sid, name, role, std::nullopt, c.now);
    if (!made) return storeFailed(made.error());
    JsonWriter w;
    writeKey(w, made->key, &made->secret);
    return jsonReply(201, w.take());
  }
  auto found = repo.findKey(sid);
  if (!found) return storeFailed(found.error());
  if (!*found || (*found)->account_sid != c.account.sid) return notFound(c.req.path());
  if (get) {
    JsonWriter w;
    writeKey(w, **found, nullptr);
    return jsonReply(200, w.take());
  }
  if (c.req.method != "DELETE") return methodNotAllowed("GET, DELETE");
  if (!ranksAtLeast(c.caller.role, (*found)->role))
    return errorReply(403, 20403,
                      "Forbidden: the role '" + c.caller.role +
                          "' cannot delete a key with role '" + (*found)->role + "'");
  auto gone = repo.removeKey(c.account.sid, sid);
  if (!gone) return storeFailed(gone.error());
  auth.invalidate(sid);
  if (!*gone) return notFound(c.req.path());  // removed meanwhile
  return noContent();
}

HttpReply RestApi::Impl::auditEvents(Ctx& c) {
  if (c.req.method != "GET") return methodNotAllowed("GET");
  if (auto denied = need(c, Permission::kAuditRead)) return *denied;
  ApiError err;
  auto page = parsePaging(c.params, {}, &err);
  if (!page) return errorReply(err);
  return listReply(store.auditLog().list(c.account.sid, page->offset(), page->page_size + 1), *page,
                   c.base + "/AuditEvents.json", "audit_events",
                   [](JsonWriter& items, const store::AuditEntry& e) {
                     items.beginObject();
                     items.key("id").integer(e.id);
                     items.key("date_created").string(rfc2822Date(e.at_ms / 1000));
                     items.key("timestamp_ms").integer(e.at_ms);
                     items.key("account_sid").string(e.account_sid);
                     items.key("principal").string(e.principal);
                     items.key("user_sid").optionalString(e.user_sid);
                     items.key("method").string(e.method);
                     items.key("path").string(e.path);
                     items.key("status").integer(e.status);
                     items.key("source").string(e.source);
                     items.key("count").integer(e.count);
                     items.endObject();
                   });
}

// `rest` is the path after "/2010-04-01/Accounts/{AC}/" (empty for the account itself).
HttpReply RestApi::Impl::route(Ctx& c, std::string_view rest) {
  auto sidIn = [&](std::string_view prefix, std::string_view sid_prefix) {
    return sidSegment(rest, prefix, sid_prefix);
  };
  if (rest.empty()) return accounts(c, c.account.sid);
  if (rest == "IncomingPhoneNumbers.json") return numbers(c, "");
  if (auto sid = sidIn("IncomingPhoneNumbers", "PN")) {
    if (*sid == "-") return notFound(c.req.path());
    return numbers(c, *sid);
  }
  if (rest == "Balance.json") return balance(c);
  if (rest == "Usage/Records.json") return usage(c);
  if (rest == "Keys.json") return keys(c, "");
  if (auto sid = sidIn("Keys", "SK")) {
    if (*sid == "-") return notFound(c.req.path());
    return keys(c, *sid);
  }
  if (rest == "Users.json") return userResources(store, provisioning, auth, c, "");
  if (auto sid = sidIn("Users", "US")) {
    if (*sid == "-") return notFound(c.req.path());
    return userResources(store, provisioning, auth, c, *sid);
  }
  if (rest == "AuditEvents.json") return auditEvents(c);
  if (rest == "Messages.json" || rest == "OptOuts.json" || sidIn("Messages", "SM"))
    return messageResources(store, options.messaging, c, rest);
  constexpr std::string_view kSip = "SIP/";
  if (rest.substr(0, kSip.size()) == kSip)
    return sipResources(store, key, c, rest.substr(kSip.size()));
  return notFound(c.req.path());
}

RestApi::RestApi(store::Store& store, const MasterKey& key, Options options)
    : impl_(std::make_unique<Impl>(store, key, std::move(options))) {}

RestApi::~RestApi() {
  impl_->audit.stop();
}

HttpReply RestApi::protocolError(int status, std::string_view message) {
  int code = status == 413 ? 20413 : status == 431 ? 20431 : 20001;
  return errorReply(status, code, message);
}

void RestApi::flushAudit() {
  impl_->audit.flush();
}

RestApi::Stats RestApi::stats() const {
  return {impl_->requests.load(), impl_->auth.failures(), impl_->client_errors.load(),
          impl_->server_errors.load()};
}

namespace {

// A refused attempt goes to the log of the account it aimed at, for its owner to see, with
// the SID it presented (never the secret). Only an account that exists: SIDs made up per
// request would otherwise each open a row of their own in the coalesced log.
void attributeFailure(Ctx& c, Authenticator& auth) {
  std::string_view path = c.req.path();
  std::string_view aimed = path.substr(std::min(path.size(), kAccountsPrefix.size()), 34);
  if (path.substr(0, kAccountsPrefix.size()) == kAccountsPrefix && store::isSid(aimed, "AC") &&
      auth.knownAccount(aimed))
    c.caller.account_sid = std::string(aimed);
  c.caller.principal = presentedUser(c.req.authorization);
}

// A parent reaches its subaccounts also when they are suspended or closed (their own
// credentials no longer work). Then it may read them, and change the status of a suspended
// one (to active, or closed); a closed one is only read. Everything else acting for the
// account is refused here, before any resource: numbers, messages, keys, users, SIP, calls.
std::optional<HttpReply> inactiveRefusal(const Ctx& c, std::string_view tail) {
  if (c.req.method == "GET") return std::nullopt;
  const bool status_change = tail.empty() && c.req.method == "POST" && c.params.size() == 1 &&
                             c.params.front().first == "Status";
  if (c.account.status == "suspended" && status_change) return std::nullopt;
  const std::string why =
      c.account.status == "closed" ? " is closed: it can only be read"
      : c.account.status == "suspended"
          ? " is suspended: it can be read, and its parent can change its Status"
          : " is not active (its parent account is not): it can only be read";
  return errorReply(403, 20005, "Account not active: " + c.account.sid + why);
}

}  // namespace

HttpReply RestApi::handle(HttpRequest& req) {
  Impl& api = *impl_;
  ++api.requests;
  const auto at = std::chrono::system_clock::now();
  std::string_view path = req.path();
  Ctx c{req, {}, {}, {}, {}, api.now(), api.options.roles, &api.options.webhook_targets};

  bool auth_failed = false;  // coalesced in the log (AuditTrail::recordFailure)
  auto finish = [&](HttpReply reply) {
    if (reply.status >= 500)
      ++api.server_errors;
    else if (reply.status >= 400)
      ++api.client_errors;
    store::AuditEntry e;
    e.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    e.account_sid = c.account.sid.empty() ? c.caller.account_sid : c.account.sid;
    e.principal = c.caller.principal;
    e.user_sid = c.caller.user_sid;
    e.method = req.method;
    e.path = std::string(path.substr(0, 2048));
    e.status = reply.status;
    e.source = req.peer;
    if (auth_failed)
      api.audit.recordFailure(std::move(e));
    else
      api.audit.record(std::move(e));
    return reply;
  };

  const bool auth_tokens = path.substr(0, kAuthTokensPrefix.size()) == kAuthTokensPrefix;
  if (path.substr(0, kPrefix.size()) != kPrefix && !auth_tokens) {
    auth_failed = true;  // answered before any authentication: coalesced like a failure
    return finish(notFound(path));
  }
  Caller caller;
  switch (api.auth.authenticate(req.authorization, &caller)) {
    case AuthOutcome::kOk:
      break;
    case AuthOutcome::kUnavailable:
      return finish(errorReply(503, 20503, "Service temporarily unavailable; try again"));
    case AuthOutcome::kInactive:
      attributeFailure(c, api.auth);
      auth_failed = true;
      return finish(errorReply(401, 20005, "The account is not active"));
    case AuthOutcome::kMissing:
    case AuthOutcome::kBadCredentials: {
      attributeFailure(c, api.auth);
      auth_failed = true;
      HttpReply r = errorReply(401, 20003, "Authenticate");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Switchboard\"");
      r.delay = api.auth.failed(req.peer);
      return finish(r);
    }
  }
  c.caller = std::move(caller);

  // The fields: a POST's form, or a GET's or DELETE's query.
  std::string_view fields = req.query();
  if (req.method == "POST") {
    std::string_view type = req.content_type;
    type = type.substr(0, type.find(';'));
    if (!req.body.empty() &&
        !common::iequals(common::trimLws(type), "application/x-www-form-urlencoded"))
      return finish(
          errorReply(415, 20001, "Content-Type must be application/x-www-form-urlencoded"));
    fields = req.body;
  } else if (req.method != "GET" && req.method != "DELETE") {
    return finish(methodNotAllowed("GET, POST, DELETE"));
  }
  auto form = parseForm(fields);
  if (!form) return finish(badParam("Malformed form: " + form.error().reason));
  c.params = std::move(*form);

  if (auth_tokens) {  // the account of the credentials
    auto home = api.auth.reachable(c.caller, c.caller.account_sid);
    if (!home) return finish(storeFailed(home.error()));
    if (!*home) return finish(notFound(path));
    c.account = std::move(**home);
    return finish(
        authTokenResources(api.provisioning, api.auth, c, path.substr(kAuthTokensPrefix.size())));
  }
  std::string_view rest = path.substr(kPrefix.size());
  if (rest == "Accounts.json") return finish(api.accounts(c, ""));
  constexpr std::string_view kAccounts = "Accounts/";
  if (rest.substr(0, kAccounts.size()) != kAccounts) return finish(notFound(path));
  rest.remove_prefix(kAccounts.size());
  // "{AC}.json" or "{AC}/..."
  size_t end = rest.find('/');
  std::string_view sid = rest.substr(0, end);
  std::string_view tail;
  if (end == std::string_view::npos) {
    if (sid.size() < 5 || sid.substr(sid.size() - 5) != ".json") return finish(notFound(path));
    sid.remove_suffix(5);
  } else {
    tail = rest.substr(end + 1);
    if (tail.empty()) return finish(notFound(path));
  }
  if (!store::isSid(sid, "AC")) return finish(notFound(path));
  bool active = true;
  auto target = api.auth.reachable(c.caller, sid, &active);
  if (!target) return finish(storeFailed(target.error()));
  if (!*target) return finish(notFound(path));
  c.account = std::move(**target);
  c.base = "/2010-04-01/Accounts/" + c.account.sid;
  if (!active) {
    if (auto refused = inactiveRefusal(c, tail)) return finish(std::move(*refused));
  }
  return finish(api.route(c, tail));
}

}  // namespace api
