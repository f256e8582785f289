// RTP packets (RFC 3550 §5.1): a zero-copy view of the fixed header, the CSRC list, the
// header extension and the payload (padding removed), and the cheap first-byte tests that
// tell RTP from RTCP on a shared port (RFC 5761 §4) or in a capture with no signalling.
//
//   auto rtp = media::parseRtp(datagram);
//   if (!rtp) return count(rtp.error().reason);   // "rtp: header extension past the end"
//   jitter.onPacket(rtp->ssrc, rtp->sequence, rtp->timestamp, rtp->payload);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace media {

inline constexpr size_t kRtpFixedHeaderBytes = 12;

struct RtpPacket {
  uint8_t version = 0;
  bool padding = false;
  bool extension = false;
  bool marker = false;
  uint8_t csrc_count = 0;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint16_t extension_profile = 0;   // "defined by profile" (0xBEDE: RFC 8285 one-byte form)
  std::string_view extension_data;  // the extension's words, without their 4-byte header
  std::string_view payload;         // after header, CSRCs and extension; padding removed
  uint8_t padding_bytes = 0;        // including the count octet itself
  std::string_view csrc_bytes;      // csrc_count * 4 octets

  uint32_t csrc(size_t i) const;  // i < csrc_count
};

// Parses one RTP packet. Errors: shorter than 12 octets, version other than 2, CSRC list or
// header extension past the end, padding count of 0 or larger than what follows the header.
common::Result<RtpPacket> parseRtp(std::string_view datagram);
// The same without building an error: false (and `why`, a static string, when given) for a
// packet parseRtp refuses. For per-packet paths that count refusals instead of reporting them.
bool tryParseRtp(std::string_view datagram, RtpPacket& out, const char** why = nullptr);

// The second octet of RTCP packet types 192-223 (RFC 5761 §4): with the marker bit it reads
// as RTP payload types 64-95, which RTP never uses on a shared port.
inline bool isRtcpPacketType(uint8_t second_octet) {
  return second_octet >= 192 && second_octet <= 223;
}

// Cheap tests for heuristics (no allocation, no error text). looksLikeRtp: version 2, the
// CSRC list, extension and padding fit, and the second octet is not an RTCP packet type.
// looksLikeRtcp: every packet of the compound has version 2 and a type in 192-223, and their
// lengths add up to the datagram exactly.
bool looksLikeRtp(std::string_view datagram);
bool looksLikeRtcp(std::string_view datagram);

// Big-endian loads; the caller has checked the bounds.
inline uint16_t load16(const char* p) {
  return uint16_t((uint16_t(uint8_t(p[0])) << 8) | uint8_t(p[1]));
}
inline uint32_t load32(const char* p) {
  return (uint32_t(uint8_t(p[0])) << 24) | (uint32_t(uint8_t(p[1])) << 16) |
         (uint32_t(uint8_t(p[2])) << 8) | uint32_t(uint8_t(p[3]));
}

}  // namespace media
