#include "capture/rtp_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include "media/g711.h"

namespace {

using capture::Endpoint;
using capture::MediaBinding;
using capture::Payload;
using capture::Report;
using capture::RtpAnalyzer;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 1'600'000'000LL * 1'000'000'000LL;  // an arbitrary epoch time

Endpoint ep(uint8_t last, uint16_t port) {
  Endpoint e;
  e.addr[0] = 10, e.addr[1] = 0, e.addr[2] = 0, e.addr[3] = last;
  e.port = port;
  return e;
}

std::string be16(uint16_t v) {
  return {char(v >> 8), char(v)};
}
std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string rtp(int pt, uint16_t seq, uint32_t ts, uint32_t ssrc, std::string payload,
                bool marker = false) {
  std::string p;
  p += char(0x80);
  p += char((marker ? 0x80 : 0) | pt);
  return p + be16(seq) + be32(ts) + be32(ssrc) + payload;
}

std::string event(int id, bool end, uint16_t duration) {
  return std::string{char(id), char((end ? 0x80 : 0) | 10)} + be16(duration);
}

// Keeps the datagrams alive for the views a Payload holds.
class Feed {
 public:
  explicit Feed(RtpAnalyzer& a) : a_(a) {}
  bool send(const Endpoint& src, const Endpoint& dst, int64_t t, std::string bytes) {
    store_.push_back(std::move(bytes));
    Payload p;
    p.transport = capture::Transport::kUdp;
    p.src = src;
    p.dst = dst;
    p.frame = ++frame_;
    p.time_ns = t;
    p.bytes = store_.back();
    return a_.onDatagram(p);
  }

 private:
  RtpAnalyzer& a_;
  std::deque<std::string> store_;
  uint64_t frame_ = 0;
};

const std::string kVoice(160, char(0xd5));  // A-law silence

TEST(RtpAnalysis, CountsLossDuplicatesAndReorderingAcrossTheSequenceWrap) {
  RtpAnalyzer a;
  Feed f(a);
  a.bindMedia(ep(2, 4000), {.call_id = "c1"});
  const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
  // 65533 65534 65535 0 [1 lost] 3 2 (late) 3 (duplicate) 4 5
  const std::vector<uint16_t> seqs = {65533, 65534, 65535, 0, 3, 2, 3, 4, 5};
  int64_t t = kT0;
  for (uint16_t s : seqs) {
    const uint32_t ts = uint32_t((uint16_t(s + 3)) * 160u);
    EXPECT_TRUE(f.send(src, dst, t, rtp(8, s, ts, 0x1234, kVoice)));
    t += 20 * kMs;
  }
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  const auto& s = r.rtp_streams[0];
  EXPECT_EQ(s.ssrc, 0x1234u);
  EXPECT_EQ(s.packets, 9u);
  EXPECT_EQ(s.expected, 9);       // 65533 .. 5 across the wrap
  EXPECT_EQ(s.lost, 1);           // seq 1
  EXPECT_EQ(s.duplicates, 1u);    // the second 3
  EXPECT_EQ(s.out_of_order, 1u);  // 2 after 3
  EXPECT_EQ(s.payload_type, 8);
  EXPECT_EQ(s.codec, "PCMA");
  EXPECT_EQ(s.call_id, "c1");
  EXPECT_TRUE(s.from_sdp);
  EXPECT_EQ(s.start_ns, kT0);
  EXPECT_EQ(s.end_ns, kT0 + 8 * 20 * kMs);
}

TEST(RtpAnalysis, JitterAndDeltasAsTsharkComputesThem) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
  a.bindMedia(dst, {});
  // PCMU, 20 ms of timestamp each; arrivals at 0, 20, 45, 60 ms.
  const int64_t arrival[] = {0, 20, 45, 60};
  for (int i = 0; i < 4; ++i)
    f.send(src, dst, kT0 + arrival[i] * kMs,
           rtp(0, uint16_t(100 + i), uint32_t(i * 160), 7, kVoice));
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  const auto& s = r.rtp_streams[0];
  // By hand (J = J + (|D| - J) / 16 on each packet after the first):
  //   #2: D = 20 - 20 = 0     J = 0
  //   #3: D = 25 - 20 = 5     J = 5/16 = 0.3125
  //   #4: D = 15 - 20 = -5    J = (15 * 0.3125 + 5) / 16 = 0.60546875
  // Means are tshark's running ones over the packets after the first: jitter (0, 0.3125,
  // 0.60546875) / 3, deltas (20, 25, 15) / 3.
  EXPECT_NEAR(s.max_jitter_ms, 0.60546875, 1e-9);
  EXPECT_NEAR(s.mean_jitter_ms, (0 + 0.3125 + 0.60546875) / 3, 1e-9);
  EXPECT_NEAR(s.max_delta_ms, 25, 1e-9);
  EXPECT_EQ(s.lost, 0);
}

TEST(RtpAnalysis, MarkerComfortNoiseAndEventsStayOutOfTheMaxima) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
  MediaBinding b;
  b.encodings = {{8, "PCMA"}, {13, "CN"}, {101, "telephone-event"}};
  b.clock_rates = {{8, 8000}, {101, 8000}};
  a.bindMedia(dst, b);
  int64_t t = kT0;
  uint16_t seq = 1;
  uint32_t ts = 0;
  auto send = [&](int pt, int64_t gap_ms, uint32_t ts_step, bool marker = false,
                  std::string body = kVoice) {
    t += gap_ms * kMs;
    ts += ts_step;
    f.send(src, dst, t, rtp(pt, seq++, ts, 9, body, marker));
  };
  send(8, 0, 0);
  send(8, 20, 160);
  send(13, 500, 160);                            // CN after a long pause: not a regular packet
  send(8, 20, 160);                              // follows CN: not regular either
  send(8, 400, 160, true);                       // talkspurt with the marker: not regular
  send(8, 20, 160);                              // regular again
  send(101, 5, 0, false, event(5, false, 160));  // events have no clock: no jitter
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  const auto& s = r.rtp_streams[0];
  EXPECT_NEAR(s.max_delta_ms, 20, 1e-9);  // the 500 and 400 ms gaps are not counted
  EXPECT_EQ(s.payload_types, (std::vector<int>{8, 13, 101}));
  EXPECT_EQ(s.payload_type, 8);
  // The jitter still ran through the excluded packets: after the 400 ms gap (marker) it is
  // large, and the next regular packet carries 15/16 of it into the maximum.
  EXPECT_GT(s.max_jitter_ms, 10.0);
}

TEST(RtpAnalysis, OneEventPerRfc4733DigitHoweverManyEndPackets) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(3, 49176), dst = ep(1, 10000);  // no SDP: PT 101 by default
  int64_t t = kT0;
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(f.send(src, dst, t,
                     rtp(101, uint16_t(7984 + i), 13280, 0x0e05384e,
                         event(1, false, uint16_t(320 * i)), i == 0)),
              i > 0);
    t += 20 * kMs;
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(f.send(src, dst, t, rtp(101, 7991, 13280, 0x0e05384e, event(1, true, 2240))));
    t += 40'000;
  }
  Report r;
  a.finish(r);
  ASSERT_EQ(r.dtmf.size(), 1u);
  EXPECT_EQ(r.dtmf[0].digit, '1');
  EXPECT_EQ(r.dtmf[0].event_id, 1);
  EXPECT_EQ(r.dtmf[0].source, "rfc4733");
  EXPECT_EQ(r.dtmf[0].time_ns, kT0);
  EXPECT_DOUBLE_EQ(r.dtmf[0].duration_ms, 280.0);
  EXPECT_EQ(r.dtmf[0].ssrc, 0x0e05384eu);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  const auto& s = r.rtp_streams[0];
  EXPECT_EQ(s.packets, 10u);
  EXPECT_EQ(s.expected, 8);
  EXPECT_EQ(s.lost, 0);
  EXPECT_EQ(s.duplicates, 2u);  // tshark: lost = 8 - 10 = -2 = lost - duplicates
  EXPECT_EQ(s.codec, "telephone-event");
  EXPECT_FALSE(s.from_sdp);
  EXPECT_EQ(s.max_jitter_ms, 0);  // tshark computes no jitter without a clock rate
}

// Sends one key press as RFC 4733 §2.5 does: a start packet with the marker, updates every
// 20 ms and the end packet three times (new sequence numbers), all with the press's
// timestamp; `ticks` is the final duration. Returns the time of the start packet.
int64_t press(Feed& f, const Endpoint& src, const Endpoint& dst, int pt, int64_t& t, uint16_t& seq,
              uint32_t ts, int id, uint16_t ticks) {
  const int64_t start = t;
  for (int i = 1; i <= 4; ++i) {
    f.send(src, dst, t,
           rtp(pt, seq++, ts, 0x0e05384e, event(id, false, uint16_t(ticks * i / 5)), i == 1));
    t += 20 * kMs;
  }
  for (int i = 0; i < 3; ++i) {
    f.send(src, dst, t, rtp(pt, seq++, ts, 0x0e05384e, event(id, true, ticks)));
    t += 20 * kMs;
  }
  return start;
}

TEST(RtpAnalysis, TheSameDigitPressedTwiceIsTwoEvents) {
  for (std::string digits : {"11", "1#1", "999"}) {
    SCOPED_TRACE(digits);
    RtpAnalyzer a;
    Feed f(a);
    const Endpoint src = ep(3, 49176), dst = ep(1, 10000);  // no SDP: PT 101 at 8 kHz
    int64_t t = kT0;
    uint16_t seq = 100;
    uint32_t ts = 16000;
    std::vector<int64_t> starts;
    for (char d : digits) {
      starts.push_back(press(f, src, dst, 101, t, seq, ts, d == '#' ? 11 : d - '0', 960));
      ts += 2400;  // 300 ms later
      t += 160 * kMs;
    }
    Report r;
    a.finish(r);
    ASSERT_EQ(r.dtmf.size(), digits.size());
    for (size_t i = 0; i < digits.size(); ++i) {
      EXPECT_EQ(r.dtmf[i].digit, digits[i]) << i;
      EXPECT_EQ(r.dtmf[i].time_ns, starts[i]) << i;
      EXPECT_DOUBLE_EQ(r.dtmf[i].duration_ms, 120.0) << i;
    }
  }
}

TEST(RtpAnalysis, EventDurationsAreInTheRtpmapClock) {
  // Wideband and Opus calls send telephone-event at 16 or 48 kHz (RFC 4733 §2.3: the
  // event's clock is its rtpmap's); 120 ms is 1920 or 5760 ticks there.
  for (uint32_t clock : {8000u, 16000u, 48000u}) {
    SCOPED_TRACE(clock);
    RtpAnalyzer a;
    Feed f(a);
    const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
    a.bindMedia(dst, {.call_id = "w",
                      .encodings = {{9, "G722"}, {111, "opus"}, {101, "telephone-event"}},
                      .clock_rates = {{9, 8000}, {111, 48000}, {101, clock}}});
    int64_t t = kT0;
    uint16_t seq = 1;
    const uint16_t ticks = uint16_t(clock * 120 / 1000);
    press(f, src, dst, 101, t, seq, 4000, 7, ticks);
    t += 100 * kMs;
    press(f, src, dst, 101, t, seq, 4000 + clock, 7, uint16_t(ticks / 2));
    Report r;
    a.finish(r);
    ASSERT_EQ(r.dtmf.size(), 2u);
    EXPECT_EQ(r.dtmf[0].digit, '7');
    EXPECT_EQ(r.dtmf[0].call_id, "w");
    EXPECT_DOUBLE_EQ(r.dtmf[0].duration_ms, 120.0);
    EXPECT_DOUBLE_EQ(r.dtmf[1].duration_ms, 60.0);
  }
}

TEST(RtpAnalysis, EventsThatAreNotDigitsAreCountedNotReported) {
  for (bool report_them : {false, true}) {
    RtpAnalyzer a({.report_other_events = report_them});
    Feed f(a);
    const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
    MediaBinding b;
    b.encodings = {{8, "PCMA"}, {100, "telephone-event"}};
    a.bindMedia(dst, b);
    f.send(src, dst, kT0, rtp(100, 1, 800, 5, event(194, true, 0), true));
    f.send(src, dst, kT0 + 20 * kMs, rtp(100, 2, 800, 5, event(194, true, 0)));
    f.send(src, dst, kT0 + 40 * kMs, rtp(8, 3, 960, 5, kVoice));
    // A second digit event with a new timestamp.
    f.send(src, dst, kT0 + 60 * kMs, rtp(100, 4, 1120, 5, event(11, true, 800), true));
    Report r;
    a.finish(r);
    EXPECT_EQ(a.otherEvents(), 1u);
    ASSERT_EQ(r.dtmf.size(), report_them ? 2u : 1u);
    if (report_them) {
      EXPECT_EQ(r.dtmf[0].digit, 'X');
      EXPECT_EQ(r.dtmf[0].event_id, 194);
    }
    EXPECT_EQ(r.dtmf.back().digit, '#');
    EXPECT_DOUBLE_EQ(r.dtmf.back().duration_ms, 100.0);
  }
}

TEST(RtpAnalysis, Pt101IsAnEventUnlessAnRtpmapSaysOtherwise) {
  RtpAnalyzer a;
  Feed f(a);
  // m=audio ... 8 101 without an rtpmap for 101: tshark still decodes 101 as an event.
  a.bindMedia(ep(2, 4000), {.call_id = "a", .encodings = {{8, "PCMA"}, {101, "101"}}});
  a.bindMedia(ep(3, 4000),
              {.call_id = "b", .encodings = {{101, "speex"}}, .clock_rates = {{101, 8000}}});
  f.send(ep(1, 5000), ep(2, 4000), kT0, rtp(101, 1, 100, 1, event(4, true, 800), true));
  f.send(ep(1, 5000), ep(3, 4000), kT0, rtp(101, 1, 100, 2, event(4, true, 800), true));
  Report r;
  a.finish(r);
  ASSERT_EQ(r.dtmf.size(), 1u);
  EXPECT_EQ(r.dtmf[0].digit, '4');
  EXPECT_EQ(r.dtmf[0].call_id, "a");
  ASSERT_EQ(r.rtp_streams.size(), 2u);
  EXPECT_EQ(r.rtp_streams[1].codec, "speex");
}

TEST(RtpAnalysis, HeuristicFlowsNeedTwoAgreeingPackets) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(1, 5000), even = ep(2, 2006), odd = ep(2, 2007), low = ep(2, 53);
  EXPECT_FALSE(f.send(src, even, kT0, rtp(8, 10, 0, 77, kVoice)));  // held
  EXPECT_TRUE(f.send(src, even, kT0 + 30 * kMs, rtp(8, 11, 240, 77, kVoice)));
  EXPECT_FALSE(f.send(src, odd, kT0, rtp(8, 10, 0, 78, kVoice)));
  EXPECT_FALSE(f.send(src, odd, kT0 + 30 * kMs, rtp(8, 11, 240, 78, kVoice)));
  EXPECT_FALSE(f.send(src, low, kT0, rtp(8, 10, 0, 79, kVoice)));
  EXPECT_FALSE(f.send(src, low, kT0 + 30 * kMs, rtp(8, 11, 240, 79, kVoice)));
  // Random-looking datagrams (version 2 by chance): a new SSRC each time, no stream.
  for (uint32_t i = 0; i < 50; ++i) {
    EXPECT_FALSE(f.send(ep(5, 6000), ep(6, 6002), kT0 + i * kMs,
                        rtp(int(i % 90), uint16_t(i * 7919), i, i * 2654435761u, "xyz")));
  }
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  EXPECT_EQ(r.rtp_streams[0].packets, 2u);  // the held first packet counts
  EXPECT_EQ(r.rtp_streams[0].start_ns, kT0);
  EXPECT_FALSE(r.rtp_streams[0].from_sdp);
  EXPECT_EQ(r.rtp_streams[0].call_id, "");
}

TEST(RtpAnalysis, AFloodOfSsrcsOnABoundFlowMakesFewStreams) {
  RtpAnalyzer a;
  Feed f(a);
  a.bindMedia(ep(2, 4000), {.call_id = "c"});
  for (uint32_t i = 0; i < 1000; ++i) {
    f.send(ep(1, 5000), ep(2, 4000), kT0 + i * kMs,
           rtp(8, uint16_t(i * 7919), i, 0x9e3779b9u * (i + 1), "x"));
  }
  Report r;
  a.finish(r);
  EXPECT_EQ(r.rtp_streams.size(), 8u);  // the first eight SSRCs; the rest never agreed twice
  EXPECT_EQ(a.rtpPackets(), 8u);
}

TEST(RtpAnalysis, NonRtpBindingsAndVersionsAreRefused) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(1, 15580), t38 = ep(2, 16756);
  MediaBinding udptl;
  udptl.call_id = "fax";
  udptl.rtp = false;
  a.bindMedia(t38, udptl);
  EXPECT_FALSE(f.send(src, t38, kT0, rtp(8, 0x0728, 1, 0x0eaf0eaf, kVoice)));
  EXPECT_FALSE(f.send(t38, src, kT0, rtp(8, 1, 1, 0x0eaf0eaf, kVoice)));
  std::string v0 = rtp(8, 1, 1, 2, kVoice);
  v0[0] = 0x00;  // a UDPTL sequence number, not RTP version 2
  a.bindMedia(ep(3, 4000), {});
  EXPECT_FALSE(f.send(src, ep(3, 4000), kT0, v0));
  EXPECT_FALSE(f.send(src, ep(3, 4000), kT0, std::string("\x80\x08\x00", 3)));  // too short
  // Re-bound as audio: taken again.
  a.bindMedia(t38, {.call_id = "fax"});
  EXPECT_TRUE(f.send(src, t38, kT0 + kMs, rtp(8, 0x0729, 161, 0x0eaf0eaf, kVoice)));
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  EXPECT_EQ(r.rtp_streams[0].packets, 1u);
}

TEST(RtpAnalysis, StreamsAreKeyedBySsrcAndAddresses) {
  RtpAnalyzer a;
  Feed f(a);
  a.bindMedia(ep(2, 4000), {.call_id = "leg1"});
  a.bindMedia(ep(3, 4000), {.call_id = "leg2"});
  for (int i = 0; i < 3; ++i) {
    f.send(ep(1, 5000), ep(2, 4000), kT0 + i * 20 * kMs,
           rtp(8, uint16_t(i), uint32_t(160 * i), 0x58f33dea, kVoice));
    f.send(ep(2, 4000), ep(3, 4000), kT0 + i * 20 * kMs + kMs,
           rtp(8, uint16_t(i), uint32_t(160 * i), 0x58f33dea, kVoice));
  }
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 2u);
  EXPECT_EQ(r.rtp_streams[0].dst, ep(2, 4000));
  EXPECT_EQ(r.rtp_streams[0].call_id, "leg1");
  EXPECT_EQ(r.rtp_streams[1].dst, ep(3, 4000));
  EXPECT_EQ(r.rtp_streams[1].call_id, "leg2");  // the destination's binding comes first
  EXPECT_EQ(r.rtp_streams[1].packets, 3u);
}

TEST(RtpAnalysis, DynamicTypesTakeTheRtpmapClock) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
  a.bindMedia(dst, {.call_id = "v", .encodings = {{111, "opus"}}, .clock_rates = {{111, 48000}}});
  // 20 ms at 48 kHz is 960 ticks; packets 2 ms late then on time.
  f.send(src, dst, kT0, rtp(111, 1, 0, 3, "o"));
  f.send(src, dst, kT0 + 22 * kMs, rtp(111, 2, 960, 3, "o"));
  f.send(src, dst, kT0 + 40 * kMs, rtp(111, 3, 1920, 3, "o"));
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtp_streams.size(), 1u);
  EXPECT_EQ(r.rtp_streams[0].codec, "opus");
  EXPECT_NEAR(r.rtp_streams[0].max_jitter_ms, (15 * 2.0 / 16 + 2) / 16, 1e-9);
  EXPECT_FALSE(r.rtp_streams[0].mos.has_value());  // G.113 has no Bpl for Opus
}

std::string senderReport(uint32_t ssrc, uint32_t msw, uint32_t lsw) {
  std::string body = be32(ssrc) + be32(msw) + be32(lsw) + be32(0) + be32(10) + be32(1600);
  return std::string("\x80\xc8\x00\x06", 4) + body;
}
std::string receiverBlocks(uint8_t type, uint32_t ssrc, uint32_t about, uint32_t lsr,
                           uint32_t dlsr) {
  std::string body = be32(ssrc);
  if (type == 200) body += be32(151531) + be32(3053721537u) + be32(0) + be32(0) + be32(0);
  body += be32(about) + std::string("\x10\x00\x00\x03", 4) + be32(158) + be32(16) + be32(lsr) +
          be32(dlsr);
  const size_t words = body.size() / 4;
  return std::string{char(0x81), char(type), char(words >> 8), char(words)} + body;
}

TEST(RtpAnalysis, RtcpRoundTripFromLsrAndDlsrAsTsharkComputesIt) {
  RtpAnalyzer a;
  Feed f(a);
  const Endpoint caller = ep(196, 40376), callee = ep(204, 8000);
  a.bindMedia(caller, {.call_id = "12013223@200.57.7.195"});
  a.bindMedia(callee, {.call_id = "12013223@200.57.7.195"});
  Endpoint caller_rtcp = caller, callee_rtcp = callee;
  caller_rtcp.port++, callee_rtcp.port++;
  // heplify_rtp_rtcp_sip.pcap frames 1181 and 1567: SR at .524286, RR at .095060 with
  // DLSR 168427 (2569.99 ms): tshark reports 2 ms (3 s - 429 ms, less 2569 ms).
  const int64_t sr_time = 1105725496LL * 1'000'000'000 + 524'286'000;
  const int64_t rr_time = 1105725499LL * 1'000'000'000 + 95'060'000;
  EXPECT_TRUE(f.send(callee_rtcp, caller_rtcp, sr_time,
                     senderReport(0xd2bd4e3e, 3314714329u, 4118873637u)));
  const uint32_t lsr = (3314714329u << 16) | (4118873637u >> 16);
  EXPECT_TRUE(f.send(caller_rtcp, callee_rtcp, rr_time,
                     receiverBlocks(200, 0x58f33dea, 0xd2bd4e3e, lsr, 168427)));
  // The same report again the other way finds no SR sent that way: no round trip.
  EXPECT_TRUE(f.send(callee_rtcp, caller_rtcp, rr_time + kMs,
                     receiverBlocks(201, 0xd2bd4e3e, 0x58f33dea, lsr, 168427)));
  Report r;
  a.finish(r);
  ASSERT_EQ(r.rtcp.size(), 3u);
  EXPECT_EQ(r.rtcp[0].packet_type, 200);
  EXPECT_EQ(r.rtcp[0].sender_ssrc, 0xd2bd4e3eu);
  EXPECT_TRUE(r.rtcp[0].blocks.empty());
  EXPECT_FALSE(r.rtcp[0].round_trip_ms.has_value());
  EXPECT_EQ(r.rtcp[0].call_id, "12013223@200.57.7.195");
  ASSERT_EQ(r.rtcp[1].blocks.size(), 1u);
  EXPECT_EQ(r.rtcp[1].blocks[0].ssrc, 0xd2bd4e3eu);
  EXPECT_EQ(r.rtcp[1].blocks[0].fraction_lost, 16);
  EXPECT_EQ(r.rtcp[1].blocks[0].cumulative_lost, 3);
  EXPECT_EQ(r.rtcp[1].blocks[0].highest_seq, 158u);
  EXPECT_EQ(r.rtcp[1].blocks[0].jitter, 16u);
  EXPECT_EQ(r.rtcp[1].blocks[0].lsr, lsr);
  EXPECT_EQ(r.rtcp[1].blocks[0].dlsr, 168427u);
  ASSERT_TRUE(r.rtcp[1].round_trip_ms.has_value());
  EXPECT_EQ(*r.rtcp[1].round_trip_ms, 2.0);
  EXPECT_EQ(r.rtcp[2].packet_type, 201);
  EXPECT_FALSE(r.rtcp[2].round_trip_ms.has_value());
}

TEST(RtpAnalysis, RtcpByHeuristicNeedsAWellFormedCompoundToAnOddPort) {
  RtpAnalyzer a;
  Feed f(a);
  const std::string sr = senderReport(1, 2, 3);
  EXPECT_TRUE(f.send(ep(1, 40379), ep(2, 4801), kT0, sr));
  EXPECT_FALSE(f.send(ep(1, 40379), ep(2, 4801), kT0, sr + std::string(2, '\0')));  // 2 octets over
  EXPECT_FALSE(f.send(ep(1, 40379), ep(2, 4802), kT0, sr));                         // even port
  // Bound (RTP port below): the trailing octets are tolerated, as tshark dissects them.
  a.bindMedia(ep(2, 4800), {.call_id = "x"});
  EXPECT_TRUE(f.send(ep(1, 40379), ep(2, 4801), kT0, sr + std::string(2, '\0')));
  // RFC 5761 multiplexing on the RTP port itself.
  EXPECT_TRUE(f.send(ep(1, 40378), ep(2, 4800), kT0, sr));
  Report r;
  a.finish(r);
  EXPECT_EQ(r.rtcp.size(), 3u);
  EXPECT_EQ(a.rtcpPackets(), 3u);
  EXPECT_EQ(r.rtcp[2].call_id, "x");
}

TEST(RtpAnalysis, InbandDtmfInG711Audio) {
  constexpr double kPi = 3.14159265358979323846;
  for (bool enabled : {true, false}) {
    RtpAnalyzer a({.inband_dtmf = enabled});
    Feed f(a);
    const Endpoint src = ep(1, 5000), dst = ep(2, 4000);
    a.bindMedia(dst, {.call_id = "ivr"});
    // '7' (852 + 1209 Hz) at -10 dBm0 in packets 10 to 19 (200 ms).
    const double amp = 32767.0 * std::pow(10.0, (-10.0 - 3.14) / 20.0);
    for (int pkt = 0; pkt < 40; ++pkt) {
      std::string payload(160, '\0');
      for (int i = 0; i < 160; ++i) {
        const int n = pkt * 160 + i;
        double v = 0;
        if (pkt >= 10 && pkt < 20)
          v = amp * (std::sin(2 * kPi * 852 * n / 8000.0) + std::sin(2 * kPi * 1209 * n / 8000.0));
        payload[size_t(i)] = char(media::linearToUlaw(int16_t(std::lround(v))));
      }
      f.send(src, dst, kT0 + pkt * 20 * kMs + 300'000,
             rtp(0, uint16_t(pkt), uint32_t(pkt * 160), 42, payload));
    }
    Report r;
    a.finish(r);
    if (!enabled) {
      EXPECT_TRUE(r.dtmf.empty());
      continue;
    }
    ASSERT_EQ(r.dtmf.size(), 1u);
    EXPECT_EQ(r.dtmf[0].digit, '7');
    EXPECT_EQ(r.dtmf[0].source, "inband");
    EXPECT_EQ(r.dtmf[0].event_id, -1);
    EXPECT_EQ(r.dtmf[0].call_id, "ivr");
    EXPECT_EQ(r.dtmf[0].ssrc, 42u);
    EXPECT_EQ(r.dtmf[0].time_ns, kT0 + 10 * 20 * kMs + 300'000);  // the packet it starts in
    EXPECT_NEAR(r.dtmf[0].duration_ms, 200, 13);
  }
}

TEST(RtpAnalysis, MosFallsWithLoss) {
  auto mosOf = [](int drop_every) {
    RtpAnalyzer a;
    Feed f(a);
    a.bindMedia(ep(2, 4000), {});
    for (int i = 0; i < 500; ++i) {
      if (drop_every && i % drop_every == 0 && i > 0) continue;
      f.send(ep(1, 5000), ep(2, 4000), kT0 + i * 20 * kMs,
             rtp(8, uint16_t(i), uint32_t(i * 160), 1, kVoice));
    }
    Report r;
    a.finish(r);
    EXPECT_EQ(r.rtp_streams.size(), 1u);
    return r.rtp_streams.empty() ? std::optional<double>() : r.rtp_streams[0].mos;
  };
  const auto clean = mosOf(0), some = mosOf(50), more = mosOf(10);
  ASSERT_TRUE(clean && some && more);
  EXPECT_NEAR(*clean, 4.4, 0.02);  // 20 ms packets, no jitter: T = 20 ms
  EXPECT_LT(*some, *clean);
  EXPECT_LT(*more, *some);
}

}  // namespace
