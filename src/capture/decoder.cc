#include "capture/decoder.h"

#include <cstring>
#include <string>

#include "capture/internal/addresses.h"
#include "capture/internal/ip_reassembly.h"
#include "capture/internal/sctp.h"
#include "capture/internal/tcp_reassembly.h"
#include "capture/internal/wire.h"

namespace capture {
namespace {

using internal::be16;
using internal::be32;

// LINKTYPE_* values (tcpdump.org/linktypes.html), and the raw-IP DLTs libpcap writes as-is.
constexpr uint32_t kLinkNull = 0;
constexpr uint32_t kLinkEthernet = 1;
constexpr uint32_t kLinkRawDlt12 = 12;
constexpr uint32_t kLinkRawDlt14 = 14;
constexpr uint32_t kLinkRaw = 101;
constexpr uint32_t kLinkLoop = 108;
constexpr uint32_t kLinkLinuxSll = 113;
constexpr uint32_t kLinkIpv4 = 228;
constexpr uint32_t kLinkIpv6 = 229;
constexpr uint32_t kLinkLinuxSll2 = 276;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr uint16_t kEtherMpls = 0x8847;
constexpr uint16_t kEtherMplsMulticast = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr uint16_t kEtherTransparentBridging = 0x6558;
constexpr uint16_t kEtherErspanII = 0x88be;
constexpr uint16_t kEtherErspanIII = 0x22eb;

constexpr uint8_t kIpIpv4 = 4;
constexpr uint8_t kIpTcp = 6;
constexpr uint8_t kIpUdp = 17;
constexpr uint8_t kIpIpv6 = 41;
constexpr uint8_t kIpGre = 47;
constexpr uint8_t kIpSctp = 132;

constexpr int64_t kSweepEvery = 1'000'000'000;

void setV4(Endpoint& e, const uint8_t* a) {
  e.addr = {};
  std::memcpy(e.addr.data(), a, 4);
  e.v6 = false;
  e.port = 0;
}

void setV6(Endpoint& e, const uint8_t* a) {
  std::memcpy(e.addr.data(), a, 16);
  e.v6 = true;
  e.port = 0;
}

}  // namespace

uint64_t DecoderStats::malformed() const {
  return bad_link_header + bad_ipv4_header + bad_ipv6_header + bad_udp_header + bad_tcp_header +
         bad_sctp_packet + bad_gre_header + bad_websocket_frame + tunnel_too_deep +
         ip_fragments_bad;
}

std::vector<std::pair<std::string_view, uint64_t>> DecoderStats::counters() const {
  return {
      {"frames", frames},
      {"udp_datagrams", udp_datagrams},
      {"tcp_segments", tcp_segments},
      {"sctp_messages", sctp_messages},
      {"websocket_messages", websocket_messages},
      {"unsupported_link_type", unsupported_link_type},
      {"non_ip", non_ip},
      {"other_ip_protocol", other_ip_protocol},
      {"unsupported_tunnel", unsupported_tunnel},
      {"bad_link_header", bad_link_header},
      {"bad_ipv4_header", bad_ipv4_header},
      {"bad_ipv6_header", bad_ipv6_header},
      {"bad_udp_header", bad_udp_header},
      {"bad_tcp_header", bad_tcp_header},
      {"bad_sctp_packet", bad_sctp_packet},
      {"bad_gre_header", bad_gre_header},
      {"bad_websocket_frame", bad_websocket_frame},
      {"tunnel_too_deep", tunnel_too_deep},
      {"ip_fragments", ip_fragments},
      {"ip_reassembled", ip_reassembled},
      {"ip_fragments_bad", ip_fragments_bad},
      {"ip_fragment_overlaps", ip_fragment_overlaps},
      {"ip_datagrams_incomplete", ip_datagrams_incomplete},
      {"tcp_flows", tcp_flows},
      {"tcp_retransmissions", tcp_retransmissions},
      {"tcp_out_of_order", tcp_out_of_order},
      {"tcp_gaps", tcp_gaps},
      {"tcp_flows_evicted", tcp_flows_evicted},
      {"sctp_fragments_dropped", sctp_fragments_dropped},
      {"websocket_skipped", websocket_skipped},
  };
}

Decoder::Decoder(PayloadSink& sink, DecoderOptions options)
    : sink_(sink),
      options_(options),
      fragments_(std::make_unique<internal::IpReassembler>(options_, stats_)),
      tcp_(std::make_unique<internal::TcpReassembler>(sink_, options_, stats_)),
      sctp_(std::make_unique<internal::SctpAssembler>(sink_, options_, stats_)) {}

Decoder::~Decoder() = default;

void Decoder::onFrame(const Frame& frame) {
  ++stats_.frames;
  frame_ = frame.number;
  now_ = frame.time_ns;
  // Timeouts are looked at once a second of capture time (either way: merged captures can
  // step back in time).
  const int64_t since = internal::elapsed(now_, last_sweep_);
  if (since >= kSweepEvery || since <= -kSweepEvery) sweep();
  link(frame.link_type, internal::bytes(frame.data), frame.data.size());
}

void Decoder::sweep() {
  last_sweep_ = now_;
  if (fragments_->pending() > 0) fragments_->expire(now_);
  if (sctp_->partialMessages() > 0) sctp_->expire(now_);
  tcp_->expire(frame_, now_);
}

void Decoder::finish() {
  tcp_->finish(frame_, now_);
  fragments_->finish();
  sctp_->finish();
}

void Decoder::link(uint32_t link_type, const uint8_t* p, size_t n) {
  switch (link_type) {
    case kLinkEthernet:
      ethernet(p, n, 0);
      return;
    case kLinkLinuxSll:
      // packet type, ARPHRD type, address length, 8 octets of address, protocol
      if (n < 16) {
        ++stats_.bad_link_header;
        return;
      }
      etherType(be16(p + 14), p + 16, n - 16, 0);
      return;
    case kLinkLinuxSll2:
      // protocol, reserved, interface index, ARPHRD type, packet type, address length, address
      if (n < 20) {
        ++stats_.bad_link_header;
        return;
      }
      etherType(be16(p), p + 20, n - 20, 0);
      return;
    case kLinkRaw:
    case kLinkRawDlt12:
    case kLinkRawDlt14:
      ipAny(p, n, 0);
      return;
    case kLinkIpv4:
      ipv4(p, n, 0);
      return;
    case kLinkIpv6:
      ipv6(p, n, 0);
      return;
    case kLinkNull:
    case kLinkLoop: {
      // The address family, in the byte order of the machine that captured (NULL) or in
      // network order (LOOP); either way it is small, which tells the order.
      if (n < 4) {
        ++stats_.bad_link_header;
        return;
      }
      uint32_t family = internal::le32(p);
      if (family > 0xffff) family = be32(p);
      switch (family) {
        case 2:
          ipv4(p + 4, n - 4, 0);
          return;
        case 10:  // Linux
        case 24:  // NetBSD, OpenBSD
        case 28:  // FreeBSD
        case 30:  // macOS
          ipv6(p + 4, n - 4, 0);
          return;
        default:
          ++stats_.non_ip;
          return;
      }
    }
    default:
      ++stats_.unsupported_link_type;
      return;
  }
}

void Decoder::ethernet(const uint8_t* p, size_t n, int depth) {
  if (n < 14) {
    ++stats_.bad_link_header;
    return;
  }
  etherType(be16(p + 12), p + 14, n - 14, depth);
}

void Decoder::etherType(uint16_t type, const uint8_t* p, size_t n, int depth) {
  // 802.1Q and 802.1ad tags, stacked.
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    if (n < 4) {
      ++stats_.bad_link_header;
      return;
    }
    type = be16(p + 2);
    p += 4;
    n -= 4;
  }
  switch (type) {
    case kEtherIpv4:
      ipv4(p, n, depth);
      return;
    case kEtherIpv6:
      ipv6(p, n, depth);
      return;
    case kEtherMpls:
    case kEtherMplsMulticast:
      mpls(p, n, depth);
      return;
    case kEtherTransparentBridging:
      if (depth >= options_.max_encapsulation_depth) {
        ++stats_.tunnel_too_deep;
        return;
      }
      ethernet(p, n, depth + 1);
      return;
    case kEtherPppoeSession: {
      // PPPoE header (6 octets), then the PPP protocol.
      if (n < 8) {
        ++stats_.bad_link_header;
        return;
      }
      const uint16_t ppp = be16(p + 6);
      if (ppp == 0x0021) {
        ipv4(p + 8, n - 8, depth);
      } else if (ppp == 0x0057) {
        ipv6(p + 8, n - 8, depth);
      } else {
        ++stats_.non_ip;
      }
      return;
    }
    default:
      ++stats_.non_ip;
      return;  // ARP, LLDP, 802.3 with LLC, ...
  }
}

void Decoder::mpls(const uint8_t* p, size_t n, int depth) {
  // Labels until the bottom of the stack, then whatever the first nibble says.
  for (int labels = 0;; ++labels) {
    if (n < 4 || labels > 16) {
      ++stats_.bad_link_header;
      return;
    }
    const bool bottom = (p[2] & 0x01) != 0;
    p += 4;
    n -= 4;
    if (bottom) break;
  }
  if (n == 0) {
    ++stats_.bad_link_header;
    return;
  }
  const int version = p[0] >> 4;
  if (version == 4 || version == 6) return ipAny(p, n, depth);
  if (version != 0) {
    ++stats_.non_ip;
    return;
  }
  // A pseudowire control word, then Ethernet.
  if (depth >= options_.max_encapsulation_depth) {
    ++stats_.tunnel_too_deep;
    return;
  }
  if (n < 4) {
    ++stats_.bad_link_header;
    return;
  }
  ethernet(p + 4, n - 4, depth + 1);
}

void Decoder::ipAny(const uint8_t* p, size_t n, int depth) {
  if (n == 0) {
    ++stats_.bad_ipv4_header;
    return;
  }
  switch (p[0] >> 4) {
    case 4:
      ipv4(p, n, depth);
      return;
    case 6:
      ipv6(p, n, depth);
      return;
    default:
      ++stats_.bad_ipv4_header;
      return;
  }
}

void Decoder::ipv4(const uint8_t* p, size_t n, int depth) {
  if (n < 20 || (p[0] >> 4) != 4) {
    ++stats_.bad_ipv4_header;
    return;
  }
  const size_t header = size_t(p[0] & 0x0f) * 4;
  size_t total = be16(p + 2);
  // A zero total length is what captures of TCP segmentation offload show.
  if (total == 0) total = n;
  if (header < 20 || header > n || total < header) {
    ++stats_.bad_ipv4_header;
    return;
  }
  size_t missing = 0;
  if (total > n) {
    missing = total - n;  // cut by the snaplen
    total = n;
  }
  internal::NetworkAddresses addrs;
  setV4(addrs.src, p + 12);
  setV4(addrs.dst, p + 16);
  const uint8_t protocol = p[9];
  const uint16_t frag = be16(p + 6);
  const bool more = (frag & 0x2000) != 0;
  const uint32_t offset = uint32_t(frag & 0x1fff) * 8;
  if (!more && offset == 0) {
    transport(protocol, addrs, p + header, total - header, missing, depth);
    return;
  }
  if (missing > 0) {
    ++stats_.ip_fragments;
    ++stats_.ip_fragments_bad;
    return;
  }
  internal::FragmentKey key;
  std::memcpy(key.src.data(), p + 12, 4);
  std::memcpy(key.dst.data(), p + 16, 4);
  key.id = be16(p + 4);
  key.protocol = protocol;
  std::string whole;
  uint8_t next = 0;
  const std::string_view piece(reinterpret_cast<const char*>(p + header), total - header);
  if (fragments_->add(key, offset, more, piece, protocol, now_, whole, next)) {
    transport(protocol, addrs, internal::bytes(whole), whole.size(), 0, depth);
  }
}

void Decoder::ipv6(const uint8_t* p, size_t n, int depth) {
  if (n < 40 || (p[0] >> 4) != 6) {
    ++stats_.bad_ipv6_header;
    return;
  }
  size_t len = be16(p + 4);
  size_t missing = 0;
  if (len == 0) {
    len = n - 40;  // a jumbogram (RFC 2675) or segmentation offload: take what is there
  } else if (len > n - 40) {
    missing = len - (n - 40);
    len = n - 40;
  }
  internal::NetworkAddresses addrs;
  setV6(addrs.src, p + 8);
  setV6(addrs.dst, p + 24);
  uint8_t next = p[6];
  const uint8_t* q = p + 40;
  std::string whole;  // a reassembled datagram, when fragments complete one
  for (int headers = 0; headers < 32; ++headers) {
    switch (next) {
      case 0:     // hop-by-hop options
      case 43:    // routing
      case 60:    // destination options
      case 51: {  // authentication header: its length counts 4-octet units
        if (len < 8) {
          ++stats_.bad_ipv6_header;
          return;
        }
        const size_t ext = next == 51 ? (size_t(q[1]) + 2) * 4 : (size_t(q[1]) + 1) * 8;
        if (ext > len) {
          ++stats_.bad_ipv6_header;
          return;
        }
        next = q[0];
        q += ext;
        len -= ext;
        continue;
      }
      case 44: {  // fragment
        if (len < 8) {
          ++stats_.bad_ipv6_header;
          return;
        }
        const uint8_t inner = q[0];
        const uint16_t field = be16(q + 2);
        const uint32_t offset = field & 0xfff8;
        const bool more = (field & 1) != 0;
        const uint32_t id = be32(q + 4);
        q += 8;
        len -= 8;
        if (offset == 0 && !more) {  // an atomic fragment (RFC 6946): not fragmented at all
          next = inner;
          continue;
        }
        if (missing > 0 || !whole.empty()) {
          ++stats_.ip_fragments;
          ++stats_.ip_fragments_bad;
          return;
        }
        internal::FragmentKey key;
        std::memcpy(key.src.data(), p + 8, 16);
        std::memcpy(key.dst.data(), p + 24, 16);
        key.id = id;
        key.v6 = true;
        const std::string_view piece(reinterpret_cast<const char*>(q), len);
        if (!fragments_->add(key, offset, more, piece, inner, now_, whole, next)) return;
        // The fragmentable part may hold more extension headers: go on inside it.
        q = internal::bytes(whole);
        len = whole.size();
        continue;
      }
      case 59:
        return;  // no next header
      default:
        transport(next, addrs, q, len, missing, depth);
        return;
    }
  }
  ++stats_.bad_ipv6_header;  // an endless chain of extension headers
}

void Decoder::transport(uint8_t protocol, const internal::NetworkAddresses& addrs, const uint8_t* p,
                        size_t n, size_t missing, int depth) {
  switch (protocol) {
    case kIpUdp:
      udp(addrs, p, n);
      return;
    case kIpTcp:
      tcp(addrs, p, n, missing);
      return;
    case kIpSctp:
      sctp_->onPacket(addrs, p, n, frame_, now_);
      return;
    case kIpGre:
    case kIpIpv4:
    case kIpIpv6:
      if (depth >= options_.max_encapsulation_depth) {
        ++stats_.tunnel_too_deep;
        return;
      }
      if (protocol == kIpGre) {
        gre(p, n, depth + 1);
      } else if (protocol == kIpIpv4) {
        ipv4(p, n, depth + 1);
      } else {
        ipv6(p, n, depth + 1);
      }
      return;
    default:
      ++stats_.other_ip_protocol;
      return;
  }
}

void Decoder::udp(const internal::NetworkAddresses& addrs, const uint8_t* p, size_t n) {
  if (n < 8) {
    ++stats_.bad_udp_header;
    return;
  }
  size_t len = be16(p + 4);
  if (len == 0) {
    len = n;  // IPv6 jumbogram: the IP layer gave the length
  } else if (len < 8) {
    ++stats_.bad_udp_header;
    return;
  }
  if (len > n) len = n;  // the capture cut it short: what was captured
  ++stats_.udp_datagrams;
  Payload out;
  out.transport = Transport::kUdp;
  out.src = addrs.src;
  out.src.port = be16(p);
  out.dst = addrs.dst;
  out.dst.port = be16(p + 2);
  out.frame = frame_;
  out.time_ns = now_;
  out.bytes = std::string_view(reinterpret_cast<const char*>(p + 8), len - 8);
  sink_.onPayload(out);
}

void Decoder::tcp(const internal::NetworkAddresses& addrs, const uint8_t* p, size_t n,
                  size_t missing) {
  if (n < 20) {
    ++stats_.bad_tcp_header;
    return;
  }
  const size_t header = size_t(p[12] >> 4) * 4;
  if (header < 20 || header > n) {
    ++stats_.bad_tcp_header;
    return;
  }
  ++stats_.tcp_segments;
  internal::TcpSegment s;
  s.src = addrs.src;
  s.src.port = be16(p);
  s.dst = addrs.dst;
  s.dst.port = be16(p + 2);
  s.seq = be32(p + 4);
  s.ack = be32(p + 8);
  const uint8_t flags = p[13];
  s.has_ack = (flags & 0x10) != 0;
  s.fin = (flags & 0x01) != 0;
  s.syn = (flags & 0x02) != 0;
  s.rst = (flags & 0x04) != 0;
  s.data = std::string_view(reinterpret_cast<const char*>(p + header), n - header);
  s.missing = uint32_t(missing > 0xffff ? 0xffff : missing);
  tcp_->onSegment(s, frame_, now_);
}

void Decoder::gre(const uint8_t* p, size_t n, int depth) {
  if (n < 4) {
    ++stats_.bad_gre_header;
    return;
  }
  const uint16_t flags = be16(p);
  const uint16_t protocol = be16(p + 2);
  if ((flags & 0x7) != 0) {
    ++stats_.unsupported_tunnel;  // version 1 is PPTP's enhanced GRE carrying PPP
    return;
  }
  const bool checksum = (flags & 0x8000) != 0, routing = (flags & 0x4000) != 0;
  const bool key = (flags & 0x2000) != 0, sequence = (flags & 0x1000) != 0;
  size_t off = 4;
  if (checksum || routing) off += 4;  // checksum and offset travel together (RFC 1701)
  if (key) off += 4;
  if (sequence) off += 4;
  if (routing) {
    // Source route entries, ended by one with address family 0 and length 0.
    for (;;) {
      if (off > n || n - off < 4) {
        ++stats_.bad_gre_header;
        return;
      }
      const uint16_t family = be16(p + off);
      const uint8_t sre_len = p[off + 3];
      off += 4 + sre_len;
      if (family == 0 && sre_len == 0) break;
    }
  }
  if (off > n) {
    ++stats_.bad_gre_header;
    return;
  }
  p += off;
  n -= off;
  switch (protocol) {
    case kEtherIpv4:
      ipv4(p, n, depth);
      return;
    case kEtherIpv6:
      ipv6(p, n, depth);
      return;
    case kEtherMpls:
      mpls(p, n, depth);
      return;
    case kEtherTransparentBridging:
      ethernet(p, n, depth);
      return;
    case kEtherErspanII:
      // Type II has the sequence bit and an 8-octet header; type I has neither.
      if (!sequence) {
        ethernet(p, n, depth);
        return;
      }
      if (n < 8) {
        ++stats_.bad_gre_header;
        return;
      }
      ethernet(p + 8, n - 8, depth);
      return;
    case kEtherErspanIII: {
      // 12 octets; the last 16 bits hold the frame type (bits 14..10) and O (bit 0), which
      // announces an 8-octet platform-specific subheader.
      if (n < 12) {
        ++stats_.bad_gre_header;
        return;
      }
      const uint16_t word = be16(p + 10);
      const size_t header = (word & 1) != 0 ? 20 : 12;
      if (n < header) {
        ++stats_.bad_gre_header;
        return;
      }
      switch ((word >> 10) & 0x1f) {
        case 0:
          ethernet(p + header, n - header, depth);
          return;
        case 2:
          ipAny(p + header, n - header, depth);
          return;
        default:
          ++stats_.unsupported_tunnel;
          return;
      }
    }
    default:
      ++stats_.unsupported_tunnel;
      return;
  }
}

}  // namespace capture
