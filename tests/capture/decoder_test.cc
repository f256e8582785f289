#include "capture/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "packet_builder.h"

namespace capture {
namespace {

using namespace capture::testing;

struct Delivered {
  Transport transport;
  std::string src, dst;
  uint64_t frame;
  int64_t time_ns;
  std::string bytes;
};

class RecordingSink : public PayloadSink {
 public:
  void onPayload(const Payload& p) override {
    got.push_back({p.transport, p.src.toString(), p.dst.toString(), p.frame, p.time_ns,
                   std::string(p.bytes)});
  }
  void onStreamClosed(const Endpoint& a, const Endpoint& b) override {
    closed.push_back(a.toString() + " " + b.toString());
  }
  // The octets of every payload, in order, joined.
  std::string joined() const {
    std::string out;
    for (const auto& d : got) out += d.bytes;
    return out;
  }
  std::vector<Delivered> got;
  std::vector<std::string> closed;
};

const std::string kA = ipv4Addr(192, 0, 2, 1);
const std::string kB = ipv4Addr(192, 0, 2, 2);

class DecoderTest : public ::testing::Test {
 protected:
  explicit DecoderTest(DecoderOptions options = {}) : decoder_(sink_, options) {}

  void feed(uint32_t link_type, const std::string& data, int64_t time_ns = -1) {
    Frame f;
    f.number = ++number_;
    f.time_ns = time_ns >= 0 ? time_ns : int64_t(number_) * 1000000;
    f.link_type = link_type;
    f.wire_length = uint32_t(data.size());
    f.data = data;
    decoder_.onFrame(f);
  }
  void eth(const std::string& ip_packet, int64_t time_ns = -1) {
    feed(1, ethernet(0x0800, ip_packet), time_ns);
  }
  void eth6(const std::string& ip_packet) { feed(1, ethernet(0x86dd, ip_packet)); }

  RecordingSink sink_;
  Decoder decoder_;
  uint64_t number_ = 0;
};

const std::string kUdpPacket = ipv4(kA, kB, 17, udp(5060, 5062, "hello"));

TEST_F(DecoderTest, EthernetIpv4Udp) {
  eth(kUdpPacket, 123456789);
  ASSERT_EQ(sink_.got.size(), 1u);
  const auto& d = sink_.got[0];
  EXPECT_EQ(d.transport, Transport::kUdp);
  EXPECT_EQ(d.src, "192.0.2.1:5060");
  EXPECT_EQ(d.dst, "192.0.2.2:5062");
  EXPECT_EQ(d.frame, 1u);
  EXPECT_EQ(d.time_ns, 123456789);
  EXPECT_EQ(d.bytes, "hello");
  EXPECT_EQ(decoder_.stats().udp_datagrams, 1u);
  EXPECT_EQ(decoder_.stats().frames, 1u);
}

TEST_F(DecoderTest, EveryLinkType) {
  Bytes sll;
  sll.u16(0).u16(1).u16(6).raw(std::string(8, '\0')).u16(0x0800);
  feed(113, sll.str() + kUdpPacket);
  Bytes sll2;
  sll2.u16(0x0800).u16(0).u32(2).u16(1).u8(0).u8(6).raw(std::string(8, '\0'));
  feed(276, sll2.str() + kUdpPacket);
  for (uint32_t raw : {101u, 12u, 14u, 228u}) feed(raw, kUdpPacket);
  const std::string udp6 = ipv6(ipv6Addr(1), ipv6Addr(2), 17, udp(5060, 5060, "hello"));
  feed(229, udp6);
  feed(101, udp6);
  Bytes null_le(false), null_be(true), loop(true), null6(false), null6bsd(true);
  null_le.u32(2);
  null_be.u32(2);
  loop.u32(2);
  null6.u32(10);
  null6bsd.u32(30);
  feed(0, null_le.str() + kUdpPacket);
  feed(0, null_be.str() + kUdpPacket);
  feed(108, loop.str() + kUdpPacket);
  feed(0, null6.str() + udp6);
  feed(0, null6bsd.str() + udp6);
  ASSERT_EQ(sink_.got.size(), 13u);
  for (const auto& d : sink_.got) EXPECT_EQ(d.bytes, "hello") << d.frame;
  EXPECT_EQ(sink_.got[6].src, "[2001:db8::1]:5060");
  EXPECT_EQ(sink_.got[12].dst, "[2001:db8::2]:5060");

  feed(147, kUdpPacket);  // a user-defined link type
  Bytes other(false);
  other.u32(7);
  feed(0, other.str() + kUdpPacket);
  feed(113, "short");
  EXPECT_EQ(sink_.got.size(), 13u);
  EXPECT_EQ(decoder_.stats().unsupported_link_type, 1u);
  EXPECT_EQ(decoder_.stats().non_ip, 1u);
  EXPECT_EQ(decoder_.stats().bad_link_header, 1u);
}

TEST_F(DecoderTest, StackedVlanTagsAndNonIp) {
  feed(1, ethernet(0x88a8, vlan(0x88a8, 100, 0x8100).substr(2) +
                               vlan(0x8100, 200, 0x0800).substr(2) + kUdpPacket));
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].bytes, "hello");
  feed(1, ethernet(0x0806, std::string(28, '\0')));  // ARP
  feed(1, ethernet(0x8100, "\x00"));                 // a tag cut short
  feed(1, "\x01\x02\x03");
  EXPECT_EQ(decoder_.stats().non_ip, 1u);
  EXPECT_EQ(decoder_.stats().bad_link_header, 2u);
}

TEST_F(DecoderTest, MplsAndPppoe) {
  Bytes labels;
  labels.u32(100 << 12).u32(200 << 12 | 0x100 | 64);  // two labels, the second at the bottom
  feed(1, ethernet(0x8847, labels.str() + kUdpPacket));
  Bytes pppoe;
  pppoe.u8(0x11).u8(0).u16(1).u16(uint16_t(kUdpPacket.size() + 2)).u16(0x0021);
  feed(1, ethernet(0x8864, pppoe.str() + kUdpPacket));
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].bytes, "hello");
  EXPECT_EQ(sink_.got[1].bytes, "hello");
}

TEST_F(DecoderTest, GreVariantsAndErspan) {
  const std::string outer_src = ipv4Addr(10, 0, 0, 1), outer_dst = ipv4Addr(10, 0, 0, 2);
  auto tunnel = [&](const std::string& gre_packet) {
    eth(ipv4(outer_src, outer_dst, 47, gre_packet));
  };
  const std::string inner_eth = ethernet(0x0800, kUdpPacket);
  tunnel(gre(0, 0x0800, kUdpPacket));                         // plain GRE with IPv4
  tunnel(gre(0x2000, 0x0800, kUdpPacket));                    // keyed
  tunnel(gre(0x8000 | 0x2000 | 0x1000, 0x0800, kUdpPacket));  // checksum, key, sequence
  tunnel(gre(0x2000, 0x6558, inner_eth));                     // transparent Ethernet bridging
  tunnel(gre(0x1000, 0x88be, erspan2(inner_eth)));            // ERSPAN type II
  tunnel(gre(0, 0x88be, inner_eth));                          // ERSPAN type I: no header
  tunnel(gre(0x1000, 0x22eb, erspan3(inner_eth, false)));     // ERSPAN type III
  tunnel(gre(0x1000, 0x22eb, erspan3(inner_eth, true)));      // ... with the platform subheader
  tunnel(gre(0, 0x86dd, ipv6(ipv6Addr(1), ipv6Addr(2), 17, udp(1, 2, "hello"))));
  ASSERT_EQ(sink_.got.size(), 9u);
  for (const auto& d : sink_.got) EXPECT_EQ(d.bytes, "hello") << d.frame;
  EXPECT_EQ(sink_.got[4].src, "192.0.2.1:5060");  // the inner addresses

  tunnel(gre(0x0001, 0x880b, "ppp"));  // version 1 (PPTP)
  tunnel(gre(0, 0x1234, "?"));
  tunnel("\x00\x00");
  tunnel(gre(0x1000, 0x22eb, "short"));
  EXPECT_EQ(sink_.got.size(), 9u);
  EXPECT_EQ(decoder_.stats().unsupported_tunnel, 2u);
  EXPECT_EQ(decoder_.stats().bad_gre_header, 2u);
}

TEST_F(DecoderTest, IpInIpAndTunnelDepth) {
  eth(ipv4(kB, kA, 4, kUdpPacket));
  eth(ipv4(kB, kA, 41, ipv6(ipv6Addr(1), ipv6Addr(2), 17, udp(1, 2, "six"))));
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].src, "192.0.2.1:5060");
  EXPECT_EQ(sink_.got[1].bytes, "six");
  std::string nested = kUdpPacket;
  for (int i = 0; i < 20; ++i) nested = ipv4(kA, kB, 4, nested);
  eth(nested);
  EXPECT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(decoder_.stats().tunnel_too_deep, 1u);
}

TEST_F(DecoderTest, UdpLengths) {
  // The UDP length says less than the IP payload (trailing octets): the UDP length wins.
  eth(ipv4(kA, kB, 17, udp(1, 2, "abcdef", 8 + 3)));
  // The capture cut the datagram short: what was captured.
  std::string cut = ipv4(kA, kB, 17, udp(1, 2, "abcdefghij"));
  cut.resize(cut.size() - 4);
  eth(cut);
  // Ethernet padding after the IP packet is not payload.
  eth(ipv4(kA, kB, 17, udp(1, 2, "xy")) + std::string(20, '\0'));
  eth(ipv4(kA, kB, 17, udp(1, 2, "abc", 4)));  // length below the header
  eth(ipv4(kA, kB, 17, "abc"));
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[0].bytes, "abc");
  EXPECT_EQ(sink_.got[1].bytes, "abcdef");
  EXPECT_EQ(sink_.got[2].bytes, "xy");
  EXPECT_EQ(decoder_.stats().bad_udp_header, 2u);
}

TEST_F(DecoderTest, MalformedHeadersAreCounted) {
  eth("\x45\x00");                                              // IPv4 too short
  eth(std::string("\x44") + kUdpPacket.substr(1));              // IHL of 16 octets
  eth(ipv4(kA, kB, 17, udp(1, 2, "x"), {.total_length = 10}));  // total below the header
  eth6(std::string(30, '\x60'));                                // IPv6 too short
  eth6(ipv6(ipv6Addr(1), ipv6Addr(2), 0, "\x11\x05"));          // hop-by-hop cut short
  std::string bad_tcp = tcp(1, 2, 0, kAck, "");
  bad_tcp[12] = 0x20;  // data offset 8
  eth(ipv4(kA, kB, 6, bad_tcp));
  eth(ipv4(kA, kB, 6, "short"));
  eth(ipv4(kA, kB, 1, "ping"));  // ICMP: not malformed, just not ours
  feed(101, "\x50\x00");
  EXPECT_TRUE(sink_.got.empty());
  const auto& s = decoder_.stats();
  EXPECT_EQ(s.bad_ipv4_header, 4u);
  EXPECT_EQ(s.bad_ipv6_header, 2u);
  EXPECT_EQ(s.bad_tcp_header, 2u);
  EXPECT_EQ(s.other_ip_protocol, 1u);
  EXPECT_EQ(s.malformed(), 8u);
  bool named = false;
  for (const auto& [name, value] : s.counters()) {
    if (name == "bad_ipv6_header") named = value == 2;
  }
  EXPECT_TRUE(named);
}

// --- IP fragments --------------------------------------------------------------------------

std::vector<std::string> ipv4Fragments(const std::string& payload, size_t piece, uint16_t id) {
  std::vector<std::string> out;
  for (size_t off = 0; off < payload.size(); off += piece) {
    const bool more = off + piece < payload.size();
    out.push_back(ipv4(kA, kB, 17, payload.substr(off, piece),
                       {.id = id, .more = more, .offset = uint16_t(off)}));
  }
  return out;
}

const std::string kBig = [] {
  std::string s;
  for (int i = 0; i < 300; ++i) s += char('a' + i % 26);
  return s;
}();

TEST_F(DecoderTest, Ipv4FragmentsInOrderAndReversed) {
  const std::string datagram = udp(5060, 5060, kBig);
  for (const auto& f : ipv4Fragments(datagram, 104, 7)) eth(f);
  auto reversed = ipv4Fragments(datagram, 64, 8);
  std::reverse(reversed.begin(), reversed.end());
  for (const auto& f : reversed) eth(f);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].bytes, kBig);
  EXPECT_EQ(sink_.got[0].frame, 3u);  // the last piece completes it
  EXPECT_EQ(sink_.got[1].bytes, kBig);
  EXPECT_EQ(sink_.got[1].frame, 3u + 5);
  EXPECT_EQ(decoder_.stats().ip_reassembled, 2u);
  EXPECT_EQ(decoder_.stats().ip_fragments, 8u);
}

TEST_F(DecoderTest, Ipv4FragmentsOverlapping) {
  const std::string datagram = udp(5060, 5060, kBig);  // 308 octets
  std::string forged = datagram;
  for (size_t i = 40; i < 120; ++i) forged[i] = '#';
  // [0,96) [40,120 forged) [96,200) [200,308): the first copy of each octet is kept.
  eth(ipv4(kA, kB, 17, datagram.substr(0, 96), {.id = 9, .more = true, .offset = 0}));
  eth(ipv4(kA, kB, 17, forged.substr(40, 80), {.id = 9, .more = true, .offset = 40}));
  eth(ipv4(kA, kB, 17, datagram.substr(200), {.id = 9, .more = false, .offset = 200}));
  EXPECT_TRUE(sink_.got.empty());
  eth(ipv4(kA, kB, 17, datagram.substr(96, 104), {.id = 9, .more = true, .offset = 96}));
  ASSERT_EQ(sink_.got.size(), 1u);
  std::string expected = kBig;
  for (size_t i = 96 - 8; i < 120 - 8; ++i) expected[i] = '#';  // [96,120) came from the forgery
  EXPECT_EQ(sink_.got[0].bytes, expected);
  EXPECT_EQ(decoder_.stats().ip_fragment_overlaps, 2u);
}

TEST_F(DecoderTest, Ipv4FragmentMissingIsNeverDelivered) {
  auto pieces = ipv4Fragments(udp(5060, 5060, kBig), 104, 10);
  eth(pieces[0]);
  eth(pieces[2]);
  // A datagram abandoned by timeout (31 s later) and one left at the end.
  auto other = ipv4Fragments(udp(5060, 5060, kBig), 104, 11);
  eth(other[0], 40'000'000'000);
  eth(other[1], 40'000'000'001);
  EXPECT_EQ(decoder_.stats().ip_datagrams_incomplete, 1u);
  eth(pieces[1], 40'000'000'002);  // too late: its datagram is gone
  decoder_.finish();
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(decoder_.stats().ip_datagrams_incomplete, 3u);
  EXPECT_EQ(decoder_.stats().ip_reassembled, 0u);
}

TEST(DecoderLimitsTest, FragmentMemoryIsBounded) {
  RecordingSink sink;
  DecoderOptions options;
  options.max_fragmented_datagrams = 4;
  options.max_fragment_bytes = 1000;
  Decoder decoder(sink, options);
  std::vector<std::string> frames;
  for (uint16_t id = 0; id < 10; ++id)
    frames.push_back(ethernet(0x0800, ipv4Fragments(udp(1, 2, kBig), 104, id)[0]));
  uint64_t n = 0;
  for (const auto& data : frames) {
    Frame f;
    f.number = ++n;
    f.link_type = 1;
    f.data = data;
    decoder.onFrame(f);
  }
  EXPECT_EQ(decoder.stats().ip_datagrams_incomplete, 6u);
  decoder.finish();
  EXPECT_EQ(decoder.stats().ip_datagrams_incomplete, 10u);
  EXPECT_TRUE(sink.got.empty());
}

TEST_F(DecoderTest, Ipv6FragmentsWithExtensionHeaders) {
  const std::string src = ipv6Addr(1), dst = ipv6Addr(2);
  // The fragmentable part starts with a destination options header, then UDP.
  const std::string fragmentable = ipv6Option(17) + udp(5060, 5060, kBig);
  auto piece = [&](uint16_t off, size_t len, bool more) {
    // Hop-by-hop before the fragment header (unfragmentable part).
    return ipv6(
        src, dst, 0,
        ipv6Option(44) + ipv6Fragment(60, off, more, 0xabcdef) + fragmentable.substr(off, len));
  };
  eth6(piece(160, fragmentable.size() - 160, false));
  eth6(piece(0, 80, true));
  EXPECT_TRUE(sink_.got.empty());
  eth6(piece(80, 80, true));
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].bytes, kBig);
  EXPECT_EQ(sink_.got[0].frame, 3u);
  EXPECT_EQ(sink_.got[0].src, "[2001:db8::1]:5060");
  // An atomic fragment is no fragment at all.
  eth6(ipv6(src, dst, 44, ipv6Fragment(17, 0, false, 5) + udp(1, 2, "atomic")));
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].bytes, "atomic");
  EXPECT_EQ(decoder_.stats().ip_reassembled, 1u);
}

// --- TCP -----------------------------------------------------------------------------------

class TcpTest : public DecoderTest {
 protected:
  void client(uint32_t seq, uint8_t flags, const std::string& data, uint32_t ack = 0) {
    eth(ipv4(kA, kB, 6, tcp(40000, 5060, seq, flags, data, ack)));
  }
  void server(uint32_t seq, uint8_t flags, const std::string& data, uint32_t ack = 0) {
    eth(ipv4(kB, kA, 6, tcp(5060, 40000, seq, flags, data, ack)));
  }
};

TEST_F(TcpTest, InOrderWithHandshakeAndClose) {
  client(1000, kSyn, "");
  server(5000, kSyn | kAck, "");
  client(1001, kAck, "");
  client(1001, kAck | kPsh, "INVITE ");
  client(1008, kAck | kPsh, "sip:bob");
  server(5001, kAck | kPsh, "SIP/2.0 100");
  client(1015, kFin | kAck, "");
  EXPECT_TRUE(sink_.closed.empty());
  server(5012, kFin | kAck, "");
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[0].transport, Transport::kTcp);
  EXPECT_EQ(sink_.got[0].bytes, "INVITE ");
  EXPECT_EQ(sink_.got[0].frame, 4u);
  EXPECT_EQ(sink_.got[0].src, "192.0.2.1:40000");
  EXPECT_EQ(sink_.got[0].dst, "192.0.2.2:5060");
  EXPECT_EQ(sink_.got[1].bytes, "sip:bob");
  EXPECT_EQ(sink_.got[1].frame, 5u);
  EXPECT_EQ(sink_.got[2].bytes, "SIP/2.0 100");
  EXPECT_EQ(sink_.got[2].src, "192.0.2.2:5060");
  ASSERT_EQ(sink_.closed.size(), 1u);
  EXPECT_EQ(sink_.closed[0], "192.0.2.1:40000 192.0.2.2:5060");
  EXPECT_EQ(decoder_.stats().tcp_flows, 1u);
  // A late retransmission after the close is not a new connection.
  client(1008, kAck | kPsh, "sip:bob");
  EXPECT_EQ(sink_.got.size(), 3u);
}

TEST_F(TcpTest, OutOfOrderDeliveredByTheFrameThatFillsTheHole) {
  client(100, kSyn, "");
  client(101 + 6, kAck, "second");  // frame 2: ahead of a hole
  client(101 + 12, kAck, "third");  // frame 3
  EXPECT_TRUE(sink_.got.empty());
  client(101, kAck, "first ");  // frame 4 fills it
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.joined(), "first secondthird");
  for (const auto& d : sink_.got) EXPECT_EQ(d.frame, 4u);
  EXPECT_EQ(decoder_.stats().tcp_out_of_order, 2u);
}

TEST_F(TcpTest, RetransmissionsAndOverlapsAreRemoved) {
  client(1, kAck, "abcdef");    // mid-stream: starts here
  client(1, kAck, "abcdef");    // retransmitted
  client(4, kAck, "defghi");    // overlaps: only "ghi" is new
  client(13, kAck, "mn");       // ahead
  client(10, kAck, "jklmnop");  // covers the hole and the buffered run and more
  client(13, kAck, "mn");       // old again
  EXPECT_EQ(sink_.joined(), "abcdefghijklmnop");
  EXPECT_EQ(decoder_.stats().tcp_retransmissions, 2u);
  EXPECT_EQ(sink_.got.back().frame, 5u);
}

TEST_F(TcpTest, SequenceWrapAround) {
  client(0xfffffff0u, kSyn, "");
  client(0xfffffff1u, kAck, std::string(10, 'a'));
  client(0xfffffffbu, kAck, std::string(10, 'b'));  // crosses 2^32
  client(0x00000005u + 10, kAck, "d");              // ahead
  client(0x00000005u, kAck, std::string(10, 'c'));
  EXPECT_EQ(sink_.joined(),
            std::string(10, 'a') + std::string(10, 'b') + std::string(10, 'c') + "d");
}

TEST_F(TcpTest, MidStreamBothDirections) {
  server(777777, kAck | kPsh, "SIP/2.0 200 OK\r\n");
  client(123, kAck | kPsh, "ACK sip:x SIP/2.0\r\n");
  server(777777 + 16, kAck | kPsh, "more");
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[0].src, "192.0.2.2:5060");
  EXPECT_EQ(sink_.got[2].bytes, "more");
  // A pure ACK of an unknown connection creates nothing.
  eth(ipv4(kA, kB, 6, tcp(1, 2, 5, kAck, "")));
  EXPECT_EQ(decoder_.stats().tcp_flows, 1u);
}

TEST_F(TcpTest, HoleThePeerAcknowledgedIsGivenUpAtOnce) {
  client(100, kSyn, "");
  server(900, kSyn | kAck, "", 101);
  client(101 + 10, kAck | kPsh, "later", 901);  // [101, 111) never reached the capture
  EXPECT_TRUE(sink_.got.empty());
  server(901, kAck, "", 111);  // ... but the server has it
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].bytes, "later");
  EXPECT_EQ(sink_.got[0].frame, 4u);
  EXPECT_EQ(decoder_.stats().tcp_gaps, 1u);
  // An acknowledgement of data never sent (past all we saw) is ignored.
  client(101 + 30, kAck | kPsh, "ahead", 901);
  server(901, kAck, "", 5000);
  EXPECT_EQ(sink_.got.size(), 1u);
}

TEST_F(TcpTest, HoleGivenUpAfterTimeout) {
  eth(ipv4(kA, kB, 6, tcp(40000, 5060, 10, kSyn, "")), 1'000'000'000);
  eth(ipv4(kA, kB, 6, tcp(40000, 5060, 21, kPsh, "ahead")), 2'000'000'000);
  eth(ipv4(kA, kB, 6, tcp(40000, 5060, 26, kPsh, "more")), 4'000'000'000);
  EXPECT_TRUE(sink_.got.empty());
  eth(ipv4(kA, kB, 6, tcp(40000, 5060, 40, kPsh, "x")), 7'500'000'000);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.joined(), "aheadmore");
  EXPECT_EQ(sink_.got[0].frame, 4u);
  // The next hole's clock starts now; the sweep gives it up without further traffic.
  eth(ipv4(kB, kA, 17, udp(1, 2, "tick")), 30'000'000'000);
  ASSERT_EQ(sink_.got.size(), 4u);
  EXPECT_EQ(sink_.got[2].bytes, "x");
  EXPECT_EQ(sink_.got[2].frame, 5u);
  EXPECT_EQ(sink_.got[3].bytes, "tick");
  EXPECT_EQ(decoder_.stats().tcp_gaps, 2u);
}

TEST_F(TcpTest, ResetClosesAndFlushes) {
  client(10, kSyn, "");
  client(11 + 3, kAck, "def");  // held behind a hole
  client(20, kRst, "");
  ASSERT_EQ(sink_.got.size(), 1u);  // the hole is given up, the rest delivered
  EXPECT_EQ(sink_.got[0].bytes, "def");
  EXPECT_EQ(sink_.closed.size(), 1u);
  EXPECT_EQ(decoder_.stats().tcp_gaps, 1u);
  // A new SYN on the same ports opens a new connection.
  client(5000, kSyn, "");
  client(5001, kAck, "new");
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].bytes, "new");
  EXPECT_EQ(decoder_.stats().tcp_flows, 2u);
}

TEST_F(TcpTest, PortReuseWithNewSynClosesTheOldConnection) {
  client(10, kSyn, "");
  client(11, kAck, "old");
  client(90000, kSyn, "");
  client(90001, kAck, "new");
  EXPECT_EQ(sink_.joined(), "oldnew");
  EXPECT_EQ(sink_.closed.size(), 1u);
  decoder_.finish();
  EXPECT_EQ(sink_.closed.size(), 2u);
}

TEST_F(TcpTest, SnaplenCutSegmentsSkipTheMissingOctets) {
  client(10, kSyn, "");
  std::string cut = ipv4(kA, kB, 6, tcp(40000, 5060, 11, kAck, "0123456789"));
  cut.resize(cut.size() - 4);
  eth(cut);
  client(21, kAck, "next");
  EXPECT_EQ(sink_.joined(), "012345next");
  EXPECT_EQ(decoder_.stats().tcp_gaps, 1u);
}

TEST(DecoderLimitsTest, TcpBuffersAndFlowsAreBounded) {
  RecordingSink sink;
  DecoderOptions options;
  options.max_tcp_buffered_bytes = 10;
  options.max_tcp_flows = 4;
  options.tcp_idle_timeout_ns = 60'000'000'000;
  Decoder decoder(sink, options);
  uint64_t n = 0;
  std::vector<std::string> keep;
  auto send = [&](uint16_t sport, uint32_t seq, uint8_t flags, const std::string& data, int64_t t) {
    keep.push_back(ethernet(0x0800, ipv4(kA, kB, 6, tcp(sport, 5060, seq, flags, data))));
    Frame f;
    f.number = ++n;
    f.time_ns = t;
    f.link_type = 1;
    f.data = keep.back();
    decoder.onFrame(f);
  };
  send(1, 0, kSyn, "", 0);
  send(1, 11, kAck, "abcdefgh", 1);  // buffered behind [1, 11)
  send(1, 19, kAck, "ijkl", 2);      // would exceed 10 octets: the hole is given up
  EXPECT_EQ(sink.joined(), "abcdefghijkl");
  EXPECT_EQ(decoder.stats().tcp_gaps, 1u);
  // Flow cap: the fifth flow evicts the idlest.
  for (uint16_t port = 2; port <= 5; ++port) send(port, 0, kSyn, "", 10 + port);
  EXPECT_EQ(decoder.stats().tcp_flows_evicted, 1u);
  EXPECT_EQ(sink.closed.size(), 1u);
  EXPECT_EQ(sink.closed[0], "192.0.2.1:1 192.0.2.2:5060");
  // Idle timeout, in capture time.
  send(9, 0, kSyn, "", 200'000'000'000);
  EXPECT_EQ(decoder.stats().tcp_flows_evicted, 5u);
  EXPECT_EQ(sink.closed.size(), 5u);
}

// --- WebSocket -----------------------------------------------------------------------------

class WebSocketTest : public TcpTest {
 protected:
  void handshake() {
    client(100, kSyn, "");
    server(900, kSyn | kAck, "");
    const std::string request =
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Protocol: sip\r\n\r\n";
    const std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n";
    client(101, kAck | kPsh, request);
    server(901, kAck | kPsh, response);
    cseq_ = 101 + uint32_t(request.size());
    sseq_ = 901 + uint32_t(response.size());
  }
  void clientData(const std::string& data) {
    client(cseq_, kAck | kPsh, data);
    cseq_ += uint32_t(data.size());
  }
  void serverData(const std::string& data) {
    server(sseq_, kAck | kPsh, data);
    sseq_ += uint32_t(data.size());
  }
  uint32_t cseq_ = 0, sseq_ = 0;
};

TEST_F(WebSocketTest, MaskedFragmentedAndSplitMessages) {
  handshake();
  EXPECT_TRUE(sink_.got.empty());  // the HTTP handshake itself is not delivered
  clientData(wsFrame(true, 1, "REGISTER sip:x SIP/2.0\r\n\r\n", 0x11223344));
  // A fragmented message with a ping between the fragments.
  clientData(wsFrame(false, 1, "OPTIONS ", 0x01020304) + wsFrame(true, 9, "ping", 0x05060708) +
             wsFrame(true, 0, "sip:y SIP/2.0\r\n\r\n", 0x0a0b0c0d));
  // A server frame split across two segments: the second one completes it.
  const std::string frame = wsFrame(true, 2, "SIP/2.0 200 OK\r\n\r\n");
  serverData(frame.substr(0, 7));
  serverData(frame.substr(7));
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[0].transport, Transport::kWebSocket);
  EXPECT_EQ(sink_.got[0].bytes, "REGISTER sip:x SIP/2.0\r\n\r\n");
  EXPECT_EQ(sink_.got[0].src, "192.0.2.1:40000");
  EXPECT_EQ(sink_.got[1].bytes, "OPTIONS sip:y SIP/2.0\r\n\r\n");
  EXPECT_EQ(sink_.got[2].bytes, "SIP/2.0 200 OK\r\n\r\n");
  EXPECT_EQ(sink_.got[2].frame, 8u);
  EXPECT_EQ(sink_.got[2].src, "192.0.2.2:5060");
  EXPECT_EQ(decoder_.stats().websocket_messages, 3u);
}

TEST_F(WebSocketTest, LongAndCompressedFramesAndBadOpcodes) {
  handshake();
  const std::string big(70000, 'x');
  const std::string big_frame = wsFrame(true, 2, big, 0x55aa55aa);
  for (size_t off = 0; off < big_frame.size(); off += 30000)
    clientData(big_frame.substr(off, 30000));
  clientData(wsFrame(true, 2, std::string(300, 'y')));
  std::string compressed = wsFrame(true, 1, "deflated?");
  compressed[0] = char(compressed[0] | 0x40);
  serverData(compressed);
  serverData(wsFrame(true, 1, "after"));
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[0].bytes, big);
  EXPECT_EQ(sink_.got[1].bytes, std::string(300, 'y'));
  EXPECT_EQ(sink_.got[2].bytes, "after");
  EXPECT_EQ(decoder_.stats().websocket_skipped, 1u);
  serverData(wsFrame(true, 5, "reserved opcode"));
  serverData(wsFrame(true, 1, "ignored: the direction is lost"));
  EXPECT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(decoder_.stats().bad_websocket_frame, 1u);
}

TEST_F(TcpTest, PlainHttpIsAnOrdinaryStream) {
  client(1, kSyn, "");
  client(2, kAck, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].transport, Transport::kTcp);
  EXPECT_EQ(sink_.got[0].bytes, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
}

// --- SCTP ----------------------------------------------------------------------------------

TEST_F(DecoderTest, SctpDataChunks) {
  const std::string init = [] {
    Bytes b;
    b.u8(1).u8(0).u16(8).u32(0);
    return b.str();
  }();
  eth(ipv4(kA, kB, 132,
           sctp(5060, 5061,
                init + sctpDataChunk(3, 1, 0, "first") + sctpDataChunk(3, 2, 1, "second!"))));
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].transport, Transport::kSctp);
  EXPECT_EQ(sink_.got[0].bytes, "first");
  EXPECT_EQ(sink_.got[0].src, "192.0.2.1:5060");
  EXPECT_EQ(sink_.got[0].dst, "192.0.2.2:5061");
  EXPECT_EQ(sink_.got[1].bytes, "second!");
  // A message in three pieces (B, middle, E) over two packets.
  eth(ipv4(kA, kB, 132,
           sctp(5060, 5061, sctpDataChunk(2, 10, 4, "one-") + sctpDataChunk(0, 11, 4, "two-"))));
  EXPECT_EQ(sink_.got.size(), 2u);
  eth(ipv4(kA, kB, 132, sctp(5060, 5061, sctpDataChunk(1, 12, 4, "three"))));
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[2].bytes, "one-two-three");
  EXPECT_EQ(sink_.got[2].frame, 3u);
  // A piece whose beginning was never seen, and one out of sequence.
  eth(ipv4(kA, kB, 132, sctp(5060, 5061, sctpDataChunk(1, 40, 4, "end"))));
  eth(ipv4(kA, kB, 132,
           sctp(5060, 5061, sctpDataChunk(2, 50, 4, "B") + sctpDataChunk(1, 52, 4, "E"))));
  EXPECT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(decoder_.stats().sctp_fragments_dropped, 2u);
  // Malformed: a chunk longer than the packet, a packet shorter than its common header.
  Bytes bad;
  bad.u8(0).u8(3).u16(200).u32(0);
  eth(ipv4(kA, kB, 132, sctp(1, 2, bad.str())));
  eth(ipv4(kA, kB, 132, "tiny"));
  EXPECT_EQ(decoder_.stats().bad_sctp_packet, 2u);
  EXPECT_EQ(decoder_.stats().sctp_messages, 3u);
}

}  // namespace
}  // namespace capture
