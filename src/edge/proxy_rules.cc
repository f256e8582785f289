#include "edge/proxy_rules.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include "common/address_set.h"
#include "common/hash.h"
#include "common/strings.h"
#include "edge/route_tokens.h"
#include "sip/response.h"

namespace edge {
namespace {

uint16_t defaultPort(transport::Protocol p) {
  switch (p) {
    case transport::Protocol::kTls:
      return 5061;
    case transport::Protocol::kWs:
      return 80;
    case transport::Protocol::kWss:
      return 443;
    default:
      return 5060;
  }
}

}  // namespace

bool Self::isThisServer(const sip::Uri& uri) const {
  if (!uri.isSip()) return false;
  std::string host = common::toLower(uri.hostAddress());
  bool alias = false;
  for (const std::string& a : aliases) alias |= host == a;
  auto ip = common::ipLiteral(uri.host());
  if (!ip && !alias) return false;
  for (const auto& [protocol, address] : listeners) {
    // An alias (a name of this host, or an interface address behind a wildcard listener)
    // is this server only on a port it listens on.
    bool same_ip = alias || address.ip == *ip || (address.ip.is_unspecified() && ip->is_loopback());
    if (!same_ip) continue;
    uint16_t port = uri.portOr(uri.scheme() == sip::UriScheme::kSips ? 5061 : 5060);
    if (port == address.port) return true;
    if (!uri.hasPort() && address.port == defaultPort(protocol)) return true;
  }
  return false;
}

bool Self::isOurSentBy(const sip::Via& via) const {
  auto ip = common::ipLiteral(via.host);
  if (!ip) return false;
  auto protocol = transport::protocolFromName(via.transport);
  if (!protocol) return false;
  const uint16_t port = via.port != 0 ? via.port : defaultPort(*protocol);
  for (const auto& [p, address] : listeners) {
    if (p == *protocol && address.port == port &&
        (address.ip == *ip || address.ip.is_unspecified()))
      return true;
  }
  return false;
}

bool Self::servesDomain(std::string_view host) const {
  if (domains.empty()) return true;
  std::string h = common::toLower(host);
  for (const std::string& d : domains) {
    if (h == d) return true;
  }
  return false;
}

std::optional<Reject> validateForProxy(const sip::Message& request, const Self& self,
                                       const std::vector<std::string_view>& supported) {
  (void)self;
  // 1. Reasonable syntax is the parser's and validate()'s job; 2. URI scheme.
  sip::UriScheme scheme = request.requestUri().scheme();
  if (scheme != sip::UriScheme::kSip && scheme != sip::UriScheme::kSips &&
      scheme != sip::UriScheme::kTel)
    return Reject{416, "Unsupported URI Scheme", {}};
  // 3. Max-Forwards.
  if (request.headerCount(sip::HeaderId::kMaxForwards) > 0) {
    auto mf = request.maxForwards();
    if (!mf) return Reject{400, "Bad Max-Forwards", {}};
    if (*mf == 0) return Reject{483, "Too Many Hops", {}};
  }
  // 5. Proxy-Require.
  if (request.headerCount(sip::HeaderId::kProxyRequire) > 0) {
    auto tokens = request.tokens(sip::HeaderId::kProxyRequire);
    if (!tokens) return Reject{400, "Bad Proxy-Require", {}};
    std::string unsupported;
    for (std::string_view t : *tokens) {
      bool known = false;
      for (std::string_view s : supported) known |= common::iequals(s, t);
      if (!known) {
        if (!unsupported.empty()) unsupported += ", ";
        unsupported.append(t);
      }
    }
    if (!unsupported.empty()) return Reject{420, "Bad Extension", {{"Unsupported", unsupported}}};
  }
  return std::nullopt;
}

std::string loopHash(const sip::Message& request, bool ignore_to_tag) {
  uint64_t h = common::kFnvOffset;
  h = common::fnv1aField(h, request.requestUriText());
  h = common::fnv1aField(h, request.callId() ? *request.callId() : std::string_view());
  const auto& from = request.from();
  const auto& to = request.to();
  h = common::fnv1aField(h, from ? from->tag().value_or("") : "");
  h = common::fnv1aField(h, to && !ignore_to_tag ? to->tag().value_or("") : "");
  h = common::fnv1aField(h, request.cseq() ? std::to_string(request.cseq()->number) : "");
  const auto* route = request.findHeader(sip::HeaderId::kRoute);
  h = common::fnv1aField(h, route ? route->value : std::string_view());
  return common::hexDigits(h, 16);
}

uint64_t statelessUnique(const sip::Message& request) {
  uint64_t h = common::kFnvOffset;
  const auto& vias = request.vias();
  if (!vias || vias->empty()) return h;
  const sip::Via& top = vias->front();
  h = common::fnv1aField(h, top.branch().value_or(""));
  h = common::fnv1aField(h, top.host);
  h = common::fnv1aField(h, std::to_string(top.port));
  return h;
}

bool isLoop(const sip::Message& request, const Self& self, std::string_view loop_hash) {
  const auto& vias = request.vias();
  if (!vias) return false;
  for (const sip::Via& v : *vias) {
    auto branch = v.branch();
    if (!branch || !common::istartsWith(*branch, "z9hG4bKsb")) continue;
    std::string_view rest = branch->substr(9);
    if (rest.size() < loop_hash.size() || rest.substr(0, loop_hash.size()) != loop_hash) continue;
    // Ours only when the sent-by is one of our addresses.
    auto ip = common::ipLiteral(v.host);
    if (!ip) continue;
    for (const auto& [protocol, address] : self.listeners) {
      (void)protocol;
      if (address.ip == *ip && (v.port == 0 || v.port == address.port)) return true;
    }
  }
  return false;
}

std::optional<std::string> stampedVia(const sip::Via& via, const transport::Address& source) {
  return sip::receivedVia(via, source.ip, source.port);
}

transport::Address routableLocal(const transport::Address& local,
                                 const transport::Address& remote) {
  if (!local.ip.is_unspecified()) return local;
  if (remote.ip.is_loopback() || remote.ip.is_unspecified()) {
    return transport::Address{
        remote.ip.is_v6() ? boost::asio::ip::address(boost::asio::ip::address_v6::loopback())
                          : boost::asio::ip::address(boost::asio::ip::address_v4::loopback()),
        local.port};
  }
  // connect() on a UDP socket sends nothing; it only asks the kernel for the route.
  boost::asio::io_context io;
  boost::asio::ip::udp::socket sock(io);
  boost::system::error_code ec;
  sock.open(remote.ip.is_v6() ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4(), ec);
  if (!ec)
    sock.connect(boost::asio::ip::udp::endpoint(remote.ip, remote.port ? remote.port : 9), ec);
  if (ec) return local;
  auto ep = sock.local_endpoint(ec);
  if (ec) return local;
  return transport::Address{ep.address(), local.port};
}

std::string ourVia(const transport::Flow& flow, std::string_view branch) {
  std::string v = "SIP/2.0/";
  v.append(transport::viaName(flow.protocol));
  v.push_back(' ');
  v.append(flow.local.toString());
  v.append(";branch=");
  v.append(branch);
  v.append(";rport");
  return v;
}

std::string ourRecordRoute(transport::Protocol protocol, const transport::Address& local,
                           std::string_view dialog_token) {
  std::string r = "<sip:";
  r.append(local.toString());
  if (protocol != transport::Protocol::kUdp) {
    r.append(";transport=");
    r.append(transport::configName(protocol));
  }
  r.append(";lr");
  if (!dialog_token.empty()) {
    r.push_back(';');
    r.append(RouteTokens::kParam);
    r.push_back('=');
    r.append(dialog_token);
  }
  r.push_back('>');
  return r;
}

size_t chooseBestResponse(const std::vector<int>& statuses) {
  auto rank = [](int s) {
    // Lower is better.
    if (s >= 200 && s < 300) return 0;
    if (s >= 600) return 1;
    if (s >= 300 && s < 400) return 2;
    if (s >= 400 && s < 500) {
      switch (s) {
        case 401:
        case 407:
          return 3;
        case 415:
        case 420:
        case 484:
          return 4;
        case 408:
          return 6;
        default:
          return 5;
      }
    }
    if (s >= 500 && s < 600) return s == 503 ? 8 : 7;
    return 9;
  };
  size_t best = 0;
  for (size_t i = 1; i < statuses.size(); ++i) {
    if (rank(statuses[i]) < rank(statuses[best])) best = i;
  }
  return best;
}

}  // namespace edge
