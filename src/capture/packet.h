// What the packet decoders hand to the analyzers: transport payloads with their addresses and
// capture time. The decoders (capture/decoder.h) take frames from a capture file
// (capture/pcap_file.h) through link, tunnel, IP (with fragment reassembly) and transport
// layers (UDP datagrams, in-order TCP bytes, SCTP DATA chunks, WebSocket messages over TCP).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace capture {

// An IPv4 or IPv6 address and a port. IPv4 is kept in the first four octets.
struct Endpoint {
  std::array<uint8_t, 16> addr{};
  bool v6 = false;
  uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
  // "192.0.2.1:5060", "[2001:db8::1]:5060"; address() without the port.
  std::string toString() const;
  std::string address() const;
};

struct EndpointHash {
  size_t operator()(const Endpoint& e) const;
};

enum class Transport { kUdp, kTcp, kSctp, kWebSocket };
std::string_view transportName(Transport t);  // "udp", "tcp", "sctp", "ws"

// One frame as read from a capture file.
struct Frame {
  uint64_t number = 0;       // 1-based, in file order (as tshark numbers them)
  int64_t time_ns = 0;       // capture time, nanoseconds since the Unix epoch
  uint32_t link_type = 0;    // LINKTYPE_* of the interface it was captured on
  uint32_t wire_length = 0;  // original length on the wire
  uint64_t file_offset = 0;  // where the frame's record starts in the file
  std::string_view data;     // captured octets; valid until the next frame is read
};

// A transport payload, delivered once it is complete and in order:
//   kUdp        one datagram (after IP reassembly)
//   kTcp        the next run of in-order stream octets of one direction (retransmitted and
//               overlapping octets removed); SIP framing is the consumer's business
//   kSctp       the user data of one DATA chunk (one per chunk; a packet may hold several)
//   kWebSocket  the payload of one text or binary message (unmasked, fragments joined)
struct Payload {
  Transport transport = Transport::kUdp;
  Endpoint src, dst;
  uint64_t frame = 0;      // the frame that completed this payload
  int64_t time_ns = 0;     // that frame's capture time
  std::string_view bytes;  // valid during the callback only
};

class PayloadSink {
 public:
  virtual ~PayloadSink() = default;
  virtual void onPayload(const Payload& payload) = 0;
  // A TCP connection closed (FIN or RST seen both ways, or evicted): per-flow state can go.
  virtual void onStreamClosed(const Endpoint& /*a*/, const Endpoint& /*b*/) {}
};

}  // namespace capture
