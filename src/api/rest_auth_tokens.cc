// Auth-token rotation as Twilio's accounts API offers it (accounts.twilio.com/v1/AuthTokens;
// this server serves one host, so the paths are /v1/AuthTokens/...), for the account of the
// credentials:
//   POST   /v1/AuthTokens/Secondary  a new secondary token that works beside the primary
//                                    (replaces an earlier one); 201, the token shown once
//   DELETE /v1/AuthTokens/Secondary  drops the secondary; 204 (also when there was none)
//   POST   /v1/AuthTokens/Promote    the secondary becomes the primary; the old primary stops
//                                    at once (this node's cache is invalidated; other nodes
//                                    follow within their cache's lifetime)
// Owners only: the account SID with its token, or a key whose role is owner. Each request is
// audited like every API request (method, path, principal, status).
#include <cstdio>
#include <string>
#include <string_view>

#include "api/internal/rest_context.h"
#include "api/json_writer.h"
#include "api/twilio_format.h"

namespace api::internal {

namespace {

constexpr std::string_view kSecondaryUrl = "/v1/AuthTokens/Secondary";
constexpr std::string_view kPromoteUrl = "/v1/AuthTokens/Promote";

// Twilio's v1 APIs write dates in ISO 8601: "2025-11-22T10:00:00Z".
std::string isoDateTime(int64_t t) {
  const int64_t s = ((t % 86400) + 86400) % 86400;
  char clock[16];
  std::snprintf(clock, sizeof clock, "T%02d:%02d:%02dZ", int(s / 3600), int(s / 60 % 60),
                int(s % 60));
  return isoDate(t) + clock;
}

HttpReply tokenReply(int status, const store::Account& a, std::string_view field,
                     const std::string& token, std::string_view url) {
  JsonWriter w;
  w.beginObject();
  w.key("account_sid").string(a.sid);
  w.key(field).string(token);
  w.key("date_created").string(isoDateTime(a.updated_at));
  w.key("date_updated").string(isoDateTime(a.updated_at));
  w.key("url").string(url);
  w.endObject();
  return jsonReply(status, w.take());
}

}  // namespace

HttpReply authTokenResources(Provisioning& provisioning, Authenticator& auth, Ctx& c,
                             std::string_view rest) {
  if (rest != "Secondary" && rest != "Promote") return notFound(c.req.path());
  if (roleRank(c.caller.role) < roleRank("owner"))
    return errorReply(403, 20403,
                      "Forbidden: auth tokens are rotated by the account's owner, not the role '" +
                          c.caller.role + "'");
  if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
  const std::string& account = c.account.sid;

  if (rest == "Promote") {
    if (c.req.method != "POST") return methodNotAllowed("POST");
    auto promoted = provisioning.promoteSecondaryToken(account, c.now);
    if (!promoted) return storeFailed(promoted.error());
    if (!*promoted)
      return errorReply(404, 20404,
                        "The account has no secondary auth token to promote: create one with "
                        "POST /v1/AuthTokens/Secondary");
    auth.invalidate(account);
    return tokenReply(200, **promoted, "auth_token", provisioning.authToken(**promoted),
                      kPromoteUrl);
  }
  if (c.req.method == "POST") {
    auto made = provisioning.createSecondaryToken(account, c.now);
    if (!made) return storeFailed(made.error());
    if (!*made) return notFound(c.req.path());
    auth.invalidate(account);
    return tokenReply(201, (*made)->account, "secondary_auth_token", (*made)->token, kSecondaryUrl);
  }
  if (c.req.method == "DELETE") {
    auto dropped = provisioning.deleteSecondaryToken(account, c.now);
    if (!dropped) return storeFailed(dropped.error());
    if (!*dropped) return notFound(c.req.path());
    auth.invalidate(account);
    return noContent();
  }
  return methodNotAllowed("POST, DELETE");
}

}  // namespace api::internal
