// Who may use the REST API of an account: its users (each with one role) and API keys (SK
// SIDs whose secret is kept only as a hash made by the api part). A key acts with the
// role it was given, normally its user's.
//
//   store.apiAccess().createUser({.sid = us, .account_sid = ac, .email = "a@b.c",
//                                 .role = "developer", .created_at = now, .updated_at = now});
//   store.apiAccess().createKey({.sid = sk, .account_sid = ac, .secret_hash = hash,
//                                .role = "developer", .user_sid = us, ...});
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

// "owner", "admin", "developer", "billing" or "read-only".
bool isRole(std::string_view role);

struct User {
  std::string sid;  // "US" + 32 hex
  std::string account_sid;
  std::string email;  // unique within the account, stored lower-case
  std::string role;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const User&) const = default;
};

struct ApiKey {
  std::string sid;  // "SK" + 32 hex
  std::string account_sid;
  std::string friendly_name;
  std::string secret_hash;  // opaque text made by the api part
  std::string role;
  std::optional<std::string> user_sid;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const ApiKey&) const = default;
};

// What removeUser and setUserRole did.
enum class UserChange {
  kDone,
  kNotFound,   // no such user in the account
  kLastOwner,  // refused, nothing changed: the user is the account's only owner user
};

class ApiAccess {
 public:
  virtual ~ApiAccess() = default;
  // false when the SID, or the email within the account, exists. kInvalidArgument: bad SID,
  // unknown role, empty email, an account that does not exist.
  virtual common::Result<bool> createUser(const User& user) = 0;
  // The user and its first key (whose user_sid is the user's) in one transaction: both or
  // neither. false when the user's SID or email exists (then no key is written either).
  virtual common::Result<bool> createUserWithKey(const User& user, const ApiKey& key) = 0;
  virtual common::Result<std::optional<User>> findUser(std::string_view account_sid,
                                                       std::string_view user_sid) = 0;
  virtual common::Result<std::vector<User>> listUsers(
      std::string_view account_sid) = 0;  // by email
  // Deletes the user and every API key that acts for it, in one transaction; the account's
  // last owner user stays (kLastOwner).
  virtual common::Result<UserChange> removeUser(std::string_view account_sid,
                                                std::string_view user_sid) = 0;
  // Gives the user `role`, and the API keys that act for it the same role, in one
  // transaction; demoting the account's last owner user is refused (kLastOwner).
  // kInvalidArgument: unknown role.
  virtual common::Result<UserChange> setUserRole(std::string_view account_sid,
                                                 std::string_view user_sid, std::string_view role,
                                                 int64_t updated_at) = 0;
  // false when the SID exists. kInvalidArgument: bad SID, unknown role, a user_sid that is
  // not a user of the same account, an account that does not exist.
  virtual common::Result<bool> createKey(const ApiKey& key) = 0;
  // By SID alone: authentication looks the key up before it knows the account.
  virtual common::Result<std::optional<ApiKey>> findKey(std::string_view key_sid) = 0;
  virtual common::Result<std::vector<ApiKey>> listKeys(
      std::string_view account_sid) = 0;  // oldest first
  virtual common::Result<bool> removeKey(std::string_view account_sid,
                                         std::string_view key_sid) = 0;
  // Replaces a key's secret hash when it still is `expected` (another node may have replaced
  // it first): how keys of earlier versions move to the current hash on their next use.
  // false when the key is gone or its hash is no longer `expected`. updated_at stays: the key
  // is the same to its users.
  virtual common::Result<bool> replaceKeyHash(std::string_view key_sid, std::string_view expected,
                                              std::string_view replacement) = 0;
};

}  // namespace store
