// The Twilio-compatible REST API (2010-04-01): authentication, the permission check, the
// account scope, the audit log and the resources, behind one HttpServer handler.
//
//   api::RestApi rest(store, master_key, {});
//   api::HttpServer server(options, [&](api::HttpRequest& r) { return rest.handle(r); });
//
// Resources under /2010-04-01/Accounts/{AccountSid}/: IncomingPhoneNumbers, Messages, Balance,
// Usage/Records, Keys, and Switchboard's Users, AuditEvents and OptOuts; the account itself at
// /2010-04-01/Accounts/{AccountSid}.json and its subaccounts at /2010-04-01/Accounts.json;
// auth-token rotation at /v1/AuthTokens/Secondary and /v1/AuthTokens/Promote.
// An account the caller cannot reach, or a resource of one, is a 404 (never a 403 that
// would tell it exists); a resource the caller's role does not allow is a 403 (20403); a
// suspended or closed subaccount, reached through its parent, is read-only (403, 20005) but
// for the parent's change of a suspended one's Status.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "api/access_control.h"
#include "api/audit_trail.h"
#include "api/http_server.h"
#include "api/provisioning.h"
#include "api/webhook_target_policy.h"
#include "store/store.h"

namespace messaging {
class Service;
}

namespace api {

class RestApi {
 public:
  struct Options {
    Authenticator::Options auth;
    AuditTrail::Options audit;
    std::function<int64_t()> now;  // unix seconds; empty = the system clock
    // Sends Messages.json POSTs; null = this node does not send (lists and fetches still work).
    messaging::Service* messaging = nullptr;
    // Empty: the product's roles (builtinRoles). Tests pass other tables (see RoleTable).
    RoleTable roles;
    // Webhook URLs (VoiceUrl, SmsUrl, StatusCallback ...) whose host is a literal address or a
    // name this refuses get 400 (webhooks.allow).
    WebhookTargetPolicy webhook_targets;
  };
  RestApi(store::Store& store, const MasterKey& key, Options options);
  ~RestApi();

  // Thread-safe; blocks on the store.
  HttpReply handle(HttpRequest& request);
  // The answers HttpServer gives by itself (400, 413, 431), in the API's error shape.
  static HttpReply protocolError(int status, std::string_view message);

  // Writes queued audit entries (tests read the log right after a request).
  void flushAudit();

  struct Stats {
    uint64_t requests = 0;
    uint64_t auth_failures = 0;
    uint64_t client_errors = 0;  // 4xx answers
    uint64_t server_errors = 0;  // 5xx answers
  };
  Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace api
