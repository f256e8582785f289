// RTCP compound packets (RFC 3550 §6): sender and receiver reports with their report blocks,
// source descriptions and BYE; APP and feedback packets are kept as raw bodies. Every length
// is checked against the datagram before it is read.
//
//   auto rtcp = media::parseRtcp(datagram);
//   if (!rtcp) return count(rtcp.error().reason);
//   for (const auto& p : rtcp->packets)
//     for (const auto& b : p.blocks) use(b.ssrc, b.fraction_lost, b.jitter, b.lsr, b.dlsr);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace media {

enum RtcpType : uint8_t {
  kRtcpSr = 200,
  kRtcpRr = 201,
  kRtcpSdes = 202,
  kRtcpBye = 203,
  kRtcpApp = 204,
  kRtcpRtpfb = 205,
  kRtcpPsfb = 206,
  kRtcpXr = 207,
};

struct RtcpReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // in 1/256
  int32_t cumulative_lost = 0;  // 24-bit signed
  uint32_t highest_seq = 0;     // extended highest sequence number received
  uint32_t jitter = 0;          // interarrival jitter, timestamp units
  uint32_t lsr = 0;             // middle 32 bits of the NTP time of the last SR
  uint32_t dlsr = 0;            // delay since that SR, 1/65536 s
};

struct RtcpSenderInfo {
  uint32_t ntp_msw = 0, ntp_lsw = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0, octet_count = 0;
  // What a receiver echoes as LSR: the middle 32 bits of the 64-bit NTP timestamp.
  uint32_t ntpMiddle() const { return (ntp_msw << 16) | (ntp_lsw >> 16); }
};

struct RtcpSdesItem {
  uint8_t type = 0;  // 1 CNAME, 2 NAME, ... 8 PRIV
  std::string_view text;
};

struct RtcpSdesChunk {
  uint32_t ssrc = 0;
  std::vector<RtcpSdesItem> items;
};

// One packet of a compound.
struct RtcpPacket {
  uint8_t type = 0;
  uint8_t count = 0;  // the 5-bit RC/SC/FMT field
  bool padding = false;
  std::string_view body;  // after the 4-octet header, padding removed
  uint32_t ssrc = 0;      // sender SSRC: SR, RR, APP, feedback, XR; first SSRC of a BYE
  std::optional<RtcpSenderInfo> sender;  // SR
  std::vector<RtcpReportBlock> blocks;   // SR, RR
  std::vector<RtcpSdesChunk> sdes;       // SDES
  std::vector<uint32_t> bye_ssrcs;       // BYE
  std::string_view bye_reason;           // BYE, optional
};

struct RtcpCompound {
  std::vector<RtcpPacket> packets;
  size_t trailing_bytes = 0;  // fewer than 4 octets after the last packet (seen in the wild)
};

// Errors: no packet, a version other than 2, a type outside 192-223, a length past the end
// of the datagram, a report count or SDES chunk that does not fit its packet's length.
common::Result<RtcpCompound> parseRtcp(std::string_view datagram);

}  // namespace media
