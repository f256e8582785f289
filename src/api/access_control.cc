#include "api/access_control.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

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
    : accounts_(accounts),
      access_(access),
      key_(key),
      options_(options),
      process_secret_(newToken()) {}

std::string Authenticator::verifier(std::string_view secret) const {
  unsigned char out[32];
  unsigned int n = sizeof out;
  HMAC(EVP_sha256(), process_secret_.data(), int(process_secret_.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

common::Result<std::optional<Authenticator::CachedAccount>> Authenticator::account(
    std::string_view sid) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = account_cache_.find(std::string(sid));
    if (it != account_cache_.end() && it->second.until > now) return std::optional(it->second);
  }
  auto found = accounts_.find(sid);
  if (!found) return found.error();
  if (!*found) return std::optional<CachedAccount>();
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
  if (account_cache_.size() > 100000) account_cache_.clear();  // bounded; refills on demand
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
  const auto now = std::chrono::steady_clock::now();
  const std::string v = verifier(password);
  std::optional<store::ApiKey> key;
  {
    std::lock_guard lock(mu_);
    auto it = key_cache_.find(user);
    if (it != key_cache_.end() && it->second.until > now) {
      if (!constantTimeEquals(it->second.verifier, v)) return AuthOutcome::kBadCredentials;
      key = it->second.key;
    }
  }
  if (!key) {
    auto found = access_.findKey(user);
    if (!found) return AuthOutcome::kUnavailable;
    if (!*found || !verifySecret(password, (*found)->secret_hash))
      return AuthOutcome::kBadCredentials;
    key = **found;
    std::lock_guard lock(mu_);
    if (key_cache_.size() > 100000) key_cache_.clear();
    key_cache_[user] = {*key, v, now + options_.cache_ttl};
  }
  auto acc = account(key->account_sid);
  if (!acc) return AuthOutcome::kUnavailable;
  if (!*acc) return AuthOutcome::kBadCredentials;
  if (!(*acc)->active) return AuthOutcome::kInactive;
  *caller = {key->account_sid, key->sid, key->user_sid, key->role};
  return AuthOutcome::kOk;
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
  account_cache_.erase(std::string(sid));
  key_cache_.erase(std::string(sid));
  // A subaccount's activity follows its parent's status.
  std::erase_if(account_cache_,
                [&](const auto& kv) { return kv.second.account.parent_sid == sid; });
}

uint64_t Authenticator::failures() const {
  std::lock_guard lock(mu_);
  return failure_count_;
}

}  // namespace api
