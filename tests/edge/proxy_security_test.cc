// What the proxy relays for whom (RFC 3261 §16.4, §16.7, §16.11, §16.12): in-dialog requests
// only through a Record-Route of ours for their own dialog, responses matching no transaction
// only with a branch of ours, every 2xx to an INVITE, in-dialog transports chosen by RFC 3263,
// and the answers the edge writes itself (OPTIONS to the domain, RFC 3581 Via stamping, Date in
// the registrar's 200).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edge/route_tokens.h"
#include "sip/response.h"
#include "worker_fixture.h"

namespace {

constexpr std::string_view kAlice = "10.0.0.5:5060";       // caller (UDP)
constexpr std::string_view kBob = "10.0.0.9:5062";         // callee's contact
constexpr std::string_view kVictim = "198.51.100.7:5060";  // a host nobody may relay to

class ProxySecurityTest : public edge::testing::WorkerFixture {
 protected:
  void SetUp() override {
    WorkerFixture::SetUp();
    shared_->mutableOptions().self.domains = {"example.com"};
  }

  sip::Message parse(const std::string& text) {
    auto m = sip::Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason) << "\n" << text;
    return std::move(*m);
  }
  void receive(const std::string& text, std::string_view remote,
               transport::Protocol p = transport::Protocol::kUdp) {
    transport::Flow f = from(std::string(remote));
    f.protocol = p;
    if (p == transport::Protocol::kTcp) f.connection_id = 11;
    layer_->receive(parse(text), f);
  }
  // What went to `remote`, parsed (requests of `method`, or responses when it is empty).
  std::vector<sip::Message> sentTo(std::string_view remote, std::string_view method = {}) {
    std::vector<sip::Message> out;
    for (const edge::testing::Wire& s : sender_.sent) {
      if (s.flow.remote.toString() != remote) continue;
      auto m = sip::Message::parse(s.bytes);
      if (!m) continue;
      if (method.empty() ? m->isResponse() : (m->isRequest() && m->methodText() == method))
        out.push_back(std::move(*m));
    }
    return out;
  }
  std::vector<int> statusesTo(std::string_view remote) {
    std::vector<int> out;
    for (const sip::Message& m : sentTo(remote)) out.push_back(m.statusCode());
    return out;
  }
  size_t sentToCount(std::string_view remote) {
    size_t n = 0;
    for (const edge::testing::Wire& s : sender_.sent) n += s.flow.remote.toString() == remote;
    return n;
  }

  static std::string request(std::string_view method, std::string_view ruri, std::string_view extra,
                             std::string_view to_tag = {},
                             std::string_view via = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKc1",
                             std::string_view cseq = "1") {
    std::string t = std::string(method) + " " + std::string(ruri) + " SIP/2.0\r\n";
    t += "Via: " + std::string(via) + "\r\n";
    t += "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>";
    if (!to_tag.empty()) t += ";tag=" + std::string(to_tag);
    t += "\r\nCall-ID: call-1@10.0.0.5\r\nCSeq: " + std::string(cseq) + " " + std::string(method) +
         "\r\nMax-Forwards: 70\r\n";
    t += std::string(extra) + "Content-Length: 0\r\n\r\n";
    return t;
  }

  // bob registered at kBob (UDP), then alice's INVITE forwarded to him: returns that INVITE.
  sip::Message callBob(transport::Protocol caller_protocol = transport::Protocol::kUdp) {
    registerFrom(std::string(kBob), "sip:bob@" + std::string(kBob), "bob");
    std::string via = caller_protocol == transport::Protocol::kTcp
                          ? "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKc1"
                          : "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKc1";
    receive(
        request("INVITE", "sip:bob@example.com", "Contact: <sip:alice@10.0.0.5:5060>\r\n", {}, via),
        kAlice, caller_protocol);
    auto invites = sentTo(kBob, "INVITE");
    EXPECT_EQ(invites.size(), 1u);
    return std::move(invites.at(0));
  }
  // bob's answer to the INVITE he received (a 200 with his tag and Contact, Record-Route kept).
  void bobAnswers(const sip::Message& invite, int status) {
    const std::string contact = "<sip:bob@" + std::string(kBob) + ">";
    sip::ResponseBuilder b(invite, status);
    b.toTag("b1").copyRecordRoute();
    if (status < 300) b.header("Contact", contact);
    receive(b.build(), kBob);
  }
  // The Route set alice uses after the 200: the Record-Route she received, in order.
  std::string aliceRouteSet() {
    auto oks = sentTo(kAlice);
    for (const sip::Message& m : oks) {
      if (m.statusCode() != 200) continue;
      std::string routes;
      for (const auto& rr : *m.recordRoutes()) {
        if (!routes.empty()) routes += ", ";
        routes += "<" + std::string(rr.uri.text()) + ">";
      }
      return routes;
    }
    return {};
  }
};

TEST_F(ProxySecurityTest, AToTagDoesNotOpenARelay) {
  // §16.4/§16.12: an in-dialog request that does not come through our Record-Route is no
  // dialog of ours: never forwarded to the address it names.
  for (std::string_view method : {"INVITE", "BYE", "MESSAGE"}) {
    receive(request(method, "sip:anyone@" + std::string(kVictim), "", "x"), "203.0.113.50:5060");
  }
  EXPECT_EQ(sentToCount(kVictim), 0u);
  // Refused at once: no 100 Trying first, so the answer is never retransmitted by timer G.
  EXPECT_EQ(statusesTo("203.0.113.50:5060"), (std::vector<int>{403, 403, 403}));
  EXPECT_EQ(shared_->counters().relay_denied.load(), 3u);
}

TEST_F(ProxySecurityTest, ARouteNamingUsWithoutOurTokenIsRefused) {
  const std::string us = "Route: <sip:192.0.2.1:5060;lr>\r\n";
  const std::string forged = "Route: <sip:192.0.2.1:5060;lr;sbd=0123456789abcdef>\r\n";
  receive(request("BYE", "sip:anyone@" + std::string(kVictim), us, "x"), "203.0.113.50:5060");
  receive(request("BYE", "sip:anyone@" + std::string(kVictim), forged, "x",
                  "SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKc2"),
          "203.0.113.50:5060");
  // A preloaded route through us to somewhere else, without a To tag.
  receive(request("INVITE", "sip:anyone@example.com",
                  us + "Route: <sip:" + std::string(kVictim) + ";lr>\r\n", {},
                  "SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKc3"),
          "203.0.113.50:5060");
  receive(request("OPTIONS", "sip:anyone@example.com",
                  "Route: <sip:" + std::string(kVictim) + ";lr>\r\n", {},
                  "SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKc4"),
          "203.0.113.50:5060");
  EXPECT_EQ(sentToCount(kVictim), 0u);
  EXPECT_EQ(statusesTo("203.0.113.50:5060"), (std::vector<int>{403, 403, 403, 403}));
}

TEST_F(ProxySecurityTest, InDialogRequestsThroughOurRecordRouteAreRelayed) {
  sip::Message invite = callBob();
  ASSERT_EQ(invite.headerCount(sip::HeaderId::kRecordRoute), 1u);
  const auto& rr = (*invite.recordRoutes())[0].uri;
  ASSERT_TRUE(rr.params().find(edge::RouteTokens::kParam).has_value()) << invite.raw();
  bobAnswers(invite, 200);
  ASSERT_EQ(statusesTo(kAlice), (std::vector<int>{100, 200}));
  const std::string routes = aliceRouteSet();
  ASSERT_FALSE(routes.empty());
  // alice's ACK and BYE, then bob's BYE the other way.
  receive(request("ACK", "sip:bob@" + std::string(kBob), "Route: " + routes + "\r\n", "b1",
                  "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKack"),
          kAlice);
  receive(request("BYE", "sip:bob@" + std::string(kBob), "Route: " + routes + "\r\n", "b1",
                  "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKbye", "2"),
          kAlice);
  EXPECT_EQ(sentTo(kBob, "ACK").size(), 1u);
  EXPECT_EQ(sentTo(kBob, "BYE").size(), 1u);
  std::string bob_bye =
      "BYE sip:alice@10.0.0.5:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKbb\r\n"
      "Route: " +
      routes +
      "\r\n"
      "From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>;tag=a1\r\n"
      "Call-ID: call-1@10.0.0.5\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  receive(bob_bye, kBob);
  EXPECT_EQ(sentTo(kAlice, "BYE").size(), 1u);
  // The same Route in another dialog (another Call-ID) is refused.
  std::string other = bob_bye;
  other.replace(other.find("call-1@"), 7, "call-2@");
  other.replace(other.find("z9hG4bKbb"), 9, "z9hG4bKb2");
  receive(other, kBob);
  EXPECT_EQ(sentTo(kAlice, "BYE").size(), 1u);
  EXPECT_EQ(statusesTo(kBob).back(), 403);
  // An ACK through a forged Route goes nowhere either.
  std::string forged_ack = request("ACK", "sip:x@" + std::string(kVictim),
                                   "Route: <sip:192.0.2.1:5060;lr;sbd=0000000000000000>\r\n", "b9",
                                   "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKack2");
  receive(forged_ack, "203.0.113.50:5060");
  EXPECT_EQ(sentToCount(kVictim), 0u);
}

TEST_F(ProxySecurityTest, StrayResponsesAreRelayedOnlyWithOurBranch) {
  // Anyone can read our branch prefix off a forwarded request: a response claiming it with a
  // foreign sent-by, or with our sent-by and a made-up MAC, is dropped. Over TCP nothing is
  // connected either (the Sender would be asked to).
  auto stray = [&](std::string_view top, std::string_view second) {
    std::string r = "SIP/2.0 200 OK\r\nVia: " + std::string(top) +
                    "\r\nVia: " + std::string(second) +
                    "\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: s1\r\n"
                    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    receive(r, "203.0.113.50:5060");
  };
  const std::string victim_udp = "SIP/2.0/UDP " + std::string(kVictim);
  const std::string victim_tcp = "SIP/2.0/TCP " + std::string(kVictim);
  stray("SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKsb0123456789abcdef.000000000001", victim_udp);
  stray("SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKsb0123456789abcdef.000000000001", victim_tcp);
  stray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsb0123456789abcdef.000000000001.00112233aabbccdd",
        victim_tcp);
  EXPECT_EQ(sentToCount(kVictim), 0u);
  EXPECT_EQ(shared_->counters().stray_dropped.load(), 3u);
  // A branch of ours on a Via of ours is relayed (a stateless route's responses need it).
  edge::RouteTokens tokens(kSecret);
  std::string ours = "SIP/2.0/UDP 192.0.2.1:5060;branch=" + tokens.branch("0123456789abcdef", 1);
  stray(ours, victim_udp);
  EXPECT_EQ(sentToCount(kVictim), 1u);
}

TEST_F(ProxySecurityTest, EveryRetransmitted2xxReachesTheCaller) {
  // §16.7 step 5: every 2xx to an INVITE is forwarded, also once every branch has finished.
  sip::Message invite = callBob();
  bobAnswers(invite, 200);
  EXPECT_EQ(worker_->activeProxies(), 0u);  // the fork is over
  bobAnswers(invite, 200);                  // bob did not see an ACK yet: he retransmits
  bobAnswers(invite, 200);
  EXPECT_EQ(statusesTo(kAlice), (std::vector<int>{100, 200, 200, 200}));
  // Non-2xx finals are never relayed twice (the client transaction absorbs them).
}

TEST_F(ProxySecurityTest, InDialogTransportFollowsRfc3263NotTheIncomingLeg) {
  // alice calls over TCP, bob is on UDP: her BYE must reach him over UDP, not a TCP
  // connection to his UDP port.
  sip::Message invite = callBob(transport::Protocol::kTcp);
  // Double Record-Route: one entry for each side, each with its transport.
  const auto& rrs = *invite.recordRoutes();
  ASSERT_EQ(rrs.size(), 2u) << invite.raw();
  EXPECT_FALSE(rrs[0].uri.transport().has_value()) << invite.raw();  // bob's side: UDP
  EXPECT_EQ(rrs[1].uri.transport().value_or(""), "tcp") << invite.raw();
  bobAnswers(invite, 200);
  const std::string routes = aliceRouteSet();
  receive(request("BYE", "sip:bob@" + std::string(kBob), "Route: " + routes + "\r\n", "b1",
                  "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKbye", "2"),
          kAlice, transport::Protocol::kTcp);
  bool found = false;
  for (const edge::testing::Wire& w : sender_.sent) {
    if (w.flow.remote.toString() != kBob || w.bytes.rfind("BYE ", 0) != 0) continue;
    found = true;
    EXPECT_EQ(w.flow.protocol, transport::Protocol::kUdp);
  }
  EXPECT_TRUE(found);
}

TEST_F(ProxySecurityTest, OptionsToTheServedDomainIsForTheProxy) {
  receive(request("OPTIONS", "sip:example.com", ""), kAlice);
  auto answers = sentTo(kAlice);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].statusCode(), 200);
  EXPECT_NE(answers[0].findHeader(sip::HeaderId::kAllow), nullptr);
  EXPECT_NE(answers[0].findHeader(sip::HeaderId::kSupported), nullptr);
  EXPECT_FALSE(answers[0].headerValue(sip::HeaderId::kAccept).empty());
  // A domain we do not serve is not us.
  receive(
      request("OPTIONS", "sip:example.org", "", {}, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKo2"),
      kAlice);
  EXPECT_EQ(sentTo(kAlice).back().statusCode(), 403);
}

TEST_F(ProxySecurityTest, OwnResponsesStampReceivedWithRport) {
  // RFC 3581 §4: received= whenever rport is filled in, even from the sent-by address.
  receive(request("INVITE", "sip:nobody@example.com", "", {},
                  "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr1;rport"),
          kAlice);
  // And a REGISTER, answered after its binding is stored (and a 100 Trying is sent for an
  // INVITE whose answer takes a while: the layer stamps every response the same way).
  registerFrom(std::string(kAlice), "sip:carol@10.0.0.5", "carol");
  auto answers = sentTo(kAlice);
  ASSERT_EQ(answers.size(), 2u);  // 480, 200
  EXPECT_EQ(answers[0].statusCode(), 480);
  EXPECT_EQ(answers[1].statusCode(), 200);
  for (const sip::Message& m : answers) {
    const sip::Via& v = m.vias()->front();
    EXPECT_EQ(v.rport().value_or(0), 5060) << m.raw();
    EXPECT_EQ(v.received().value_or(""), "10.0.0.5") << m.raw();
  }
}

TEST_F(ProxySecurityTest, RegistrarOkCarriesDate) {
  std::string ok = registerFrom(std::string(kBob), "sip:alice@" + std::string(kBob));
  auto m = parse(ok);
  ASSERT_EQ(m.statusCode(), 200);
  ASSERT_NE(m.findHeader(sip::HeaderId::kDate), nullptr) << ok;
  EXPECT_TRUE(sip::checkSipDate(m.headerValue(sip::HeaderId::kDate)).has_value());
}

}  // namespace
