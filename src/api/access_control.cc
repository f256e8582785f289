#include "api/access_control.h"

#include <algorithm>

#include "common/log.h"
#include "common/strings.h"

namespace api {

namespace {

using P = Permission;

constexpr uint32_t bits(std::initializer_list<P> ps) {
  uint32_t b = 0;
  for (P p : ps) b |= uint32_t(p);
  return b;
}

constexpr uint32_t kAll = 0xFFFFu;
constexpr uint32_t kReadAll = bits({P::kAccountsRead, P::kNumbersRead, P::kBillingRead, P::kSipRead,
                                    P::kCallsRead, P::kMessagesRead});

// The permission table. The audit log is for owners only; admins run everything else;
// developers build on numbers, SIP, calls and messages; billing sees money; read-only reads.
constexpr RoleGrant kRoles[] = {
    {"owner", kAll},
    {"admin", kAll & ~uint32_t(P::kAuditRead)},
    {"developer",
     bits({P::kAccountsRead, P::kNumbersRead, P::kNumbersWrite, P::kBillingRead, P::kSipRead,
           P::kSipWrite, P::kCallsRead, P::kCallsWrite, P::kMessagesRead, P::kMessagesWrite})},
    {"billing", bits({P::kAccountsRead, P::kNumbersRead, P::kBillingRead})},
    {"read-only", kReadAll},
};

bool decodeBasic(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kBasic = "Basic ";
  if (header.size() <= kBasic.size() || !common::istartsWith(header, kBasic)) return false;
  auto decoded = base64Decode(common::trimLws(header.substr(kBasic.size())));
  if (!decoded) return false;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  *user = decoded->substr(0, colon);
  *password = decoded->substr(colon + 1);
  return true;
}

}  // namespace

std::string presentedUser(std::string_view authorization) {
  std::string user, password;
  if (!decodeBasic(authorization, &user, &password)) return "";
  return store::isSid(user, "AC") || store::isSid(user, "SK") ? user : "";
}

const char* permissionName(Permission p) {
  switch (p) {
    case P::kAccountsRead:
      return "accounts:read";
    case P::kAccountsWrite:
      return "accounts:write";
    case P::kNumbersRead:
      return "numbers:read";
    case P::kNumbersWrite:
      return "numbers:write";
    case P::kBillingRead:
      return "billing:read";
    case P::kKeysRead:
      return "keys:read";
    case P::kKeysWrite:
      return "keys:write";
    case P::kUsersRead:
      return "users:read";
    case P::kUsersWrite:
      return "users:write";
    case P::kAuditRead:
      return "audit:read";
    case P::kSipRead:
      return "sip:read";
    case P::kSipWrite:
      return "sip:write";
    case P::kCallsRead:
      return "calls:read";
    case P::kCallsWrite:
      return "calls:write";
    case P::kMessagesRead:
      return "messages:read";
    case P::kMessagesWrite:
      return "messages:write";
  }
  return "?";
}

RoleTable builtinRoles() {
  return kRoles;
}

uint32_t permissionsOf(std::string_view role, RoleTable table) {
  for (const RoleGrant& r : table.empty() ? builtinRoles() : table)
    if (r.role == role) return r.permissions;
  return 0;
}

bool allows(std::string_view role, Permission p, RoleTable table) {
  return (permissionsOf(role, table) & uint32_t(p)) != 0;
}

int roleRank(std::string_view role) {
  if (role == "owner") return 3;
  if (role == "admin") return 2;
  if (role == "developer" || role == "billing" || role == "read-only") return 1;
  return 0;
}

bool ranksAtLeast(std::string_view role, std::string_view target) {
  const int own = roleRank(role);
  return own > 0 && roleRank(target) <= own;
}

Authenticator::Authenticator(store::Accounts& accounts, store::ApiAccess& access,
                             const MasterKey& key, Options options)
    : accounts_(accounts), access_(access), key_(key), options_(options), hasher_(key) {}

common::Result<std::optional<Authenticator::CachedAccount>> Authenticator::account(
    std::string_view sid) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    auto it = account_cache_.find(std::string(sid));
    if (it != account_cache_.end() && it->second.until > now) return std::optional(it->second);
    auto gone = missing_accounts_.find(std::string(sid));
    if (gone != missing_accounts_.end() && gone->second > now)
      return std::optional<CachedAccount>();
    generation = generation_;
  }
  auto found = accounts_.find(sid);
  if (!found) return found.error();
  if (!*found) {
    // Remembered too: guesses at account SIDs repeated within cache_ttl cost no store read.
    std::lock_guard lock(mu_);
    if (generation != generation_) return std::optional<CachedAccount>();
    if (missing_accounts_.size() > 100000) missing_accounts_.clear();  // bounded
    missing_accounts_[std::string(sid)] = now + options_.cache_ttl;
    return std::optional<CachedAccount>();
  }
  CachedAccount c;
  c.account = std::move(**found);
  c.active = c.account.status == "active";
  if (c.active && c.account.parent_sid) {
    auto parent = accounts_.find(*c.account.parent_sid);
    if (!parent) return parent.error();
    c.active = *parent && (*parent)->status == "active";
  }
  if (auto token = key_.open(c.account.auth_token_sealed, c.account.sid))
    c.token = std::move(*token);
  if (!c.account.auth_token_secondary_sealed.empty()) {
    if (auto token = key_.open(c.account.auth_token_secondary_sealed, c.account.sid))
      c.secondary_token = std::move(*token);
  }
  c.until = now + options_.cache_ttl;
  std::lock_guard lock(mu_);
  if (generation != generation_) return std::optional(std::move(c));  // changed meanwhile
  if (account_cache_.size() > 100000) account_cache_.clear();         // bounded; refills on demand
  account_cache_[c.account.sid] = c;
  return std::optional(std::move(c));
}

AuthOutcome Authenticator::authenticate(std::string_view authorization, Caller* caller) {
  std::string user, password;
  if (!decodeBasic(authorization, &user, &password)) return AuthOutcome::kMissing;
  if (store::isSid(user, "AC")) {
    auto acc = account(user);
    if (!acc) return AuthOutcome::kUnavailable;
    // A token that failed to open (another master key) matches nothing. During a rotation
    // the secondary token works beside the primary; both are compared, whichever matches.
    if (!*acc) return AuthOutcome::kBadCredentials;
    const bool primary = !(*acc)->token.empty() && constantTimeEquals((*acc)->token, password);
    const bool secondary =
        !(*acc)->secondary_token.empty() && constantTimeEquals((*acc)->secondary_token, password);
    if (!primary && !secondary) return AuthOutcome::kBadCredentials;
    if (!(*acc)->active) return AuthOutcome::kInactive;
    *caller = {user, user, std::nullopt, "owner"};
    return AuthOutcome::kOk;
  }
  if (!store::isSid(user, "SK")) return AuthOutcome::kBadCredentials;
  auto key = keyRow(user);
  if (!key) return AuthOutcome::kUnavailable;
  if (!*key || !keySecretMatches(**key, password)) return AuthOutcome::kBadCredentials;
  const store::ApiKey& k = **key;
  auto acc = account(k.account_sid);
  if (!acc) return AuthOutcome::kUnavailable;
  if (!*acc) return AuthOutcome::kBadCredentials;
  if (!(*acc)->active) return AuthOutcome::kInactive;
  *caller = {k.account_sid, k.sid, k.user_sid, k.role};
  return AuthOutcome::kOk;
}

common::Result<std::optional<store::ApiKey>> Authenticator::keyRow(const std::string& sid) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    auto it = key_cache_.find(sid);
    if (it != key_cache_.end() && it->second.until > now) return std::optional(it->second.key);
    auto gone = missing_keys_.find(sid);
    if (gone != missing_keys_.end() && gone->second > now) return std::optional<store::ApiKey>();
    generation = generation_;
  }
  // Found or not, the row is kept: wrong secrets for a known SID (or any secret for an
  // unknown one) repeated within cache_ttl cost no database read.
  auto found = access_.findKey(sid);
  if (!found) return found.error();
  std::lock_guard lock(mu_);
  if (generation != generation_) return std::move(*found);  // changed meanwhile: not kept
  if (!*found) {
    if (missing_keys_.size() > 100000) missing_keys_.clear();  // bounded
    missing_keys_[sid] = now + options_.cache_ttl;
    return std::move(*found);
  }
  if (key_cache_.size() > 100000) {  // bounded (by the keys that exist); refills on demand
    std::erase_if(key_cache_, [&](const auto& kv) { return kv.second.until <= now; });
    if (key_cache_.size() > 100000) key_cache_.clear();
  }
  key_cache_[sid] = {**found, now + options_.cache_ttl};
  return std::move(*found);
}

bool Authenticator::keySecretMatches(const store::ApiKey& key, std::string_view secret) {
  if (!isSlowHash(key.secret_hash)) return hasher_.verify(secret, key.secret_hash);
  if (!takeLegacyCheck(key.sid)) return false;
  if (!verifySecret(secret, key.secret_hash)) return false;
  rehash(key, secret);
  return true;
}

bool Authenticator::takeLegacyCheck(const std::string& sid) {
  const auto now = std::chrono::steady_clock::now();
  const double rate = std::max(1u, options_.legacy_checks_per_second);
  std::lock_guard lock(mu_);
  // One entry per legacy key that exists (only they get here): bounded by the store.
  auto [it, fresh] = legacy_budgets_.try_emplace(sid, Budget{rate, now});
  Budget& b = it->second;
  if (!fresh) {
    b.tokens = std::min(rate, b.tokens + rate * std::chrono::duration<double>(now - b.at).count());
    b.at = now;
  }
  if (b.tokens < 1) {
    ++legacy_refused_;
    return false;
  }
  b.tokens -= 1;
  return true;
}

void Authenticator::rehash(const store::ApiKey& key, std::string_view secret) {
  store::ApiKey upgraded = key;
  upgraded.secret_hash = hasher_.hash(secret);
  // Another node may have done it first: the hash is the same (same master key), and a failed
  // write only means the next cache refill pays one more budgeted check.
  if (auto r = access_.replaceKeyHash(key.sid, key.secret_hash, upgraded.secret_hash); !r)
    SB_LOG(kWarn, "api: key " + key.sid + " not re-hashed: " + r.error().reason);
  std::lock_guard lock(mu_);
  auto it = key_cache_.find(key.sid);
  if (it != key_cache_.end() && it->second.key.secret_hash == key.secret_hash)
    it->second.key = std::move(upgraded);
  legacy_budgets_.erase(key.sid);
}

common::Result<std::optional<store::Account>> Authenticator::reachable(const Caller& caller,
                                                                       std::string_view account_sid,
                                                                       bool* active) {
  auto acc = account(account_sid);
  if (!acc) return acc.error();
  if (!*acc) return std::optional<store::Account>();
  const store::Account& a = (*acc)->account;
  if (a.sid != caller.account_sid && a.parent_sid != caller.account_sid)
    return std::optional<store::Account>();
  if (active) *active = (*acc)->active;
  return std::optional(a);
}

bool Authenticator::knownAccount(std::string_view account_sid) {
  auto acc = account(account_sid);
  return acc && *acc;
}

std::chrono::milliseconds Authenticator::failed(std::string_view source) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  ++failure_count_;
  if (failures_.size() > 100000) {
    std::erase_if(failures_,
                  [&](const auto& kv) { return now - kv.second.since > options_.failure_window; });
  }
  Failures& f = failures_[std::string(source)];
  if (f.count == 0 || now - f.since > options_.failure_window) f = {0, now};
  ++f.count;
  if (f.count <= options_.free_failures) return std::chrono::milliseconds(0);
  unsigned doublings = std::min(f.count - options_.free_failures - 1, 16u);
  return std::min(options_.max_delay, options_.first_delay * (int64_t(1) << doublings));
}

void Authenticator::invalidate(std::string_view sid) {
  std::lock_guard lock(mu_);
  ++generation_;
  account_cache_.erase(std::string(sid));
  missing_accounts_.erase(std::string(sid));
  key_cache_.erase(std::string(sid));
  missing_keys_.erase(std::string(sid));
  // A subaccount's activity follows its parent's status.
  std::erase_if(account_cache_,
                [&](const auto& kv) { return kv.second.account.parent_sid == sid; });
}

uint64_t Authenticator::failures() const {
  std::lock_guard lock(mu_);
  return failure_count_;
}

uint64_t Authenticator::legacyChecksRefused() const {
  std::lock_guard lock(mu_);
  return legacy_refused_;
}

}  // namespace api
