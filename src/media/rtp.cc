#include "media/rtp.h"

namespace media {

uint32_t RtpPacket::csrc(size_t i) const {
  return load32(csrc_bytes.data() + 4 * i);
}

bool tryParseRtp(std::string_view d, RtpPacket& out, const char** why) {
  auto fail = [&](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  if (d.size() < kRtpFixedHeaderBytes) return fail("rtp: shorter than the 12-octet header");
  const uint8_t b0 = uint8_t(d[0]), b1 = uint8_t(d[1]);
  out.version = b0 >> 6;
  if (out.version != 2) return fail("rtp: version is not 2");
  out.padding = (b0 & 0x20) != 0;
  out.extension = (b0 & 0x10) != 0;
  out.csrc_count = b0 & 0x0f;
  out.marker = (b1 & 0x80) != 0;
  out.payload_type = b1 & 0x7f;
  out.sequence = load16(d.data() + 2);
  out.timestamp = load32(d.data() + 4);
  out.ssrc = load32(d.data() + 8);
  size_t offset = kRtpFixedHeaderBytes;
  const size_t csrc_len = size_t(out.csrc_count) * 4;
  if (d.size() - offset < csrc_len) return fail("rtp: CSRC list past the end");
  out.csrc_bytes = d.substr(offset, csrc_len);
  offset += csrc_len;
  out.extension_profile = 0;
  out.extension_data = {};
  if (out.extension) {
    if (d.size() - offset < 4) return fail("rtp: header extension past the end");
    out.extension_profile = load16(d.data() + offset);
    const size_t words = load16(d.data() + offset + 2);
    offset += 4;
    if ((d.size() - offset) / 4 < words) return fail("rtp: header extension past the end");
    out.extension_data = d.substr(offset, words * 4);
    offset += words * 4;
  }
  size_t end = d.size();
  out.padding_bytes = 0;
  if (out.padding) {
    const uint8_t count = uint8_t(d.back());
    if (count == 0) return fail("rtp: padding count of 0");
    if (count > end - offset) return fail("rtp: padding longer than the payload");
    out.padding_bytes = count;
    end -= count;
  }
  out.payload = d.substr(offset, end - offset);
  return true;
}

common::Result<RtpPacket> parseRtp(std::string_view datagram) {
  RtpPacket p;
  const char* why = "";
  if (!tryParseRtp(datagram, p, &why)) {
    return common::makeError(common::ErrorCode::kInvalidArgument, why);
  }
  return p;
}

bool looksLikeRtp(std::string_view d) {
  RtpPacket p;
  return tryParseRtp(d, p) && !isRtcpPacketType(uint8_t(d[1]));
}

bool looksLikeRtcp(std::string_view d) {
  if (d.size() < 8) return false;
  size_t offset = 0;
  while (offset < d.size()) {
    if (d.size() - offset < 4) return false;
    const uint8_t b0 = uint8_t(d[offset]), type = uint8_t(d[offset + 1]);
    if ((b0 >> 6) != 2 || !isRtcpPacketType(type)) return false;
    const size_t len = (size_t(load16(d.data() + offset + 2)) + 1) * 4;
    if (len > d.size() - offset) return false;
    offset += len;
  }
  return true;
}

}  // namespace media
