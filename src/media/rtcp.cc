#include "media/rtcp.h"

#include <string>

#include "media/rtp.h"

namespace media {
namespace {

using common::ErrorCode;
using common::makeError;

constexpr size_t kReportBlockBytes = 24;
constexpr size_t kSenderInfoBytes = 20;

common::Unexpected bad(size_t index, const char* what) {
  return makeError(ErrorCode::kInvalidArgument,
                   "rtcp: packet " + std::to_string(index + 1) + ": " + what);
}

RtcpReportBlock readBlock(const char* p) {
  RtcpReportBlock b;
  b.ssrc = load32(p);
  b.fraction_lost = uint8_t(p[4]);
  uint32_t lost = (uint32_t(uint8_t(p[5])) << 16) | (uint32_t(uint8_t(p[6])) << 8) | uint8_t(p[7]);
  if (lost & 0x800000) lost |= 0xff000000;  // sign-extend the 24-bit field
  b.cumulative_lost = int32_t(lost);
  b.highest_seq = load32(p + 8);
  b.jitter = load32(p + 12);
  b.lsr = load32(p + 16);
  b.dlsr = load32(p + 20);
  return b;
}

// SR and RR: sender SSRC, the sender info (SR), then `count` report blocks. Profile-specific
// extensions may follow the blocks; they are skipped.
common::Status parseReport(RtcpPacket& p, size_t index) {
  std::string_view b = p.body;
  const size_t fixed = 4 + (p.type == kRtcpSr ? kSenderInfoBytes : 0);
  if (b.size() < fixed + p.count * kReportBlockBytes)
    return bad(index, "report blocks past its length");
  p.ssrc = load32(b.data());
  if (p.type == kRtcpSr) {
    RtcpSenderInfo s;
    s.ntp_msw = load32(b.data() + 4);
    s.ntp_lsw = load32(b.data() + 8);
    s.rtp_timestamp = load32(b.data() + 12);
    s.packet_count = load32(b.data() + 16);
    s.octet_count = load32(b.data() + 20);
    p.sender = s;
  }
  p.blocks.reserve(p.count);
  for (size_t i = 0; i < p.count; ++i)
    p.blocks.push_back(readBlock(b.data() + fixed + i * kReportBlockBytes));
  return {};
}

// SDES: `count` chunks of an SSRC and items (type, length, text) ended by a zero octet and
// padded to a 32-bit boundary.
common::Status parseSdes(RtcpPacket& p, size_t index) {
  std::string_view b = p.body;
  size_t off = 0;
  for (size_t c = 0; c < p.count; ++c) {
    if (b.size() - off < 4) return bad(index, "SDES chunk past its length");
    RtcpSdesChunk chunk;
    chunk.ssrc = load32(b.data() + off);
    off += 4;
    for (;;) {
      if (off >= b.size()) return bad(index, "SDES items without an end");
      const uint8_t type = uint8_t(b[off]);
      if (type == 0) {
        off = (off + 4) & ~size_t(3);  // the end octet and the padding to the next word
        break;
      }
      if (b.size() - off < 2) return bad(index, "SDES item past its length");
      const size_t len = uint8_t(b[off + 1]);
      if (b.size() - off - 2 < len) return bad(index, "SDES item past its length");
      chunk.items.push_back({type, b.substr(off + 2, len)});
      off += 2 + len;
    }
    p.sdes.push_back(std::move(chunk));
    if (off > b.size()) off = b.size();
  }
  return {};
}

common::Status parseBye(RtcpPacket& p, size_t index) {
  std::string_view b = p.body;
  if (b.size() < p.count * size_t(4)) return bad(index, "BYE sources past its length");
  for (size_t i = 0; i < p.count; ++i) p.bye_ssrcs.push_back(load32(b.data() + 4 * i));
  if (!p.bye_ssrcs.empty()) p.ssrc = p.bye_ssrcs.front();
  const size_t off = p.count * size_t(4);
  if (b.size() > off) {
    const size_t len = uint8_t(b[off]);
    if (b.size() - off - 1 < len) return bad(index, "BYE reason past its length");
    p.bye_reason = b.substr(off + 1, len);
  }
  return {};
}

}  // namespace

common::Result<RtcpCompound> parseRtcp(std::string_view d) {
  RtcpCompound out;
  size_t offset = 0;
  while (offset < d.size()) {
    const size_t index = out.packets.size();
    if (d.size() - offset < 4) {
      if (index == 0) return bad(index, "shorter than the 4-octet header");
      out.trailing_bytes = d.size() - offset;
      break;
    }
    const uint8_t b0 = uint8_t(d[offset]);
    RtcpPacket p;
    p.type = uint8_t(d[offset + 1]);
    p.count = b0 & 0x1f;
    p.padding = (b0 & 0x20) != 0;
    if ((b0 >> 6) != 2) return bad(index, "version is not 2");
    if (!isRtcpPacketType(p.type)) return bad(index, "packet type outside 192-223");
    const size_t len = (size_t(load16(d.data() + offset + 2)) + 1) * 4;
    if (len > d.size() - offset) return bad(index, "length past the end of the datagram");
    p.body = d.substr(offset + 4, len - 4);
    if (p.padding) {
      const uint8_t pad = p.body.empty() ? 0 : uint8_t(p.body.back());
      if (pad == 0 || pad > p.body.size()) return bad(index, "bad padding count");
      p.body.remove_suffix(pad);
    }
    common::Status st;
    switch (p.type) {
      case kRtcpSr:
      case kRtcpRr:
        st = parseReport(p, index);
        break;
      case kRtcpSdes:
        st = parseSdes(p, index);
        break;
      case kRtcpBye:
        st = parseBye(p, index);
        break;
      default:  // APP, feedback, XR: the sender SSRC, the rest left raw
        if (p.body.size() >= 4) p.ssrc = load32(p.body.data());
        break;
    }
    if (!st) return st.error();
    out.packets.push_back(std::move(p));
    offset += len;
  }
  if (out.packets.empty()) return makeError(ErrorCode::kInvalidArgument, "rtcp: empty datagram");
  return out;
}

}  // namespace media
