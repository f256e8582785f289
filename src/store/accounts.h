// Accounts and subaccounts (Twilio's AC resources): who owns numbers, keys, users and money.
// The auth token is kept only sealed (encrypted by the api part under the master key), since
// webhook signing needs it back; the store never sees it in clear. Balances are integers in
// millicents (1/100000 of the currency unit), so rating never rounds through a double.
//
//   store.accounts().create({.sid = sid, .friendly_name = "Acme", .auth_token_sealed = sealed,
//                            .created_at = now, .updated_at = now});
//   auto page = store.accounts().listFamily(owner_sid, {}, /*offset=*/0, /*limit=*/50);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

// A Twilio SID: the two-letter `prefix` then 32 lower-case hex digits.
bool isSid(std::string_view sid, std::string_view prefix);

// Twilio's account statuses.
bool isAccountStatus(std::string_view status);  // "active", "suspended" or "closed"

struct Account {
  std::string sid;                        // "AC" + 32 lower-case hex
  std::optional<std::string> parent_sid;  // the owner account of a subaccount
  std::string friendly_name;
  std::string status = "active";
  std::string auth_token_sealed;  // opaque text made by the api part
  int64_t balance_millicents = 0;
  std::string currency = "USD";
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  // A rotation's second token, sealed like the first; "" = none. It authenticates beside the
  // primary until it is promoted (promoteSecondaryToken) or deleted.
  std::string auth_token_secondary_sealed;

  bool operator==(const Account&) const = default;
};

struct AccountFilter {
  std::optional<std::string> friendly_name;  // exact
  std::optional<std::string> status;
};

struct AccountUpdate {
  std::optional<std::string> friendly_name;
  std::optional<std::string> status;
  std::optional<std::string> auth_token_sealed;
  std::optional<std::string> auth_token_secondary_sealed;  // "" deletes it
  int64_t updated_at = 0;
  // Applies only while the account is not closed, checked in the same statement (a closed
  // account stays closed whatever another node's cache says).
  bool unless_closed = false;
};

class Accounts {
 public:
  virtual ~Accounts() = default;
  // false when the SID exists. kInvalidArgument: a SID not AC+32 hex, an unknown status, a
  // parent that does not exist or is itself a subaccount.
  virtual common::Result<bool> create(const Account& account) = 0;
  virtual common::Result<std::optional<Account>> find(std::string_view sid) = 0;
  // The account itself and its subaccounts, oldest first (created_at, then sid).
  virtual common::Result<std::vector<Account>> listFamily(std::string_view owner_sid,
                                                          const AccountFilter& filter,
                                                          int64_t offset, int64_t limit) = 0;
  virtual common::Result<int64_t> countFamily(std::string_view owner_sid,
                                              const AccountFilter& filter) = 0;
  // The updated account, or nullopt when there is none (or it is closed and the update says
  // unless_closed). kInvalidArgument: unknown status.
  virtual common::Result<std::optional<Account>> update(std::string_view sid,
                                                        const AccountUpdate& update) = 0;
  // The secondary token becomes the primary and the secondary is emptied, in one statement:
  // the old primary is gone at once. The updated account, or nullopt when the account does
  // not exist or has no secondary token.
  virtual common::Result<std::optional<Account>> promoteSecondaryToken(std::string_view sid,
                                                                       int64_t updated_at) = 0;
  // Adds `delta` (may be negative) in one statement; the new balance, or nullopt when the
  // account does not exist.
  virtual common::Result<std::optional<int64_t>> addToBalance(std::string_view sid,
                                                              int64_t delta_millicents,
                                                              int64_t updated_at) = 0;
};

}  // namespace store
