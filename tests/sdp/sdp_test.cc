#include <gtest/gtest.h>

#include "sdp/offer_answer.h"
#include "sdp/sdp.h"

namespace {

constexpr std::string_view kSoftphoneOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.17\r\n"
    "s=call\r\n"
    "c=IN IP4 198.51.100.17\r\n"
    "b=AS:84\r\n"
    "t=0 0\r\n"
    "m=audio 8000 RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

sdp::SessionDescription mustParse(std::string_view s) {
  auto r = sdp::parse(s);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r.value_or(sdp::SessionDescription());
}

TEST(Sdp, ParsesASoftphoneOffer) {
  auto s = mustParse(kSoftphoneOffer);
  EXPECT_EQ(s.origin.username, "alice");
  EXPECT_EQ(s.origin.session_version, "2890844527");
  EXPECT_EQ(s.origin.address, "198.51.100.17");
  EXPECT_EQ(s.name, "call");
  ASSERT_TRUE(s.connection.has_value());
  EXPECT_EQ(s.connection->address, "198.51.100.17");
  ASSERT_EQ(s.bandwidths.size(), 1u);
  EXPECT_EQ(s.bandwidths[0].value, 84u);
  ASSERT_EQ(s.media.size(), 1u);
  const sdp::Media& m = s.media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 8000);
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_EQ(m.payloadTypes(), (std::vector<int>{0, 8, 18, 101}));
  auto te = m.rtpmap(101);
  ASSERT_TRUE(te.has_value());
  EXPECT_EQ(te->encoding, "telephone-event");
  EXPECT_EQ(te->clock_rate, 8000u);
  EXPECT_EQ(m.fmtp(101).value_or(""), "0-16");
  EXPECT_EQ(m.ptime().value_or(0), 20u);
  EXPECT_EQ(s.directionOf(m), sdp::Direction::kSendRecv);
}

TEST(Sdp, RoundTrip) {
  auto s = mustParse(kSoftphoneOffer);
  EXPECT_EQ(sdp::serialize(s), kSoftphoneOffer);
  auto again = mustParse(sdp::serialize(s));
  EXPECT_EQ(sdp::serialize(again), sdp::serialize(s));
}

TEST(Sdp, MediaLevelConnectionPortsAndLfLines) {
  auto s = mustParse(
      "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n"
      "m=audio 49170/2 RTP/AVP 0\nc=IN IP4 224.2.1.1/127/2\na=recvonly\n"
      "m=video 51372 RTP/AVP 99\na=rtpmap:99 h263-1998/90000\n");
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media[0].port_count, 2);
  EXPECT_EQ(s.connectionOf(s.media[0])->address, "224.2.1.1/127/2");
  EXPECT_EQ(s.connectionOf(s.media[1])->address, "2001:db8::1");
  EXPECT_EQ(s.directionOf(s.media[0]), sdp::Direction::kRecvOnly);
  EXPECT_EQ(s.media[1].rtpmap(99)->clock_rate, 90000u);
}

TEST(Sdp, TheBodyOfRfc4475Wsinv) {
  auto s = mustParse(
      "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
      "t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n");
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media[1].port, 3227);
  EXPECT_FALSE(s.media[1].rtpmap(31).has_value());  // "LPC" has no clock rate
}

TEST(Sdp, EveryRfc4566LineTypeRoundTrips) {
  constexpr std::string_view kFull =
      "v=0\r\n"
      "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
      "s=SDP Seminar\r\n"
      "i=A Seminar on the session description protocol\r\n"
      "u=http://www.example.com/seminars/sdp.pdf\r\n"
      "e=j.doe@example.com (Jane Doe)\r\n"
      "p=+1 617 555-6011\r\n"
      "c=IN IP4 224.2.17.12/127\r\n"
      "b=CT:1000\r\n"
      "t=2873397496 2873404696\r\n"
      "r=7d 1h 0 25h\r\n"
      "z=2882844526 -1h 2898848070 0\r\n"
      "k=prompt\r\n"
      "a=recvonly\r\n"
      "m=audio 49170 RTP/AVP 0\r\n"
      "i=voice\r\n"
      "b=AS:64\r\n"
      "k=clear:secret\r\n"
      "a=maxptime:40\r\n"
      "m=application 32416 udp wb\r\n"
      "a=orient:portrait\r\n";
  auto s = mustParse(kFull);
  EXPECT_EQ(s.info.value_or(""), "A Seminar on the session description protocol");
  EXPECT_EQ(s.uri.value_or(""), "http://www.example.com/seminars/sdp.pdf");
  ASSERT_EQ(s.emails.size(), 1u);
  ASSERT_EQ(s.phones.size(), 1u);
  EXPECT_EQ(s.bandwidths[0].type, "CT");
  ASSERT_EQ(s.timings.size(), 1u);
  EXPECT_EQ(s.timings[0].start, "2873397496");
  EXPECT_EQ(s.timings[0].repeats, (std::vector<std::string>{"7d 1h 0 25h"}));
  EXPECT_EQ(s.zone.value_or(""), "2882844526 -1h 2898848070 0");
  EXPECT_EQ(s.key.value_or(""), "prompt");
  EXPECT_EQ(s.direction(), sdp::Direction::kRecvOnly);
  ASSERT_EQ(s.media.size(), 2u);
  // The session's direction applies to a stream that states none.
  EXPECT_EQ(s.directionOf(s.media[0]), sdp::Direction::kRecvOnly);
  EXPECT_EQ(s.media[0].title.value_or(""), "voice");
  EXPECT_EQ(s.media[0].key.value_or(""), "clear:secret");
  EXPECT_EQ(s.media[0].maxptime().value_or(0), 40u);
  EXPECT_TRUE(s.media[0].isRtp());
  EXPECT_FALSE(s.media[1].isRtp());
  EXPECT_TRUE(s.media[1].payloadTypes().empty());
  EXPECT_EQ(s.media[1].attribute("orient").value_or(""), "portrait");
  EXPECT_EQ(sdp::serialize(s), kFull);
}

TEST(Sdp, Errors) {
  for (const char* bad : {
           "",
           "o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n",
           "v=1\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n",
           "v=0\r\ns=-\r\nt=0 0\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nbroken line\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 128\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nc=IN IP4\r\n",
           "v=0\r\no=- 1 1 IN\r\ns=-\r\nt=0 0\r\n",
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nx=unknown\r\n",
       }) {
    auto r = sdp::parse(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().status, 400);
  }
  EXPECT_FALSE(sdp::parse("v=0\r\n" + std::string(70000, 'a')).has_value());
}

sdp::LocalMedia local() {
  sdp::LocalMedia l;
  l.address = "192.0.2.10";
  l.audio_port = 40000;
  return l;
}

TEST(OfferAnswer, PcmuFirstWithTelephoneEvent) {
  auto ans = sdp::makeAnswer(mustParse(kSoftphoneOffer), local());
  ASSERT_TRUE(ans.has_value()) << ans.error().reason;
  EXPECT_EQ(ans->audio.encoding, "PCMU");
  EXPECT_EQ(ans->audio.payload_type, 0);
  EXPECT_EQ(ans->audio.telephone_event_pt, 101);
  EXPECT_EQ(ans->audio.remote_address, "198.51.100.17");
  EXPECT_EQ(ans->audio.remote_port, 8000);
  const sdp::Media& m = ans->sdp.media[0];
  EXPECT_EQ(m.port, 40000);
  EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8", "101"}));  // G.729 left out
  EXPECT_EQ(m.fmtp(101).value_or(""), "0-16");
  EXPECT_EQ(ans->sdp.connection->address, "192.0.2.10");
  // The answer itself parses back.
  auto again = mustParse(sdp::serialize(ans->sdp));
  EXPECT_EQ(again.media[0].payloadTypes(), (std::vector<int>{0, 8, 101}));
}

TEST(OfferAnswer, KeepsTheOfferersPreference) {
  auto ans = sdp::makeAnswer(
      mustParse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                "m=audio 5000 RTP/AVP 8 0\r\n"),
      local());
  ASSERT_TRUE(ans.has_value());
  EXPECT_EQ(ans->audio.encoding, "PCMA");
  EXPECT_EQ(ans->audio.telephone_event_pt, -1);
  EXPECT_EQ(ans->sdp.media[0].formats, (std::vector<std::string>{"8", "0"}));
}

TEST(OfferAnswer, G729OnlyIsRefusedWith488) {
  auto ans = sdp::makeAnswer(
      mustParse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                "m=audio 5000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"),
      local());
  ASSERT_FALSE(ans.has_value());
  EXPECT_EQ(ans.error().status, 488);
  EXPECT_NE(ans.error().reason.find("G729"), std::string::npos);
}

TEST(OfferAnswer, VideoRejectedDirectionMirroredDynamicEvents) {
  auto ans = sdp::makeAnswer(
      mustParse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
                "m=audio 5000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
                "a=fmtp:96 0-15\r\na=sendonly\r\n"),
      local());
  ASSERT_TRUE(ans.has_value()) << ans.error().reason;
  ASSERT_EQ(ans->sdp.media.size(), 2u);
  EXPECT_EQ(ans->sdp.media[0].port, 0);
  EXPECT_EQ(ans->sdp.media[0].media, "video");
  EXPECT_EQ(ans->sdp.media[1].port, 40000);
  EXPECT_EQ(ans->audio.stream_index, 1u);
  EXPECT_EQ(ans->audio.telephone_event_pt, 96);
  EXPECT_EQ(ans->sdp.media[1].fmtp(96).value_or(""), "0-15");
  EXPECT_EQ(ans->audio.direction, sdp::Direction::kRecvOnly);
  EXPECT_EQ(ans->sdp.media[1].direction(), sdp::Direction::kRecvOnly);
}

TEST(OfferAnswer, OurOfferAndItsAnswer) {
  auto offer = sdp::makeOffer(local());
  auto parsed = mustParse(sdp::serialize(offer));
  EXPECT_EQ(parsed.media[0].payloadTypes(), (std::vector<int>{0, 8, 101}));
  auto agreed = sdp::readAnswer(
      mustParse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
                "m=audio 7000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"));
  ASSERT_TRUE(agreed.has_value());
  EXPECT_EQ(agreed->encoding, "PCMA");
  EXPECT_EQ(agreed->telephone_event_pt, 101);
  EXPECT_EQ(agreed->remote_address, "203.0.113.5");
  EXPECT_EQ(agreed->remote_port, 7000);
  auto none = sdp::readAnswer(
      mustParse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().status, 488);
}

}  // namespace
