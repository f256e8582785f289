// SIP Domains and Credential Lists as accounts provision them through the API (Twilio's
// SD, CL and CR resources), and the digest credentials they give the SIP edge: every
// credential of every list mapped to a domain becomes a row of sip_credentials (HA1 over the
// domain's realm), marked as derived, recomputed in the same transaction as each change.
//
//   auto derive = [&](std::string_view domain, std::string_view realm,
//                     const store::ListCredential& c) -> common::Result<store::SipCredential> {
//     return hashesOf(domain, realm, c.username, open(c.password_sealed, c.sid));
//   };
//   store.sipAuthLists().createMapping(account, "SD...", "CL...", now, derive);
//   // sip_credentials now holds the list's users for the domain.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/sip_credentials.h"

namespace store {

// A domain an account provisioned (its edge row is sip_domains, mode proxy).
struct ApiSipDomain {
  std::string sid;  // SD...
  std::string account_sid;
  std::string domain_name;  // a lower-case DNS host name, unique across accounts
  std::string friendly_name;
  std::string voice_url;
  std::string voice_method = "POST";
  std::string voice_fallback_url;
  std::string voice_fallback_method = "POST";
  std::string voice_status_callback_url;
  std::string voice_status_callback_method = "POST";
  bool sip_registration = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t credential_lists = 0;  // read only: how many lists are mapped to it

  bool operator==(const ApiSipDomain&) const = default;
};

struct CredentialList {
  std::string sid;  // CL...
  std::string account_sid;
  std::string friendly_name;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool operator==(const CredentialList&) const = default;
};

// A user of a list. The password is kept sealed (the api's MasterKey, bound to `sid`): the
// HA1 of a domain's realm can only be computed from the clear text, and it is never shown.
struct ListCredential {
  std::string sid;  // CR...
  std::string account_sid;
  std::string list_sid;
  std::string username;
  std::string password_sealed;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool operator==(const ListCredential&) const = default;
};

struct DomainListMapping {
  std::string domain_sid;
  std::string list_sid;  // the mapping's own SID, as in Twilio
  std::string account_sid;
  std::string friendly_name;  // the list's
  int64_t created_at = 0;

  bool operator==(const DomainListMapping&) const = default;
};

enum class SipAuthOutcome {
  kDone,
  kNotFound,  // the domain, list or credential is not the account's
  kTaken,     // the domain name, the username in its list, or the mapping exists already
};

class SipAuthLists {
 public:
  // Computes the HA1s of `credential` for `domain`, whose digest realm is `realm`; only the
  // hashes of the result are used. Called inside the store's transaction: an error rolls the
  // whole change back. It must not use the store.
  using Deriver = std::function<common::Result<SipCredential>(
      std::string_view domain, std::string_view realm, const ListCredential& credential)>;

  virtual ~SipAuthLists() = default;

  // Domains. Create also claims the name for the account (SipDomainOwners, "api") and
  // sip_domains(domain_name, proxy, account); kTaken when the name belongs to the operator
  // or another account, or is served already. Update does the same for a new name; update and
  // remove end the account's "api" claim on a name left empty.
  virtual common::Result<SipAuthOutcome> createDomain(const ApiSipDomain& domain) = 0;
  virtual common::Result<std::optional<ApiSipDomain>> findDomain(std::string_view account_sid,
                                                                 std::string_view sid) = 0;
  virtual common::Result<std::vector<ApiSipDomain>> listDomains(std::string_view account_sid,
                                                                int64_t offset, int64_t limit) = 0;
  // Replaces the fields (not sid, account or created_at). A new domain_name moves the edge row
  // and the derived credentials (recomputed for the new realm).
  virtual common::Result<SipAuthOutcome> updateDomain(const ApiSipDomain& domain,
                                                      const Deriver& derive) = 0;
  // The domain, its mappings, its edge row and its derived credentials.
  virtual common::Result<bool> removeDomain(std::string_view account_sid, std::string_view sid) = 0;

  // Credential lists.
  virtual common::Status createList(const CredentialList& list) = 0;
  virtual common::Result<std::optional<CredentialList>> findList(std::string_view account_sid,
                                                                 std::string_view sid) = 0;
  virtual common::Result<std::vector<CredentialList>> listLists(std::string_view account_sid,
                                                                int64_t offset, int64_t limit) = 0;
  virtual common::Result<bool> renameList(std::string_view account_sid, std::string_view sid,
                                          std::string_view friendly_name, int64_t updated_at) = 0;
  // The list, its credentials and mappings; the domains it was mapped to are recomputed.
  virtual common::Result<bool> removeList(std::string_view account_sid, std::string_view sid,
                                          const Deriver& derive) = 0;

  // Credentials of a list (kNotFound: the list is not the account's).
  virtual common::Result<SipAuthOutcome> createCredential(const ListCredential& credential,
                                                          const Deriver& derive) = 0;
  virtual common::Result<std::optional<ListCredential>> findCredential(std::string_view account_sid,
                                                                       std::string_view list_sid,
                                                                       std::string_view sid) = 0;
  virtual common::Result<std::vector<ListCredential>> listCredentials(std::string_view account_sid,
                                                                      std::string_view list_sid,
                                                                      int64_t offset,
                                                                      int64_t limit) = 0;
  virtual common::Result<bool> updatePassword(std::string_view account_sid,
                                              std::string_view list_sid, std::string_view sid,
                                              std::string_view password_sealed, int64_t updated_at,
                                              const Deriver& derive) = 0;
  virtual common::Result<bool> removeCredential(std::string_view account_sid,
                                                std::string_view list_sid, std::string_view sid,
                                                const Deriver& derive) = 0;

  // Mappings of lists to domains.
  virtual common::Result<SipAuthOutcome> createMapping(std::string_view account_sid,
                                                       std::string_view domain_sid,
                                                       std::string_view list_sid,
                                                       int64_t created_at,
                                                       const Deriver& derive) = 0;
  virtual common::Result<std::optional<DomainListMapping>> findMapping(
      std::string_view account_sid, std::string_view domain_sid, std::string_view list_sid) = 0;
  virtual common::Result<std::vector<DomainListMapping>> listMappings(std::string_view account_sid,
                                                                      std::string_view domain_sid,
                                                                      int64_t offset,
                                                                      int64_t limit) = 0;
  virtual common::Result<bool> removeMapping(std::string_view account_sid,
                                             std::string_view domain_sid, std::string_view list_sid,
                                             const Deriver& derive) = 0;
};

// A DNS host name of at least two labels (letters, digits, '-'; not an IP address), at most
// 253 characters; case-insensitive (stored lower-case).
bool isSipDomainName(std::string_view name);

}  // namespace store
