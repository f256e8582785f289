// Decodes captured frames down to transport payloads: link layers (Ethernet, Linux cooked,
// raw IP, loopback), VLAN and MPLS tags, GRE/ERSPAN and IP-in-IP tunnels, IPv4/IPv6 with
// fragment reassembly, then UDP datagrams, in-order TCP bytes (WebSocket messages once a
// connection upgrades) and SCTP user messages, handed to a PayloadSink. What it cannot decode is
// counted in stats() by reason, never fatal. Memory is bounded by the live flows, not the file.
//
//   capture::Decoder decoder(analyzer);
//   while (file.next(frame)) decoder.onFrame(frame);
//   decoder.finish();  // flushes and closes the flows still open
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "capture/packet.h"

namespace capture {

namespace internal {
class IpReassembler;
class TcpReassembler;
class SctpAssembler;
struct NetworkAddresses;
}  // namespace internal

// Bounds on what the decoder keeps between frames. Times are capture time.
struct DecoderOptions {
  int64_t fragment_timeout_ns = 30'000'000'000;     // an IP datagram's pieces wait this long
  size_t max_fragmented_datagrams = 4096;           // IP datagrams being reassembled at once
  size_t max_fragment_bytes = 32u << 20;            // octets held by all of them
  int64_t tcp_idle_timeout_ns = 300'000'000'000;    // a TCP flow silent this long is closed
  size_t max_tcp_flows = 100000;                    // beyond it, the idlest flows are closed
  size_t max_tcp_buffered_bytes = 1u << 20;         // out-of-order octets of one direction
  size_t max_tcp_total_buffered_bytes = 64u << 20;  // ... of all flows together
  size_t max_message_bytes = 1u << 20;  // a WebSocket message, an SCTP user message, an HTTP head
  int max_encapsulation_depth = 8;      // tunnels inside tunnels
};

struct DecoderStats {
  uint64_t frames = 0;
  // Delivered.
  uint64_t udp_datagrams = 0;
  uint64_t tcp_segments = 0;  // decoded, with or without data
  uint64_t sctp_messages = 0;
  uint64_t websocket_messages = 0;
  // Not ours, not wrong.
  uint64_t unsupported_link_type = 0;
  uint64_t non_ip = 0;              // ARP, LLDP, STP, ... (after the link layer)
  uint64_t other_ip_protocol = 0;   // ICMP, ESP, OSPF, ...
  uint64_t unsupported_tunnel = 0;  // GRE version 1, unknown GRE payloads, ERSPAN frame types
  // Malformed: counted and skipped.
  uint64_t bad_link_header = 0;
  uint64_t bad_ipv4_header = 0;
  uint64_t bad_ipv6_header = 0;
  uint64_t bad_udp_header = 0;
  uint64_t bad_tcp_header = 0;
  uint64_t bad_sctp_packet = 0;
  uint64_t bad_gre_header = 0;
  uint64_t bad_websocket_frame = 0;
  uint64_t tunnel_too_deep = 0;
  // IP reassembly.
  uint64_t ip_fragments = 0;
  uint64_t ip_reassembled = 0;
  uint64_t ip_fragments_bad = 0;         // cut short by the capture, or past 64 KiB
  uint64_t ip_fragment_overlaps = 0;     // overlapping octets: the first copy is kept
  uint64_t ip_datagrams_incomplete = 0;  // given up: timeout, memory caps, end of capture
  // TCP.
  uint64_t tcp_flows = 0;
  uint64_t tcp_retransmissions = 0;  // segments carrying only octets already delivered
  uint64_t tcp_out_of_order = 0;     // segments held back behind a hole
  uint64_t tcp_gaps = 0;             // holes given up on (buffer caps, close, eviction, snaplen)
  uint64_t tcp_flows_evicted = 0;    // idle, or over the flow cap
  // SCTP and WebSocket.
  uint64_t sctp_fragments_dropped = 0;  // pieces of user messages that never completed
  uint64_t websocket_skipped = 0;       // compressed (RSV1) or over-large messages

  // The sum of the malformed counters.
  uint64_t malformed() const;
  // Every counter with its name, in declaration order (for printing).
  std::vector<std::pair<std::string_view, uint64_t>> counters() const;
};

class Decoder {
 public:
  explicit Decoder(PayloadSink& sink, DecoderOptions options = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  void onFrame(const Frame& frame);
  // End of capture: delivers what TCP still buffers (skipping holes), closes every flow
  // (onStreamClosed) and counts the IP datagrams and SCTP messages left incomplete.
  void finish();
  const DecoderStats& stats() const { return stats_; }

 private:
  using Addresses = internal::NetworkAddresses;
  void link(uint32_t link_type, const uint8_t* p, size_t n);
  void ethernet(const uint8_t* p, size_t n, int depth);
  void etherType(uint16_t type, const uint8_t* p, size_t n, int depth);
  void mpls(const uint8_t* p, size_t n, int depth);
  void ipAny(const uint8_t* p, size_t n, int depth);
  void ipv4(const uint8_t* p, size_t n, int depth);
  void ipv6(const uint8_t* p, size_t n, int depth);
  // `missing`: octets of this payload that the capture cut off (snaplen).
  void transport(uint8_t protocol, const Addresses& addrs, const uint8_t* p, size_t n,
                 size_t missing, int depth);
  void udp(const Addresses& addrs, const uint8_t* p, size_t n);
  void tcp(const Addresses& addrs, const uint8_t* p, size_t n, size_t missing);
  void gre(const uint8_t* p, size_t n, int depth);
  void sweep();

  PayloadSink& sink_;
  DecoderOptions options_;
  DecoderStats stats_;
  uint64_t frame_ = 0;
  int64_t now_ = 0;
  int64_t last_sweep_ = 0;
  std::unique_ptr<internal::IpReassembler> fragments_;
  std::unique_ptr<internal::TcpReassembler> tcp_;
  std::unique_ptr<internal::SctpAssembler> sctp_;
};

}  // namespace capture
