#include "capture/sip_calls.h"

#include <arpa/inet.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace capture {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

Endpoint ep(const char* ip, uint16_t port) {
  Endpoint e;
  inet_pton(AF_INET, ip, e.addr.data());
  e.port = port;
  return e;
}

const Endpoint kCaller = ep("192.0.2.1", 5060);
const Endpoint kCallee = ep("192.0.2.2", 5060);

std::string sdpBody(const char* ip, int port, const char* formats, const char* extra = "") {
  std::string body = "v=0\r\no=- 1 1 IN IP4 " + std::string(ip) + "\r\ns=-\r\nc=IN IP4 " + ip +
                     "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP " + formats +
                     "\r\n" + extra;
  return body;
}

std::string request(const std::string& method, int cseq, bool to_tag, const std::string& body = "",
                    const std::string& type = "application/sdp", const std::string& from_tag = "a1",
                    const std::string& cseq_method = "") {
  std::string m = method +
                  " sip:bob@example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK" +
                  std::to_string(cseq) + method +
                  "\r\nFrom: <sip:alice@example.com>;tag=" + from_tag +
                  "\r\nTo: <sip:bob@example.com>" + (to_tag ? ";tag=b1" : "") +
                  "\r\nCall-ID: call-1\r\nCSeq: " + std::to_string(cseq) + " " +
                  (cseq_method.empty() ? method : cseq_method) + "\r\nMax-Forwards: 70\r\n";
  if (!body.empty()) m += "Content-Type: " + type + "\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

std::string response(int status, const std::string& reason, int cseq, const std::string& method,
                     const std::string& body = "") {
  std::string m = "SIP/2.0 " + std::to_string(status) + " " + reason +
                  "\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK" + std::to_string(cseq) + method +
                  "\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1"
                  "\r\nCall-ID: call-1\r\nCSeq: " +
                  std::to_string(cseq) + " " + method + "\r\n";
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

struct Bound {
  Endpoint endpoint;
  MediaBinding binding;
};

class SipCallsTest : public ::testing::Test {
 protected:
  SipCallsTest()
      : tracker_([this](const Endpoint& e, const MediaBinding& b) {
          bound_.push_back({e, b});
        }) {}

  // Sends one UDP message; `forward` is caller -> callee.
  std::string send(const std::string& text, bool forward, double at_s,
                   Transport transport = Transport::kUdp) {
    Payload p;
    p.transport = transport;
    p.src = forward ? kCaller : kCallee;
    p.dst = forward ? kCallee : kCaller;
    p.frame = ++frame_;
    p.time_ns = int64_t(at_s * double(kSecond));
    p.bytes = text;
    return std::string(tracker_.onMessage(p));
  }

  Report finish(std::vector<RtpStreamReport> streams = {}, int64_t last_ns = 0) {
    Report r;
    r.rtp_streams = std::move(streams);
    r.last_ns = last_ns;
    tracker_.finish(r, 60 * kSecond);
    return r;
  }

  std::vector<Bound> bound_;
  SipCallTracker tracker_;
  uint64_t frame_ = 0;
};

TEST(SipLooksLike, RequestAndStatusLinesOnly) {
  EXPECT_TRUE(SipCallTracker::looksLikeSip("INVITE sip:a@b SIP/2.0\r\nVia: x\r\n"));
  EXPECT_TRUE(SipCallTracker::looksLikeSip("SIP/2.0 200 OK\r\nVia: x\r\n"));
  EXPECT_FALSE(SipCallTracker::looksLikeSip("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(SipCallTracker::looksLikeSip(std::string("\x80\x08\x00\x01rtp-payload-here", 20)));
  EXPECT_FALSE(SipCallTracker::looksLikeSip("SIP/2.0"));
}

TEST_F(SipCallsTest, AnsweredCallTimingsCodecsAndMedia) {
  EXPECT_EQ(
      send(request("INVITE", 1, false,
                   sdpBody("192.0.2.1", 4000, "8 0 101", "a=rtpmap:101 telephone-event/8000\r\n")),
           true, 0.0),
      "call-1");
  send(response(100, "Trying", 1, "INVITE"), false, 0.01);
  send(response(180, "Ringing", 1, "INVITE"), false, 0.25);
  send(response(200, "OK", 1, "INVITE", sdpBody("192.0.2.2", 5000, "8")), false, 2.0);
  send(request("ACK", 1, true), true, 2.01);
  send(request("BYE", 2, true, "", "", "b1"), false, 12.0);  // the callee hangs up
  send(response(200, "OK", 2, "BYE"), true, 12.01);

  ASSERT_EQ(bound_.size(), 2u);
  EXPECT_EQ(bound_[0].endpoint, ep("192.0.2.1", 4000));
  EXPECT_EQ(bound_[0].binding.call_id, "call-1");
  EXPECT_EQ(bound_[0].binding.encodings.at(8), "PCMA");
  EXPECT_EQ(bound_[0].binding.encodings.at(101), "telephone-event");
  EXPECT_EQ(bound_[0].binding.clock_rates.at(101), 8000u);
  EXPECT_EQ(bound_[1].endpoint, ep("192.0.2.2", 5000));

  RtpStreamReport out, back;
  out.src = back.dst = ep("192.0.2.1", 4000);
  out.dst = back.src = ep("192.0.2.2", 5000);
  out.call_id = back.call_id = "call-1";
  out.start_ns = back.start_ns = 2 * kSecond;
  out.end_ns = back.end_ns = 12 * kSecond;
  out.max_delta_ms = back.max_delta_ms = 20;
  Report r = finish({out, back}, 13 * kSecond);
  ASSERT_EQ(r.calls.size(), 1u);
  const CallReport& c = r.calls[0];
  EXPECT_EQ(c.method, "INVITE");
  EXPECT_EQ(c.from, "sip:alice@example.com");
  EXPECT_EQ(c.final_status, 200);
  EXPECT_EQ(c.final_reason, "OK");
  EXPECT_EQ(c.messages.size(), 7u);
  ASSERT_TRUE(c.post_dial_delay_ms && c.setup_ms && c.duration_ms);
  EXPECT_DOUBLE_EQ(*c.post_dial_delay_ms, 250.0);
  EXPECT_DOUBLE_EQ(*c.setup_ms, 2000.0);
  EXPECT_DOUBLE_EQ(*c.duration_ms, 10000.0);
  EXPECT_EQ(c.hangup_by, "callee");
  EXPECT_EQ(c.offered_codecs, (std::vector<std::string>{"PCMA", "PCMU", "telephone-event"}));
  EXPECT_EQ(c.codecs, (std::vector<std::string>{"PCMA"}));
  EXPECT_FALSE(c.ack_timeout);
  EXPECT_FALSE(c.media_timeout);
  EXPECT_FALSE(c.one_way_audio);
  EXPECT_EQ(c.retransmissions, 0);
}

TEST_F(SipCallsTest, ChallengeRetransmissionsAndAckTimeout) {
  send(request("INVITE", 1, false), true, 0.0);
  send(request("INVITE", 1, false), true, 0.5);  // retransmitted
  send(response(407, "Proxy Authentication Required", 1, "INVITE"), false, 0.6);
  send(request("ACK", 1, true), true, 0.61);
  send(request("INVITE", 2, false), true, 0.7);
  send(response(200, "OK", 2, "INVITE"), false, 1.0);
  send(response(200, "OK", 2, "INVITE"), false, 1.5);  // no ACK: the UAS retransmits
  send(response(200, "OK", 2, "INVITE"), false, 2.5);
  Report r = finish({}, 3 * kSecond);
  ASSERT_EQ(r.calls.size(), 1u);
  const CallReport& c = r.calls[0];
  EXPECT_EQ(c.final_status, 200);
  EXPECT_EQ(c.auth_challenges, 1);
  EXPECT_EQ(c.retransmissions, 3);
  EXPECT_TRUE(c.messages[1].retransmission);
  EXPECT_FALSE(c.messages[5].retransmission);
  EXPECT_TRUE(c.messages[6].retransmission);
  EXPECT_TRUE(c.ack_timeout);
  ASSERT_TRUE(c.setup_ms);
  EXPECT_DOUBLE_EQ(*c.setup_ms, 1000.0);  // from the first INVITE, challenge included
}

TEST_F(SipCallsTest, AckedAnswerIsNoTimeoutEvenWhenRetransmitted) {
  send(request("INVITE", 1, false), true, 0.0);
  send(response(200, "OK", 1, "INVITE"), false, 1.0);
  send(response(200, "OK", 1, "INVITE"), false, 1.5);
  send(request("ACK", 1, true), true, 1.6);
  Report r = finish();
  EXPECT_FALSE(r.calls[0].ack_timeout);
  EXPECT_EQ(r.calls[0].retransmissions, 1);
}

TEST_F(SipCallsTest, CancelIsNoRetransmissionAndEndsIn487) {
  send(request("INVITE", 1, false), true, 0.0);
  send(response(180, "Ringing", 1, "INVITE"), false, 0.1);
  send(request("CANCEL", 1, false), true, 3.0);
  send(request("CANCEL", 1, false), true, 3.5);  // tshark never counts CANCEL as resent
  send(response(200, "OK", 1, "CANCEL"), false, 3.6);
  send(response(487, "Request Terminated", 1, "INVITE"), false, 3.61);
  Report r = finish();
  const CallReport& c = r.calls[0];
  EXPECT_TRUE(c.cancelled);
  EXPECT_EQ(c.final_status, 487);
  EXPECT_EQ(c.retransmissions, 0);
  EXPECT_FALSE(c.setup_ms);
}

TEST_F(SipCallsTest, ReinviteRefusedWith488NamesTheCodec) {
  send(request("INVITE", 1, false, sdpBody("192.0.2.1", 4000, "8")), true, 0.0);
  send(response(200, "OK", 1, "INVITE", sdpBody("192.0.2.2", 5000, "8")), false, 1.0);
  send(request("ACK", 1, true), true, 1.01);
  std::string t38 =
      "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=image 4002 udptl t38\r\n";
  send(request("INVITE", 2, true, t38), true, 5.0);
  send(response(488, "Not Acceptable Here", 2, "INVITE"), false, 5.1);
  send(request("INVITE", 3, true, sdpBody("192.0.2.1", 4000, "0")), true, 6.0);
  send(response(200, "OK", 3, "INVITE", sdpBody("192.0.2.2", 5000, "0")), false, 6.1);
  Report r = finish();
  const CallReport& c = r.calls[0];
  EXPECT_EQ(c.final_status, 200);  // the re-INVITEs do not change the call's outcome
  EXPECT_EQ(c.reinvites, 2);
  ASSERT_TRUE(c.refused_codec);
  EXPECT_EQ(*c.refused_codec, "image/t38");
  ASSERT_EQ(c.codec_changes.size(), 1u);
  EXPECT_EQ(c.codec_changes[0].from, "PCMA");
  EXPECT_EQ(c.codec_changes[0].to, "PCMU");
}

TEST_F(SipCallsTest, InfoDtmfRelayAndPlainDtmf) {
  send(request("INVITE", 1, false), true, 0.0);
  send(response(200, "OK", 1, "INVITE"), false, 1.0);
  send(request("INFO", 2, true, "Signal=5\r\nDuration=160\r\n", "application/dtmf-relay"), true,
       2.0);
  send(request("INFO", 3, true, "#", "application/dtmf"), true, 3.0);
  send(request("INFO", 4, true, "nothing", "application/x-other"), true, 4.0);
  send(request("INFO", 5, true, "Signal=11\nDuration=100\n", "application/dtmf-relay"), true, 5.0);
  send(request("INFO", 6, true, "Signal=x\r\n", "application/dtmf-relay"), true, 6.0);
  Report r = finish();
  ASSERT_EQ(r.dtmf.size(), 3u);
  EXPECT_EQ(r.dtmf[2].digit, '#');  // event code 11, LF-only lines
  EXPECT_DOUBLE_EQ(r.dtmf[2].duration_ms, 100);
  EXPECT_EQ(r.dtmf[0].digit, '5');
  EXPECT_EQ(r.dtmf[0].source, "info");
  EXPECT_DOUBLE_EQ(r.dtmf[0].duration_ms, 160);
  EXPECT_EQ(r.dtmf[0].time_ns, 2 * kSecond);
  EXPECT_EQ(r.dtmf[0].call_id, "call-1");
  EXPECT_EQ(r.dtmf[1].digit, '#');
}

TEST_F(SipCallsTest, MediaTimeoutAndOneWayAudio) {
  send(request("INVITE", 1, false), true, 0.0);
  send(response(200, "OK", 1, "INVITE"), false, 1.0);
  send(request("BYE", 2, true), true, 100.0);
  RtpStreamReport only;
  only.src = ep("192.0.2.1", 4000);
  only.dst = ep("192.0.2.2", 5000);
  only.call_id = "call-1";
  only.start_ns = 1 * kSecond;
  only.end_ns = 30 * kSecond;  // silence for the last 70 s
  only.max_delta_ms = 20;
  Report r = finish({only}, 100 * kSecond);
  EXPECT_TRUE(r.calls[0].media_timeout);
  EXPECT_TRUE(r.calls[0].one_way_audio);
  EXPECT_EQ(r.calls[0].hangup_by, "caller");
}

TEST_F(SipCallsTest, TcpStreamFramesMessagesAcrossSegments) {
  std::string invite = request("INVITE", 1, false);
  std::string trying = response(100, "Trying", 1, "INVITE");
  Payload p;
  p.transport = Transport::kTcp;
  p.src = kCaller;
  p.dst = kCallee;
  std::string first = invite.substr(0, 40);
  std::string rest = invite.substr(40);
  p.frame = 1;
  p.bytes = first;
  EXPECT_EQ(tracker_.onStream(p), "");  // incomplete
  p.frame = 2;
  p.bytes = rest;
  EXPECT_EQ(tracker_.onStream(p), "call-1");
  std::string two = trying + response(180, "Ringing", 1, "INVITE");
  p.src = kCallee;
  p.dst = kCaller;
  p.frame = 3;
  p.bytes = two;
  EXPECT_EQ(tracker_.onStream(p), "call-1");
  Report r = finish();
  ASSERT_EQ(r.calls.size(), 1u);
  ASSERT_EQ(r.calls[0].messages.size(), 3u);
  EXPECT_EQ(r.calls[0].messages[0].frame, 2u);  // the segment that completed the INVITE
  EXPECT_EQ(r.calls[0].messages[2].frame, 3u);
  EXPECT_EQ(r.calls[0].messages[0].transport, Transport::kTcp);
}

TEST_F(SipCallsTest, GarbageIsCountedNotACall) {
  send("INVITE sip:x SIP/2.0\r\nthis is not a header\r\n\r\n", true, 0.0);
  Payload p;
  p.transport = Transport::kTcp;
  p.src = kCaller;
  p.dst = kCallee;
  p.bytes = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(tracker_.onStream(p), "");
  Report r = finish();
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.sip_parse_errors, 1u);
}

}  // namespace
}  // namespace capture

namespace capture {
namespace {

TEST_F(SipCallsTest, CodecChangeInsideAStreamWithoutAnOffer) {
  send(request("INVITE", 1, false,
               sdpBody("192.0.2.1", 4000, "0 8 101", "a=rtpmap:101 telephone-event/8000\r\n")),
       true, 0.0);
  send(response(200, "OK", 1, "INVITE", sdpBody("192.0.2.2", 5000, "0 101")), false, 1.0);
  RtpStreamReport events_only, switched;
  events_only.call_id = switched.call_id = "call-1";
  events_only.payload_types = {0, 101, 13};  // events and comfort noise are not codecs
  switched.payload_types = {0, 8};
  switched.start_ns = 2 * kSecond;
  Report r = finish({events_only}, 3 * kSecond);
  EXPECT_TRUE(r.calls[0].codec_changes.empty())
      << r.calls[0].codec_changes[0].from << " -> " << r.calls[0].codec_changes[0].to;
}

TEST_F(SipCallsTest, CodecChangeSeenInRtpIsReported) {
  send(request("INVITE", 1, false, sdpBody("192.0.2.1", 4000, "0 8")), true, 0.0);
  send(response(200, "OK", 1, "INVITE", sdpBody("192.0.2.2", 5000, "0")), false, 1.0);
  RtpStreamReport switched;
  switched.call_id = "call-1";
  switched.payload_types = {0, 8};
  switched.start_ns = 2 * kSecond;
  Report r = finish({switched}, 3 * kSecond);
  ASSERT_EQ(r.calls[0].codec_changes.size(), 1u);
  EXPECT_EQ(r.calls[0].codec_changes[0].from, "PCMU");
  EXPECT_EQ(r.calls[0].codec_changes[0].to, "PCMA");
  EXPECT_EQ(r.calls[0].codec_changes[0].reason, "rtp payload without a new offer");
}

}  // namespace
}  // namespace capture
