#include "capture/analyzer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "packet_builder.h"

namespace capture {
namespace {

using namespace capture::testing;

constexpr uint32_t kT0 = 1'700'000'000;  // capture seconds
constexpr int64_t kMs = 1'000'000;
constexpr uint32_t kSsrc = 0x11223344;
const std::string kCaller = ipv4Addr(10, 0, 0, 1), kCallee = ipv4Addr(10, 0, 0, 2);

std::string sdp(const char* ip, int port, uint32_t event_clock) {
  return "v=0\r\no=- 1 1 IN IP4 " + std::string(ip) + "\r\ns=-\r\nc=IN IP4 " + ip +
         "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
         " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/" +
         std::to_string(event_clock) + "\r\na=fmtp:101 0-16\r\n";
}

std::string sip(const std::string& first_line, int cseq, const std::string& method,
                const std::string& body = "", bool to_tag = true) {
  std::string m =
      first_line + "\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + std::to_string(cseq) +
      method + "\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>" +
      (to_tag ? ";tag=b2" : "") + "\r\nCall-ID: digits@10.0.0.1\r\nCSeq: " + std::to_string(cseq) +
      " " + method + "\r\nMax-Forwards: 70\r\n";
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  return m + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One call whose SDP names telephone-event at `clock`, in which the caller presses `digits`.
// Each press is sent as RFC 4733 §2.5 says: a start packet with the marker, updates every
// 20 ms, and the end packet three times, all with the press's timestamp; 100 ms long.
class CallCapture {
 public:
  explicit CallCapture(uint32_t clock) : clock_(clock) {
    udp(kCaller, kCallee, 5060, 5060,
        sip("INVITE sip:bob@10.0.0.2 SIP/2.0", 1, "INVITE", sdp("10.0.0.1", 4000, clock), false));
    udp(kCallee, kCaller, 5060, 5060,
        sip("SIP/2.0 200 OK", 1, "INVITE", sdp("10.0.0.2", 5000, clock)));
    udp(kCaller, kCallee, 5060, 5060, sip("ACK sip:bob@10.0.0.2 SIP/2.0", 1, "ACK"));
    at_ms_ = 100;
  }

  // Returns the press's start, in ns after kT0.
  int64_t press(char digit) {
    const int id = digit == '*' ? 10 : digit == '#' ? 11 : digit - '0';
    const uint16_t per_20ms = uint16_t(clock_ / 50);
    const int64_t start = at_ms_ * kMs;
    for (int i = 1; i <= 5; ++i) event(id, false, uint16_t(per_20ms * i), i == 1);
    for (int i = 0; i < 3; ++i) event(id, true, uint16_t(per_20ms * 5), false);
    ts_ += uint32_t(clock_ / 10) + clock_ / 5;  // the press and 200 ms until the next
    at_ms_ += 200;
    return start;
  }

  std::string file() const { return pcapFile(false, false, 1, records_); }

 private:
  void event(int id, bool end, uint16_t duration, bool marker) {
    Bytes b;
    b.u8(0x80).u8(uint8_t((marker ? 0x80 : 0) | 101)).u16(seq_++).u32(ts_).u32(kSsrc);
    b.u8(uint8_t(id)).u8(uint8_t((end ? 0x80 : 0) | 10)).u16(duration);
    udp(kCaller, kCallee, 4000, 5000, b.str());
    at_ms_ += 20;
  }
  void udp(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           const std::string& payload) {
    Record r;
    r.sec = kT0 + uint32_t(at_ms_ / 1000);
    r.frac = uint32_t(at_ms_ % 1000) * 1000;
    r.data = ethernet(0x0800, ipv4(src, dst, 17, capture::testing::udp(sport, dport, payload)));
    records_.push_back(std::move(r));
  }

  uint32_t clock_;
  int64_t at_ms_ = 0;
  uint16_t seq_ = 1000;
  uint32_t ts_ = 8000;
  std::vector<Record> records_;
};

Report analyzeBytes(const std::string& bytes) {
  auto file = CaptureFile::fromBuffer(bytes);
  EXPECT_TRUE(file.has_value()) << (file ? "" : file.error().reason);
  if (!file) return {};
  return analyze(**file);
}

TEST(Analyzer, TheSameDigitPressedAgainIsReportedAgainAtEveryEventClock) {
  for (uint32_t clock : {8000u, 16000u, 48000u}) {
    for (std::string digits : {"11", "1#1", "5555"}) {
      SCOPED_TRACE("telephone-event/" + std::to_string(clock) + " digits " + digits);
      CallCapture call(clock);
      std::vector<int64_t> starts;
      for (char d : digits) starts.push_back(call.press(d));
      const Report r = analyzeBytes(call.file());
      ASSERT_EQ(r.dtmf.size(), digits.size());
      for (size_t i = 0; i < digits.size(); ++i) {
        EXPECT_EQ(r.dtmf[i].digit, digits[i]) << i;
        EXPECT_EQ(r.dtmf[i].source, "rfc4733") << i;
        EXPECT_EQ(r.dtmf[i].time_ns, int64_t(kT0) * 1'000'000'000 + starts[i]) << i;
        EXPECT_DOUBLE_EQ(r.dtmf[i].duration_ms, 100.0) << i;
        EXPECT_EQ(r.dtmf[i].call_id, "digits@10.0.0.1") << i;
      }
    }
  }
}

}  // namespace
}  // namespace capture
