// Who is calling and what they may do. Credentials are HTTP Basic, as Twilio's libraries
// send them: an account SID with its auth token (acting as the account's owner), or an API
// key SID with its secret (acting with the key's role). A parent account's credentials also
// reach its subaccounts.
//
// Roles grant permissions through one table (permissionsOf, builtinRoles); a permission no role
// grants is denied. Accounts and key rows (found or not) are cached for a few seconds, so a
// request costs one keyed hash and a comparison, not a database read, whatever the secret it
// presents; a suspension or a deleted key takes effect within cache_ttl on every node.
//
// Keys made by earlier versions carry a PBKDF2 hash (~20 ms of CPU to check). Such a check is
// budgeted per key (`legacy_checks_per_second`, token bucket): past the budget the attempt is
// refused without hashing, so a flood of wrong secrets for a known SID cannot hold the HTTP
// threads; the right secret presented then is refused too (nothing tells it apart without the
// hash) until the budget refills. On its first success the key is re-hashed (KeyHasher) in
// the store and never costs a slow check again.
//
// Repeated failures from one address are slowed down: after `free_failures` within
// `failure_window`, each further failed attempt is answered only after a delay that doubles
// up to `max_delay` (the reply waits; no thread does).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/secrets.h"
#include "common/result.h"
#include "store/accounts.h"
#include "store/api_access.h"

namespace api {

enum class Permission : uint32_t {
  kAccountsRead = 1u << 0,
  kAccountsWrite = 1u << 1,  // subaccounts, names, statuses
  kNumbersRead = 1u << 2,
  kNumbersWrite = 1u << 3,
  kBillingRead = 1u << 4,  // balance, usage
  kKeysRead = 1u << 5,
  kKeysWrite = 1u << 6,
  kUsersRead = 1u << 7,
  kUsersWrite = 1u << 8,
  kAuditRead = 1u << 9,
  kSipRead = 1u << 10,  // SIP domains and credential lists
  kSipWrite = 1u << 11,
  kCallsRead = 1u << 12,
  kCallsWrite = 1u << 13,
  kMessagesRead = 1u << 14,
  kMessagesWrite = 1u << 15,
};
const char* permissionName(Permission p);

// One row of a role table: the permissions a role grants, as a bit set.
struct RoleGrant {
  std::string_view role;
  uint32_t permissions;
};
// A role table; an empty one stands for the product's (builtinRoles()). Another table is for
// tests: with a role the product does not define (keys:read without keys:write, say) they
// check that each resource asks for the permission it needs.
using RoleTable = std::span<const RoleGrant>;
// owner, admin, developer, billing and read-only (the roles store::isRole accepts).
RoleTable builtinRoles();

// A role's permissions in `table`; 0 for an unknown role.
uint32_t permissionsOf(std::string_view role, RoleTable table = {});
bool allows(std::string_view role, Permission p, RoleTable table = {});

// Ranks order the roles for managing keys and users: owner above admin above developer,
// billing and read-only, which share the lowest rank. Those three hold neither keys:write nor
// users:write, so an order among them would decide nothing, and none of them is trusted with
// more of the account than another (billing sees money, developer builds, read-only reads).
// A principal deletes or changes only keys and users of at most its own rank and gives no
// role above it (RestApi also requires that it hold every permission of a role it gives).
// 0 for an unknown role.
int roleRank(std::string_view role);
// Whether a principal acting with `role` may manage a key or user with role `target`.
bool ranksAtLeast(std::string_view role, std::string_view target);

struct Caller {
  std::string account_sid;  // the account the credentials belong to
  std::string principal;    // the AC or SK SID presented
  std::optional<std::string> user_sid;
  std::string role;
};

enum class AuthOutcome {
  kOk,
  kMissing,  // no or malformed Authorization header
  kBadCredentials,
  kInactive,     // the account (or its parent) is suspended or closed
  kUnavailable,  // the store failed
};

// The username of a Basic Authorization header when it is SID-shaped (AC or SK), else "":
// what the audit log records of a failed attempt (never the password).
std::string presentedUser(std::string_view authorization);

class Authenticator {
 public:
  struct Options {
    std::chrono::seconds cache_ttl{5};
    unsigned free_failures = 5;
    std::chrono::seconds failure_window{300};
    std::chrono::milliseconds first_delay{250};
    std::chrono::milliseconds max_delay{5000};
    // Slow checks of a legacy key hash per key per second, and the burst.
    unsigned legacy_checks_per_second = 4;
  };
  Authenticator(store::Accounts& accounts, store::ApiAccess& access, const MasterKey& key,
                Options options);

  // `authorization` is the header's value.
  AuthOutcome authenticate(std::string_view authorization, Caller* caller);
  // An account the caller's account may act on (itself or a subaccount of it), or nullopt.
  // Cached like credentials. `active` (when given) tells whether it and its parent are active:
  // a parent reaches its suspended or closed subaccounts, and RestApi decides what it may do.
  common::Result<std::optional<store::Account>> reachable(const Caller& caller,
                                                          std::string_view account_sid,
                                                          bool* active = nullptr);

  // Whether an account with this SID exists (cached like credentials, found or not): a
  // refused attempt is logged in the account it aimed at only when there is one.
  bool knownAccount(std::string_view account_sid);

  // Records a failed attempt from `source` and returns how long its answer waits.
  std::chrono::milliseconds failed(std::string_view source);
  // Forgets cached state of an account or key that was just changed here.
  void invalidate(std::string_view sid);

  uint64_t failures() const;
  // Attempts on a legacy key refused unchecked because its budget was spent.
  uint64_t legacyChecksRefused() const;

 private:
  struct CachedAccount {
    store::Account account;
    std::string token;            // opened
    std::string secondary_token;  // opened; "" = none (a rotation under way)
    bool active = false;          // it and its parent are active
    std::chrono::steady_clock::time_point until;
  };
  struct CachedKey {
    store::ApiKey key;
    std::chrono::steady_clock::time_point until;
  };
  struct Budget {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  struct Failures {
    unsigned count = 0;
    std::chrono::steady_clock::time_point since;
  };

  common::Result<std::optional<CachedAccount>> account(std::string_view sid);
  common::Result<std::optional<store::ApiKey>> keyRow(const std::string& sid);
  bool keySecretMatches(const store::ApiKey& key, std::string_view secret);
  bool takeLegacyCheck(const std::string& sid);
  void rehash(const store::ApiKey& key, std::string_view secret);

  store::Accounts& accounts_;
  store::ApiAccess& access_;
  const MasterKey& key_;
  const Options options_;
  const KeyHasher hasher_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, CachedAccount> account_cache_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> missing_accounts_;
  std::unordered_map<std::string, CachedKey> key_cache_;
  // SIDs found to have no key: apart, so guesses at key SIDs never push real keys out.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> missing_keys_;
  // Counts invalidate() calls: a store read that began before one is not cached, so a row
  // read just before a change (a promotion, a deleted key) does not come back for cache_ttl.
  uint64_t generation_ = 0;
  std::unordered_map<std::string, Budget> legacy_budgets_;  // by key SID
  std::unordered_map<std::string, Failures> failures_;
  uint64_t failure_count_ = 0;
  uint64_t legacy_refused_ = 0;
};

}  // namespace api
