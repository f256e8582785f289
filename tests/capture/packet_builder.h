// Builders of capture files and packets for the capture tests: each returns the octets, so a
// test states exactly what the decoder sees.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace capture::testing {

// Octets appended in a chosen byte order.
class Bytes {
 public:
  explicit Bytes(bool big_endian = true) : be_(big_endian) {}
  Bytes& u8(uint8_t v) {
    s_ += char(v);
    return *this;
  }
  Bytes& u16(uint16_t v) {
    return be_ ? u8(uint8_t(v >> 8)).u8(uint8_t(v)) : u8(uint8_t(v)).u8(uint8_t(v >> 8));
  }
  Bytes& u32(uint32_t v) {
    return be_ ? u16(uint16_t(v >> 16)).u16(uint16_t(v)) : u16(uint16_t(v)).u16(uint16_t(v >> 16));
  }
  Bytes& u64(uint64_t v) {
    return be_ ? u32(uint32_t(v >> 32)).u32(uint32_t(v)) : u32(uint32_t(v)).u32(uint32_t(v >> 32));
  }
  Bytes& raw(std::string_view v) {
    s_ += v;
    return *this;
  }
  Bytes& pad4() {
    while (s_.size() % 4 != 0) s_ += '\0';
    return *this;
  }
  const std::string& str() const { return s_; }
  size_t size() const { return s_.size(); }

 private:
  bool be_;
  std::string s_;
};

// --- capture files -------------------------------------------------------------------------

struct Record {
  uint32_t sec = 0, frac = 0;
  std::string data;
  uint32_t wire = 0;  // 0: the data's length
};

inline std::string pcapFile(bool big_endian, bool nano, uint32_t link_type,
                            const std::vector<Record>& records, uint32_t snaplen = 65535) {
  Bytes b(big_endian);
  b.u32(nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(snaplen).u32(link_type);
  for (const auto& r : records) {
    b.u32(r.sec).u32(r.frac).u32(uint32_t(r.data.size()));
    b.u32(r.wire != 0 ? r.wire : uint32_t(r.data.size())).raw(r.data);
  }
  return b.str();
}

// A pcapng block: type, total length, body padded to 32 bits, total length.
inline std::string pcapngBlock(bool be, uint32_t type, const std::string& body) {
  Bytes padded(be);
  padded.raw(body).pad4();
  Bytes b(be);
  const uint32_t len = uint32_t(padded.size() + 12);
  b.u32(type).u32(len).raw(padded.str()).u32(len);
  return b.str();
}

inline std::string sectionHeader(bool be) {
  Bytes body(be);
  body.u32(0x1a2b3c4d).u16(1).u16(0).u64(~0ull);
  return pcapngBlock(be, 0x0a0d0d0a, body.str());
}

// if_tsresol < 0: no option (microseconds).
inline std::string interfaceBlock(bool be, uint16_t link_type, uint32_t snaplen, int tsresol = -1) {
  Bytes body(be);
  body.u16(link_type).u16(0).u32(snaplen);
  if (tsresol >= 0) body.u16(9).u16(1).u8(uint8_t(tsresol)).u8(0).u8(0).u8(0);
  body.u16(0).u16(0);
  return pcapngBlock(be, 1, body.str());
}

inline std::string enhancedPacket(bool be, uint32_t itf, uint64_t ticks, const std::string& data,
                                  uint32_t wire = 0) {
  Bytes body(be);
  body.u32(itf).u32(uint32_t(ticks >> 32)).u32(uint32_t(ticks));
  body.u32(uint32_t(data.size())).u32(wire != 0 ? wire : uint32_t(data.size())).raw(data);
  return pcapngBlock(be, 6, body.str());
}

inline std::string simplePacket(bool be, uint32_t wire, const std::string& data) {
  Bytes body(be);
  body.u32(wire).raw(data);
  return pcapngBlock(be, 3, body.str());
}

inline std::string obsoletePacket(bool be, uint16_t itf, uint64_t ticks, const std::string& data) {
  Bytes body(be);
  body.u16(itf).u16(0).u32(uint32_t(ticks >> 32)).u32(uint32_t(ticks));
  body.u32(uint32_t(data.size())).u32(uint32_t(data.size())).raw(data);
  return pcapngBlock(be, 2, body.str());
}

// --- packets (network byte order) ----------------------------------------------------------

inline std::string ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string{char(a), char(b), char(c), char(d)};
}

// 2001:db8::<last>
inline std::string ipv6Addr(uint8_t last) {
  std::string a(16, '\0');
  a[0] = char(0x20);
  a[1] = char(0x01);
  a[2] = char(0x0d);
  a[3] = char(0xb8);
  a[15] = char(last);
  return a;
}

inline std::string ethernet(uint16_t type, const std::string& payload) {
  Bytes b;
  b.raw(std::string("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12)).u16(type);
  return b.str() + payload;
}

inline std::string vlan(uint16_t tpid, uint16_t vid, uint16_t inner_type) {
  Bytes b;
  b.u16(tpid).u16(vid).u16(inner_type);
  return b.str();
}

struct Ipv4Options {
  uint16_t id = 1;
  bool more = false;
  uint16_t offset = 0;    // octets, a multiple of 8
  int total_length = -1;  // override
};

inline std::string ipv4(const std::string& src, const std::string& dst, uint8_t protocol,
                        const std::string& payload, Ipv4Options o = {}) {
  Bytes b;
  const uint16_t total =
      o.total_length >= 0 ? uint16_t(o.total_length) : uint16_t(20 + payload.size());
  b.u8(0x45).u8(0).u16(total).u16(o.id);
  b.u16(uint16_t((o.more ? 0x2000 : 0) | (o.offset / 8)));
  b.u8(64).u8(protocol).u16(0).raw(src).raw(dst);
  return b.str() + payload;
}

inline std::string ipv6(const std::string& src, const std::string& dst, uint8_t next,
                        const std::string& payload) {
  Bytes b;
  b.u32(0x60000000).u16(uint16_t(payload.size())).u8(next).u8(64).raw(src).raw(dst);
  return b.str() + payload;
}

// An extension header of 8 octets (hop-by-hop, destination options, routing).
inline std::string ipv6Option(uint8_t next) {
  Bytes b;
  b.u8(next).u8(0).u16(0).u32(0);
  return b.str();
}

inline std::string ipv6Fragment(uint8_t next, uint16_t offset, bool more, uint32_t id) {
  Bytes b;
  b.u8(next).u8(0).u16(uint16_t(offset | (more ? 1 : 0))).u32(id);
  return b.str();
}

inline std::string udp(uint16_t sport, uint16_t dport, const std::string& payload,
                       int length = -1) {
  Bytes b;
  b.u16(sport).u16(dport).u16(length >= 0 ? uint16_t(length) : uint16_t(8 + payload.size()));
  b.u16(0);
  return b.str() + payload;
}

enum TcpFlags : uint8_t { kFin = 1, kSyn = 2, kRst = 4, kPsh = 8, kAck = 16 };

inline std::string tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                       const std::string& payload, uint32_t ack = 0) {
  Bytes b;
  b.u16(sport).u16(dport).u32(seq).u32(ack).u8(0x50).u8(flags).u16(65535).u16(0).u16(0);
  return b.str() + payload;
}

inline std::string sctpDataChunk(uint8_t flags, uint32_t tsn, uint16_t stream,
                                 const std::string& data) {
  Bytes b;
  b.u8(0).u8(flags).u16(uint16_t(16 + data.size())).u32(tsn).u16(stream).u16(0).u32(0);
  b.raw(data).pad4();
  return b.str();
}

inline std::string sctp(uint16_t sport, uint16_t dport, const std::string& chunks) {
  Bytes b;
  b.u16(sport).u16(dport).u32(0x01020304).u32(0);
  return b.str() + chunks;
}

// A GRE header: flags (C 0x8000, K 0x2000, S 0x1000), protocol, then the optional fields.
inline std::string gre(uint16_t flags, uint16_t protocol, const std::string& payload) {
  Bytes b;
  b.u16(flags).u16(protocol);
  if (flags & 0x8000) b.u16(0).u16(0);
  if (flags & 0x2000) b.u32(0x0000abcd);
  if (flags & 0x1000) b.u32(7);
  return b.str() + payload;
}

inline std::string erspan2(const std::string& frame) {
  Bytes b;
  b.u16(0x1000 | 10).u16(0x0000 | 5).u32(0);
  return b.str() + frame;
}

// Frame type 0 (Ethernet); `optional` adds the 8-octet platform-specific subheader.
inline std::string erspan3(const std::string& frame, bool optional) {
  Bytes b;
  b.u16(0x2000 | 10).u16(5).u32(0x12345678).u16(0).u16(optional ? 1 : 0);
  if (optional) b.u32(0).u32(0);
  return b.str() + frame;
}

// One RFC 6455 frame; a non-zero key masks the payload.
inline std::string wsFrame(bool fin, uint8_t opcode, const std::string& payload, uint32_t key = 0) {
  Bytes b;
  b.u8(uint8_t((fin ? 0x80 : 0) | opcode));
  const uint8_t mask = key != 0 ? 0x80 : 0;
  if (payload.size() < 126) {
    b.u8(uint8_t(mask | payload.size()));
  } else if (payload.size() < 65536) {
    b.u8(mask | 126).u16(uint16_t(payload.size()));
  } else {
    b.u8(mask | 127).u64(payload.size());
  }
  std::string body = payload;
  if (key != 0) {
    b.u32(key);
    const uint8_t k[4] = {uint8_t(key >> 24), uint8_t(key >> 16), uint8_t(key >> 8), uint8_t(key)};
    for (size_t i = 0; i < body.size(); ++i) body[i] = char(body[i] ^ k[i % 4]);
  }
  return b.str() + body;
}

}  // namespace capture::testing
