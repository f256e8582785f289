// SIP digest credentials per (domain, username): the HA1 hashes (RFC 2617 MD5, RFC 7616
// SHA-256) in lower-case hex, never the password. The registrar and proxy look them up to
// verify Authorization headers, with the rows of the domain's owner only (findOwned).
//
//   auto cred = store.sipCredentials().findOwned("example.com", "alice");
//   if (cred && *cred) verify((*cred)->ha1_md5, ...);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct SipCredential {
  std::string domain;      // stored lower-case
  std::string username;    // case-sensitive, as in the digest
  std::string ha1_md5;     // 32 hex digits, or empty when only SHA-256 is kept
  std::string ha1_sha256;  // 64 hex digits, or empty when only MD5 is kept
  std::optional<std::string> account_sid;
  int64_t created_at = 0;  // unix seconds; kept from the first upsert

  bool operator==(const SipCredential&) const = default;
};

class SipCredentials {
 public:
  virtual ~SipCredentials() = default;
  // Inserts, or replaces the hashes and account of an existing user (created_at is kept).
  // kInvalidArgument for an empty domain or username, a hash of the wrong length or not hex,
  // or no hash at all. Hex is stored lower-case.
  virtual common::Status upsert(const SipCredential& credential) = 0;
  virtual common::Result<std::optional<SipCredential>> find(std::string_view domain,
                                                            std::string_view username) = 0;
  // As find(), but only a credential of the domain's owner (SipDomainOwners): the owning
  // account's, or the operator's own (no account) on an operator's name; never one on a name
  // nobody owns, nor one of a suspended or closed account (or of an account whose parent is
  // not active). What the edge authenticates with; it keeps a found row for up to 30 s
  // (edge::EdgeStore), so a suspension or a new owner reaches a running edge within that.
  virtual common::Result<std::optional<SipCredential>> findOwned(std::string_view domain,
                                                                 std::string_view username) = 0;
  virtual common::Result<bool> remove(std::string_view domain, std::string_view username) = 0;
  // The credentials of one domain, by username.
  virtual common::Result<std::vector<SipCredential>> list(std::string_view domain) = 0;
};

}  // namespace store
