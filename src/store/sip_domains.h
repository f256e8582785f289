// The SIP domains this platform serves: the digest realm and whether requests to the domain
// are proxied to registered contacts or answered with a redirect (3xx).
//
//   store.sipDomains().upsert({.domain = "example.com", .mode = store::SipDomainMode::kProxy});
//   auto d = store.sipDomains().find("Example.COM");  // realm "example.com"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

enum class SipDomainMode { kProxy, kRedirect };
const char* sipDomainModeName(SipDomainMode mode);  // "proxy", "redirect"
std::optional<SipDomainMode> parseSipDomainMode(std::string_view text);

struct SipDomain {
  std::string domain;  // stored lower-case
  std::string realm;   // empty on upsert = the domain
  SipDomainMode mode = SipDomainMode::kProxy;
  std::optional<std::string> account_sid;

  bool operator==(const SipDomain&) const = default;
};

class SipDomains {
 public:
  virtual ~SipDomains() = default;
  virtual common::Status upsert(const SipDomain& domain) = 0;  // kInvalidArgument: empty domain
  virtual common::Result<std::optional<SipDomain>> find(std::string_view domain) = 0;
  virtual common::Result<std::vector<SipDomain>> list() = 0;  // by domain
  virtual common::Result<bool> remove(std::string_view domain) = 0;
};

}  // namespace store
