// Who owns each SIP domain name: the operator or exactly one account. A name's owner is the
// only one whose digest credentials authenticate user@name at the edge
// (SipCredentials::findOwned), and the only one that may provision there (an API SIP Domain,
// `admin sip-user add`). Names in the configuration (sip.domains, sip.redirect_domains) are
// assigned to the operator when serve starts.
//
//   auto got = store.sipDomainOwners().claim("example.com", "AC...", "admin", now);
//   if (got && *got == store::ClaimOutcome::kTaken) refuse("not available");
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct SipDomainOwner {
  std::string domain;                      // lower case
  std::optional<std::string> account_sid;  // nullopt: the operator
  int64_t claimed_at = 0;                  // unix seconds
  // How: "config" (sip.domains at serve's start), "admin" (sip-user add, sip-domain assign,
  // or rows an older version had provisioned), "api" (a SIP Domain created through the API).
  // An "api" claim ends with the last SIP Domain and credential on the name.
  std::string claimed_by;

  bool operator==(const SipDomainOwner&) const = default;
};

enum class ClaimOutcome {
  kClaimed,  // the name had no owner; now it is the claimant's
  kOwned,    // the claimant owned it already
  kTaken,    // someone else owns it; nothing changed
};

// What sits on a name without belonging to its owner (or on a name nobody owns): an
// account's or the operator's credentials, or an account's API SIP Domain. None of it
// authenticates; `switchboard admin sip-domain list` shows it and `assign` settles it.
struct SipDomainStray {
  std::string domain;
  bool owned = false;                     // false: the name has no owner at all
  std::optional<std::string> owner;       // when owned; nullopt: the operator
  std::optional<std::string> holder;      // whose rows these are; nullopt: the operator's
  int64_t credentials = 0;                // the holder's credential rows on the name
  std::optional<std::string> sip_domain;  // the holder's API SIP Domain (SD...) on it

  bool operator==(const SipDomainStray&) const = default;
};

class SipDomainOwners {
 public:
  virtual ~SipDomainOwners() = default;
  // Makes `account_sid` (nullopt: the operator) the owner of a name nobody owns.
  // kInvalidArgument for an empty name.
  virtual common::Result<ClaimOutcome> claim(std::string_view domain,
                                             const std::optional<std::string>& account_sid,
                                             std::string_view claimed_by, int64_t now) = 0;
  virtual common::Result<std::optional<SipDomainOwner>> find(std::string_view domain) = 0;
  virtual common::Result<std::vector<SipDomainOwner>> list() = 0;  // by name
  // Sets the owner whoever held the name; the previous owner (nullopt: there was none).
  virtual common::Result<std::optional<SipDomainOwner>> assign(
      std::string_view domain, const std::optional<std::string>& account_sid,
      std::string_view claimed_by, int64_t now) = 0;
  // The name has no owner afterwards; false when it had none.
  virtual common::Result<bool> release(std::string_view domain) = 0;
  // Everything held on names by someone other than their owner, by name then holder (the
  // operator first).
  virtual common::Result<std::vector<SipDomainStray>> strays() = 0;
};

}  // namespace store
