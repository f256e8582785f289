// What every REST resource handler shares (rest_api.cc and the resource files beside it):
// the request on its way through, the checks on its fields, and the replies for the common
// failures. Internal to the api part.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/access_control.h"
#include "api/http_server.h"
#include "api/json_writer.h"
#include "api/provisioning.h"
#include "api/secrets.h"
#include "api/twilio_format.h"
#include "api/webhook_signature.h"
#include "api/webhook_target_policy.h"
#include "common/result.h"
#include "store/accounts.h"
#include "store/api_access.h"
#include "store/store.h"

namespace messaging {
class Service;
}

namespace api::internal {

inline constexpr size_t kMaxFriendlyName = 64;

// One API request on its way through: who asks, about which account, with which fields.
struct Ctx {
  HttpRequest& req;
  Caller caller;
  store::Account account;  // the account in the path (reachable by the caller)
  std::string base;        // "/2010-04-01/Accounts/AC..."
  FormParams params;       // the form of a POST, the query of a GET or DELETE
  int64_t now = 0;
  RoleTable roles;  // empty: the product's (RestApi::Options::roles)
  // What a stored webhook URL may name (RestApi::Options::webhook_targets).
  const WebhookTargetPolicy* webhook_targets = nullptr;
};

HttpReply jsonReply(int status, std::string body);
HttpReply noContent();  // 204, the answer to a delete
HttpReply notFound(std::string_view what);
HttpReply badParam(std::string_view message);        // 400, code 20001
HttpReply storeFailed(const common::Error& e);       // logged; 503, code 20503
HttpReply methodNotAllowed(std::string_view allow);  // 405 with Allow
// 403 (20403) when the caller's role does not grant `p` (in c.roles).
std::optional<HttpReply> need(const Ctx& c, Permission p);
// A role the caller may hand out or set: a known role of at most the caller's rank
// (roleRank) that grants nothing the caller's own role lacks.
bool mayGrant(const Ctx& c, std::string_view role);

// An API key as Keys.json shows it; its secret only when `secret` is given (at creation).
void writeKey(JsonWriter& w, const store::ApiKey& k, const std::string* secret);

// The form fields a request may carry; an unknown one is a 400 naming it.
std::optional<HttpReply> onlyParams(const Ctx& c, const std::vector<std::string_view>& allowed);
std::optional<std::string> param(const Ctx& c, std::string_view name);
// Reads a webhook URL parameter into `field` (empty clears it); 400 21205 when not a URL, or
// when its host is an address (or a name) that c.webhook_targets refuses.
std::optional<HttpReply> urlParam(const Ctx& c, std::string_view name, std::string* field);
// GET or POST (any case) into `field` as upper case; 400 otherwise.
std::optional<HttpReply> methodParam(const Ctx& c, std::string_view name, std::string* field);
// FriendlyName (at most kMaxFriendlyName characters) into `field`.
std::optional<HttpReply> nameParam(const Ctx& c, std::string* field);
// A boolean parameter ("true"/"false", any case) into `field`; 400 otherwise.
std::optional<HttpReply> boolParam(const Ctx& c, std::string_view name, bool* field);

// The reply to a list request whose `rows` were read with limit page.page_size + 1 (the extra
// row only tells that a next page exists): Twilio's page envelope with the records under
// `records_key`, each written by `write(items, row)`; a store failure is a 503.
template <typename Row, typename Write>
HttpReply listReply(common::Result<std::vector<Row>> rows, const PageRequest& page,
                    std::string_view list_path, std::string_view records_key, Write write) {
  if (!rows) return storeFailed(rows.error());
  const bool more = int64_t(rows->size()) > page.page_size;
  if (more) rows->pop_back();
  JsonWriter w(1024 + 1024 * rows->size());
  writePage(w, list_path, records_key, page, rows->size(), more, [&](JsonWriter& items) {
    for (const Row& r : *rows) write(items, r);
  });
  return jsonReply(200, w.take());
}

// The rows [first, last) of an in-memory list of `n` that a page shows.
std::pair<size_t, size_t> pageSlice(const PageRequest& page, size_t n);

// "{prefix}/{SID}.json" after `rest`'s start: the SID when it has the form, "-" when the
// segment is there but not a SID of `sid_prefix` (a 404), nullopt when `rest` is not that
// shape at all.
std::optional<std::string_view> sidSegment(std::string_view rest, std::string_view prefix,
                                           std::string_view sid_prefix);

// SIP Domains and Credential Lists (rest_sip.cc); `rest` is the path after "SIP/".
HttpReply sipResources(store::Store& store, const MasterKey& key, Ctx& c, std::string_view rest);

// Messages.json, Messages/{SM}.json and OptOuts.json (rest_messages.cc); `rest` is the path
// after the account's "/". `service` may be null (then sending is refused with 503).
HttpReply messageResources(store::Store& store, messaging::Service* service, Ctx& c,
                           std::string_view rest);

// Users.json and Users/{US}.json (rest_users.cc); `sid` is "" for the list. Changes of a
// user's role or its removal reach its keys, which `auth` forgets at once.
HttpReply userResources(store::Store& store, Provisioning& provisioning, Authenticator& auth,
                        Ctx& c, std::string_view sid);

// Twilio's AuthTokens resource for the caller's own account (rest_auth_tokens.cc): `rest` is
// "Secondary" or "Promote", the path after "/v1/AuthTokens/". Owners only.
HttpReply authTokenResources(Provisioning& provisioning, Authenticator& auth, Ctx& c,
                             std::string_view rest);

}  // namespace api::internal
