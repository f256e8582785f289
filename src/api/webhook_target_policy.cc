#include "api/webhook_target_policy.h"

#include <array>
#include <cstdint>

#include <boost/asio/ip/address_v6.hpp>

#include "common/strings.h"

namespace api {
namespace {

namespace ip = boost::asio::ip;

struct V4Range {
  uint32_t net;
  unsigned prefix;
  const char* what;
};

// First match names the range. Documentation ranges (TEST-NET) are not refused: they reach
// nothing, so there is nothing to protect.
constexpr V4Range kRefusedV4[] = {
    {0x00000000, 8, "unspecified (0.0.0.0/8)"},
    {0x0A000000, 8, "private (RFC 1918)"},
    {0x64400000, 10, "shared address space (CGNAT, 100.64.0.0/10)"},
    {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local (169.254.0.0/16, cloud metadata)"},
    {0xAC100000, 12, "private (RFC 1918)"},
    {0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {0xC0A80000, 16, "private (RFC 1918)"},
    {0xC6120000, 15, "benchmarking (198.18.0.0/15)"},
    {0xE0000000, 4, "multicast"},
    {0xFFFFFFFF, 32, "broadcast"},
    {0xF0000000, 4, "reserved (240.0.0.0/4)"},
};

const char* refusedV4(uint32_t a) {
  for (const V4Range& r : kRefusedV4) {
    const uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t(0) << (32 - r.prefix);
    if ((a & mask) == r.net) return r.what;
  }
  return nullptr;
}

using Bytes = std::array<unsigned char, 16>;

bool startsWith(const Bytes& b, std::initializer_list<unsigned char> prefix) {
  size_t i = 0;
  for (unsigned char c : prefix) {
    if (b[i++] != c) return false;
  }
  return true;
}

bool zero(const Bytes& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

uint32_t v4At(const Bytes& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 |
         uint32_t(b[at + 3]);
}

// A refused range of IPv6 proper.
const char* refusedV6(const Bytes& b) {
  if (zero(b, 0, 16)) return "unspecified (::)";
  if (zero(b, 0, 15) && b[15] == 1) return "loopback (::1)";
  if ((b[0] & 0xFE) == 0xFC) return "unique-local (fc00::/7)";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "link-local (fe80::/10)";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return "site-local (fec0::/10)";
  if (b[0] == 0xFF) return "multicast (ff00::/8)";
  if (startsWith(b, {0x01, 0x00}) && zero(b, 2, 8)) return "discard-only (100::/64)";
  return nullptr;
}

// The IPv4 addresses an IPv6 address carries to the IPv4 network, with the form's name.
struct Embedded {
  uint32_t v4;
  const char* form;
};

std::vector<Embedded> embeddedV4(const Bytes& b) {
  std::vector<Embedded> out;
  if (zero(b, 0, 10) && b[10] == 0xFF && b[11] == 0xFF) {
    out.push_back({v4At(b, 12), "IPv4-mapped"});
  } else if (zero(b, 0, 12)) {
    out.push_back({v4At(b, 12), "IPv4-compatible"});
  } else if (zero(b, 0, 8) && b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0) {
    out.push_back({v4At(b, 12), "IPv4-translated (SIIT)"});
  } else if (startsWith(b, {0x00, 0x64, 0xFF, 0x9B}) && zero(b, 4, 12)) {
    out.push_back({v4At(b, 12), "NAT64 (64:ff9b::/96)"});
  } else if (startsWith(b, {0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01})) {
    out.push_back({v4At(b, 12), "local NAT64 (64:ff9b:1::/48)"});
  } else if (startsWith(b, {0x20, 0x02})) {
    out.push_back({v4At(b, 2), "6to4 (2002::/16)"});
  } else if (startsWith(b, {0x20, 0x01, 0x00, 0x00})) {
    // Teredo: the server, then the client's address with its bits inverted.
    out.push_back({v4At(b, 4), "Teredo server (2001::/32)"});
    out.push_back({~v4At(b, 12), "Teredo client (2001::/32)"});
  }
  return out;
}

// Cloud instance metadata services by name: Google (metadata.google.internal, metadata,
// metadata.goog), AWS (instance-data, instance-data.ec2.internal), Tencent
// (metadata.tencentyun.com). Others (Azure, Oracle, Alibaba, DigitalOcean, OpenStack) are
// reached by address only, which refusal() covers (169.254.169.254, 100.100.100.200,
// fd00:ec2::254, 192.0.0.192).
constexpr std::string_view kMetadataNames[] = {
    "metadata",      "metadata.google.internal",   "metadata.goog",
    "instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com",
};

// Names the system resolves to loopback without asking DNS (RFC 6761 §6.3, /etc/hosts).
bool loopbackName(std::string_view name) {
  if (name == "localhost" || name == "localhost.localdomain" || name == "ip6-localhost" ||
      name == "ip6-loopback")
    return true;
  constexpr std::string_view kSuffix = ".localhost";
  return name.size() > kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix;
}

std::optional<uint64_t> atonPart(std::string_view p) {
  if (p.empty()) return std::nullopt;
  unsigned base = 10;
  if (p.size() >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p.remove_prefix(2);
    if (p.empty()) return 0;  // glibc reads "0x" as 0
  } else if (p.size() >= 2 && p[0] == '0') {
    base = 8;
    p.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : p) {
    unsigned d = 0;
    if (common::isDigit(c)) {
      d = unsigned(c - '0');
    } else if (base == 16 && common::isHexDigit(c)) {
      d = unsigned(common::hexValue(c));
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > 0xFFFFFFFFu) return std::nullopt;
  }
  return v;
}

}  // namespace

bool isCloudMetadataName(std::string_view host) {
  std::string name = common::toLower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (std::string_view m : kMetadataNames) {
    if (name == m) return true;
  }
  return false;
}

std::optional<ip::address_v4> parseInetAton(std::string_view host) {
  std::vector<uint64_t> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    auto v = atonPart(host.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!v) return std::nullopt;
    parts.push_back(*v);
    if (dot == std::string_view::npos) break;
    if (parts.size() == 4) return std::nullopt;
    start = dot + 1;
  }
  // Every part but the last is one byte; the last fills the bytes left.
  uint32_t a = 0;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 0xFF) return std::nullopt;
    a |= uint32_t(parts[i]) << (24 - 8 * i);
  }
  const unsigned rest_bits = unsigned(32 - 8 * (parts.size() - 1));
  if (rest_bits < 32 && parts.back() >> rest_bits != 0) return std::nullopt;
  a |= uint32_t(parts.back());
  return ip::address_v4(a);
}

common::Result<WebhookTargetPolicy> WebhookTargetPolicy::create(
    const std::vector<std::string>& allow) {
  auto set = common::AddressSet::parse(allow);
  if (!set) return set.error();
  return WebhookTargetPolicy(std::move(*set));
}

std::optional<std::string> WebhookTargetPolicy::refusal(const ip::address& address) const {
  if (allow_.contains(address)) return std::nullopt;
  const std::string text = address.to_string();
  if (address.is_v4()) {
    if (const char* what = refusedV4(address.to_v4().to_uint())) return text + " is " + what;
    return std::nullopt;
  }
  const Bytes b = address.to_v6().to_bytes();
  if (const char* what = refusedV6(b)) return text + " is " + what;
  for (const Embedded& e : embeddedV4(b)) {
    const ip::address_v4 inner(e.v4);
    if (allow_.contains(ip::address(inner))) continue;
    if (const char* what = refusedV4(e.v4))
      return text + " is " + e.form + " " + inner.to_string() + ", " + what;
  }
  return std::nullopt;
}

std::optional<std::string> WebhookTargetPolicy::refusalForHost(std::string_view host) const {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string name = common::toLower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();  // "localhost." is localhost
  if (auto literal = common::ipLiteral(name)) return refusal(*literal);
  if (auto v4 = parseInetAton(name)) return refusal(ip::address(*v4));
  if (isCloudMetadataName(name)) return name + " is a cloud metadata service";
  if (loopbackName(name) && refusal(ip::address(ip::address_v4::loopback())) &&
      refusal(ip::address(ip::address_v6::loopback())))
    return name + " is loopback";
  return std::nullopt;
}

}  // namespace api
