// Creating accounts, users and keys: the steps the REST API and `switchboard admin` share, so
// a token is generated, sealed and stored the same way whoever asks. The clear token or
// secret is returned once, to be shown to whoever asked; only its sealed form or keyed hash
// (KeyHasher) is stored.
//
//   api::Provisioning p(store, master_key);
//   auto acc = p.createAccount("Acme", std::nullopt, now);  // acc->auth_token is clear
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/secrets.h"
#include "common/result.h"
#include "store/store.h"

namespace api {

struct NewAccount {
  store::Account account;
  std::string auth_token;
};

struct NewKey {
  store::ApiKey key;
  std::string secret;
};

// A token just made by a rotation, with the account as stored after it.
struct RotatedToken {
  store::Account account;
  std::string token;  // clear, shown once
};

class Provisioning {
 public:
  Provisioning(store::Store& store, const MasterKey& key) : store_(store), key_(key) {}

  // A main account (parent empty) or a subaccount of `parent`. kInvalidArgument: the parent
  // does not exist or is itself a subaccount.
  common::Result<NewAccount> createAccount(std::string_view friendly_name,
                                           const std::optional<std::string>& parent, int64_t now);
  // The token in clear ("" when it does not open under this master key).
  std::string authToken(const store::Account& account) const;
  // The secondary token in clear ("" when there is none or it does not open).
  std::string secondaryToken(const store::Account& account) const;

  // Auth-token rotation, as Twilio's AuthTokens resource: a new secondary token that works
  // beside the primary (it replaces an earlier secondary), then promotion, which makes it the
  // primary in one statement (the old primary stops at once), or deletion. nullopt: no such
  // account (promote: or no secondary token). Callers that cache tokens invalidate them.
  common::Result<std::optional<RotatedToken>> createSecondaryToken(std::string_view account_sid,
                                                                   int64_t now);
  common::Result<std::optional<store::Account>> deleteSecondaryToken(std::string_view account_sid,
                                                                     int64_t now);
  common::Result<std::optional<store::Account>> promoteSecondaryToken(std::string_view account_sid,
                                                                      int64_t now);

  // A user with `role` and an API key acting for them, in one transaction.
  common::Result<std::pair<store::User, NewKey>> createUser(std::string_view account_sid,
                                                            std::string_view email,
                                                            std::string_view role, int64_t now);
  common::Result<NewKey> createKey(std::string_view account_sid, std::string_view friendly_name,
                                   std::string_view role,
                                   const std::optional<std::string>& user_sid, int64_t now);

 private:
  NewKey makeKey(std::string_view account_sid, std::string_view friendly_name,
                 std::string_view role, const std::optional<std::string>& user_sid,
                 int64_t now) const;

  store::Store& store_;
  const MasterKey& key_;
};

}  // namespace api
