#include "api/provisioning.h"

#include "common/ids.h"
#include "common/strings.h"

namespace api {

using common::ErrorCode;
using common::makeError;

namespace {

// Created rows carry fresh random SIDs: a clash (2^-128) is reported, not retried.
common::Status created(const common::Result<bool>& r, std::string_view what) {
  if (!r) return r.error();
  if (!*r) return makeError(ErrorCode::kInternal, std::string(what) + " SID clash; try again");
  return {};
}

}  // namespace

common::Result<NewAccount> Provisioning::createAccount(std::string_view friendly_name,
                                                       const std::optional<std::string>& parent,
                                                       int64_t now) {
  NewAccount out;
  store::Account& a = out.account;
  a.sid = common::newSid("AC");
  a.parent_sid = parent;
  a.friendly_name = friendly_name.empty() ? ("SubAccount Created at " + std::to_string(now))
                                          : std::string(friendly_name);
  if (friendly_name.empty() && !parent) a.friendly_name = "My first Switchboard account";
  out.auth_token = newToken();
  a.auth_token_sealed = key_.seal(out.auth_token, a.sid);
  a.created_at = a.updated_at = now;
  if (auto st = created(store_.accounts().create(a), "account"); !st) return st.error();
  return out;
}

std::string Provisioning::authToken(const store::Account& account) const {
  auto t = key_.open(account.auth_token_sealed, account.sid);
  return t ? *t : std::string();
}

std::string Provisioning::secondaryToken(const store::Account& account) const {
  if (account.auth_token_secondary_sealed.empty()) return "";
  auto t = key_.open(account.auth_token_secondary_sealed, account.sid);
  return t ? *t : std::string();
}

common::Result<std::optional<RotatedToken>> Provisioning::createSecondaryToken(
    std::string_view account_sid, int64_t now) {
  RotatedToken out;
  out.token = newToken();
  store::AccountUpdate u;
  // Sealed with the account's SID as the primary is, so promotion moves the sealed text.
  u.auth_token_secondary_sealed = key_.seal(out.token, account_sid);
  u.updated_at = now;
  auto updated = store_.accounts().update(account_sid, u);
  if (!updated) return updated.error();
  if (!*updated) return std::optional<RotatedToken>();
  out.account = std::move(**updated);
  return std::optional(std::move(out));
}

common::Result<std::optional<store::Account>> Provisioning::deleteSecondaryToken(
    std::string_view account_sid, int64_t now) {
  store::AccountUpdate u;
  u.auth_token_secondary_sealed = "";
  u.updated_at = now;
  return store_.accounts().update(account_sid, u);
}

common::Result<std::optional<store::Account>> Provisioning::promoteSecondaryToken(
    std::string_view account_sid, int64_t now) {
  return store_.accounts().promoteSecondaryToken(account_sid, now);
}

common::Result<std::pair<store::User, NewKey>> Provisioning::createUser(
    std::string_view account_sid, std::string_view email, std::string_view role, int64_t now) {
  store::User u;
  u.sid = common::newSid("US");
  u.account_sid = account_sid;
  u.email = common::toLower(email);  // as the store keeps it
  u.role = role;
  u.created_at = u.updated_at = now;
  NewKey key = makeKey(account_sid, email, role, u.sid, now);
  // Both or neither: a user without a way in is of no use, a key without its user an orphan.
  auto made = store_.apiAccess().createUserWithKey(u, key.key);
  if (!made) return made.error();
  if (!*made)
    return makeError(ErrorCode::kInvalidArgument,
                     "a user with email " + std::string(email) + " already exists in the account");
  return std::pair(u, std::move(key));
}

NewKey Provisioning::makeKey(std::string_view account_sid, std::string_view friendly_name,
                             std::string_view role, const std::optional<std::string>& user_sid,
                             int64_t now) const {
  NewKey out;
  store::ApiKey& k = out.key;
  k.sid = common::newSid("SK");
  k.account_sid = account_sid;
  k.friendly_name = friendly_name;
  k.role = role;
  k.user_sid = user_sid;
  k.created_at = k.updated_at = now;
  out.secret = newToken();
  k.secret_hash = KeyHasher(key_).hash(out.secret);
  return out;
}

common::Result<NewKey> Provisioning::createKey(std::string_view account_sid,
                                               std::string_view friendly_name,
                                               std::string_view role,
                                               const std::optional<std::string>& user_sid,
                                               int64_t now) {
  NewKey out = makeKey(account_sid, friendly_name, role, user_sid, now);
  if (auto st = created(store_.apiAccess().createKey(out.key), "API key"); !st) return st.error();
  return out;
}

}  // namespace api
