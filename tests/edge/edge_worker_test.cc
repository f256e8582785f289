// The edge's transaction user driven through a real TransactionLayer with a fake network
// and manual timers: REGISTER end to end (store write included), NAT keep-alives, and calls
// routed to a trunk (failover, gateway timeout, OPTIONS probes).
#include "edge/edge.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "sip/response.h"
#include "sip/validate.h"
#include "worker_fixture.h"

namespace {

class EdgeWorkerTest : public edge::testing::WorkerFixture {};

TEST_F(EdgeWorkerTest, RegisterIsStoredBeforeThe200AndPingsGoThroughTheNatFlow) {
  std::string ok = registerFrom("203.0.113.9:40000", "sip:alice@10.0.0.5:5060");
  EXPECT_NE(ok.find("Contact: <sip:alice@10.0.0.5:5060>;expires=3600"), std::string::npos) << ok;
  // The 200 went back to the source of the REGISTER (rport).
  EXPECT_EQ(sender_.sent.back().flow.remote.toString(), "203.0.113.9:40000");
  // Committed before the answer.
  EXPECT_EQ(*db_->registrations().count(), 1);
  auto bindings = shared_->location().lookup("sip:alice@example.com", 0);
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_TRUE(edge::EdgeWorker::behindNat(bindings[0]));

  size_t before = sender_.sent.size();
  EXPECT_EQ(worker_->pingNatBindings(), 1u);
  ASSERT_EQ(sender_.sent.size(), before + 1);
  const edge::testing::Wire& ping = sender_.sent.back();
  EXPECT_EQ(ping.flow.remote.toString(), "203.0.113.9:40000");
  auto m = sip::Message::parse(ping.bytes);
  ASSERT_TRUE(m.has_value()) << ping.bytes;
  EXPECT_EQ(m->methodText(), "OPTIONS");
  EXPECT_EQ(m->requestUriText(), "sip:alice@10.0.0.5:5060");
  EXPECT_EQ(m->vias()->front().host, "192.0.2.1");
}

TEST_F(EdgeWorkerTest, WithoutPersistenceBindingsLiveInMemoryOnly) {
  shared_->mutableOptions().persist_registrations = false;
  std::string ok = registerFrom("198.51.100.4:5060", "sip:alice@198.51.100.4:5060");
  EXPECT_EQ(ok.rfind("SIP/2.0 200", 0), 0u) << ok;
  EXPECT_EQ(*db_->registrations().count(), 0);
  EXPECT_EQ(shared_->location().lookup("sip:alice@example.com", 0).size(), 1u);
}

TEST_F(EdgeWorkerTest, NoPingForABindingReachableAsWritten) {
  registerFrom("198.51.100.4:5060", "sip:alice@198.51.100.4:5060");
  size_t before = sender_.sent.size();
  EXPECT_EQ(worker_->pingNatBindings(), 0u);
  EXPECT_EQ(sender_.sent.size(), before);
}

// A trunk of two gateways, the first the dispatcher's choice (weighted 100:1), and a route
// for +49; the trunk is probed (so a failed gateway is taken out) or not.
class TrunkTest : public EdgeWorkerTest {
 protected:
  void useTrunk(int probe_seconds) {
    edge::TrunkSpec t;
    t.name = "carrier";
    t.algorithm = "weighted";
    t.gateways = {{"udp:192.0.2.10:5060", 100}, {"udp:192.0.2.11:5060", 1}};
    t.probe_interval = std::chrono::seconds(probe_seconds);
    auto r = edge::Routing::create({t}, {{"+49", "carrier"}});
    ASSERT_TRUE(r) << r.error().reason;
    shared_->setRouting(std::move(*r));
  }
  edge::Trunk& trunk() { return *shared_->routing()->trunks()[0]; }

  void invite(const std::string& number) {
    std::string text = "INVITE sip:" + number +
                       "@example.com SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKcall1\r\n"
                       "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:" +
                       number +
                       "@example.com>\r\n"
                       "Call-ID: call-1@10.0.0.5\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                       "Contact: <sip:alice@10.0.0.5>\r\nContent-Length: 0\r\n\r\n";
    auto m = sip::Message::parse(text);
    ASSERT_TRUE(m.has_value());
    layer_->receive(std::move(*m), from("10.0.0.5:5060"));
  }
  // The requests of `method` sent to `remote`, in order.
  std::vector<sip::Message> sentTo(const std::string& remote, std::string_view method) {
    std::vector<sip::Message> out;
    for (const edge::testing::Wire& s : sender_.sent) {
      if (s.flow.remote.toString() != remote) continue;
      auto m = sip::Message::parse(s.bytes);
      if (m && m->isRequest() && m->methodText() == method) out.push_back(std::move(*m));
    }
    return out;
  }
  // Statuses of the responses that went back to the caller.
  std::vector<int> upstream() {
    std::vector<int> out;
    for (const edge::testing::Wire& s : sender_.sent) {
      if (s.flow.remote.toString() != "10.0.0.5:5060") continue;
      auto m = sip::Message::parse(s.bytes);
      if (m && !m->isRequest()) out.push_back(m->statusCode());
    }
    return out;
  }
  void answer(const sip::Message& request, const std::string& gw, int status) {
    sip::ResponseBuilder b(request, status);
    b.toTag("gw");
    auto m = sip::Message::parse(b.build());
    ASSERT_TRUE(m.has_value());
    layer_->receive(std::move(*m), from(gw));
  }
};

TEST_F(TrunkTest, A503FailsOverAndTheSecondGatewayCarriesTheCall) {
  useTrunk(30);
  invite("+4930123");
  auto first = sentTo("192.0.2.10:5060", "INVITE");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].requestUriText(), "sip:+4930123@192.0.2.10:5060");
  EXPECT_TRUE(sentTo("192.0.2.11:5060", "INVITE").empty());
  answer(first[0], "192.0.2.10:5060", 503);
  auto second = sentTo("192.0.2.11:5060", "INVITE");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].requestUriText(), "sip:+4930123@192.0.2.11:5060");
  answer(second[0], "192.0.2.11:5060", 200);
  EXPECT_EQ(upstream().back(), 200);
  EXPECT_EQ(shared_->counters().trunk_failovers.load(), 1u);
  EXPECT_EQ(shared_->counters().trunk_calls.load(), 1u);
  // The 503 took the (probed) gateway out until a probe says otherwise.
  EXPECT_FALSE(trunk().gateways[0]->up);
  EXPECT_TRUE(trunk().gateways[1]->up);
  EXPECT_EQ(trunk().gateways[0]->failures.load(), 1u);
}

TEST_F(TrunkTest, A486IsTheCalleesAnswerAndIsNeverFailedOver) {
  useTrunk(30);
  invite("+4930123");
  auto first = sentTo("192.0.2.10:5060", "INVITE");
  ASSERT_EQ(first.size(), 1u);
  answer(first[0], "192.0.2.10:5060", 486);
  EXPECT_TRUE(sentTo("192.0.2.11:5060", "INVITE").empty());
  EXPECT_EQ(upstream().back(), 486);
  EXPECT_EQ(shared_->counters().trunk_failovers.load(), 0u);
  EXPECT_TRUE(trunk().gateways[0]->up);
  EXPECT_EQ(worker_->activeProxies(), 0u);
}

// What a gateway's final answer does to the call and to the gateway (README "Trunks"): the
// dispatcher fails over on 408 and 503 (and a transport error or a silent gateway, tested
// above) and takes a probed gateway out; any other answer is the callee's or the network's
// verdict on this call — a 486 busy, a 500, a 6xx declined everywhere — relayed to the
// caller with the gateway left up and no other gateway tried.
struct GatewayAnswer {
  int status;
  bool fails_over;
};
void PrintTo(const GatewayAnswer& a, std::ostream* os) {
  *os << a.status << (a.fails_over ? " (fails over)" : " (no failover)");
}

class TrunkAnswerTest : public TrunkTest, public ::testing::WithParamInterface<GatewayAnswer> {};

TEST_P(TrunkAnswerTest, FailsOverOnlyWhereTheDispatcherSays) {
  const GatewayAnswer& a = GetParam();
  useTrunk(30);  // probed: a failed-over gateway is taken out
  invite("+4930123");
  auto first = sentTo("192.0.2.10:5060", "INVITE");
  ASSERT_EQ(first.size(), 1u);
  answer(first[0], "192.0.2.10:5060", a.status);
  auto second = sentTo("192.0.2.11:5060", "INVITE");
  if (a.fails_over) {
    ASSERT_EQ(second.size(), 1u) << a.status << " did not fail over";
    EXPECT_EQ(second[0].requestUriText(), "sip:+4930123@192.0.2.11:5060");
    EXPECT_EQ(shared_->counters().trunk_failovers.load(), 1u);
    EXPECT_FALSE(trunk().gateways[0]->up) << a.status << " left the gateway up";
    EXPECT_EQ(trunk().gateways[0]->failures.load(), 1u);
    answer(second[0], "192.0.2.11:5060", 200);
    ASSERT_FALSE(upstream().empty());
    EXPECT_EQ(upstream().back(), 200);
  } else {
    EXPECT_TRUE(second.empty()) << a.status << " failed over";
    EXPECT_EQ(shared_->counters().trunk_failovers.load(), 0u);
    EXPECT_TRUE(trunk().gateways[0]->up) << a.status << " marked a healthy gateway down";
    EXPECT_EQ(trunk().gateways[0]->failures.load(), 0u);
    ASSERT_FALSE(upstream().empty());
    EXPECT_EQ(upstream().back(), a.status);  // relayed as the gateway said it
  }
  EXPECT_TRUE(trunk().gateways[1]->up);
  EXPECT_EQ(worker_->activeProxies(), 0u);
  EXPECT_EQ(shared_->counters().trunk_calls.load(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Statuses, TrunkAnswerTest,
                         ::testing::Values(GatewayAnswer{486, false}, GatewayAnswer{600, false},
                                           GatewayAnswer{603, false}, GatewayAnswer{500, false},
                                           GatewayAnswer{408, true}, GatewayAnswer{503, true}),
                         [](const auto& p) { return std::to_string(p.param.status); });

// Max-Forwards is checked only when present (RFC 2543 clients do not send it, see
// sip/validate.h); a request without it is forwarded with 70 (§16.6 step 3), one with it
// one less.
TEST_F(TrunkTest, AnInviteWithoutMaxForwardsIsForwardedWith70) {
  useTrunk(0);
  std::string text =
      "INVITE sip:+4930123@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKmf1\r\n"
      "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:+4930123@example.com>\r\n"
      "Call-ID: mf-1@10.0.0.5\r\nCSeq: 1 INVITE\r\n"
      "Contact: <sip:alice@10.0.0.5>\r\nContent-Length: 0\r\n\r\n";
  auto m = sip::Message::parse(text);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(sip::validate(*m).has_value());
  layer_->receive(std::move(*m), from("10.0.0.5:5060"));
  auto out = sentTo("192.0.2.10:5060", "INVITE");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].headerCount(sip::HeaderId::kMaxForwards), 1u);
  EXPECT_EQ(out[0].maxForwards().value_or(0), 70u);

  text.replace(text.find("branch=z9hG4bKmf1"), 17, "branch=z9hG4bKmf2");
  text.replace(text.find("Call-ID: mf-1"), 13, "Call-ID: mf-2");
  text.insert(text.find("Contact:"), "Max-Forwards: 10\r\n");
  auto ten = sip::Message::parse(text);
  ASSERT_TRUE(ten.has_value());
  layer_->receive(std::move(*ten), from("10.0.0.5:5060"));
  out = sentTo("192.0.2.10:5060", "INVITE");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].maxForwards().value_or(0), 9u);
}

TEST_F(TrunkTest, ASilentGatewayIsFailedOverAfterTheGatewayTimeout) {
  useTrunk(0);  // unprobed: the failure is counted but the gateway stays in
  invite("+4930123");
  ASSERT_EQ(sentTo("192.0.2.10:5060", "INVITE").size(), 1u);
  timers_.advance(shared_->options().gateway_timeout - std::chrono::milliseconds(1));
  EXPECT_TRUE(sentTo("192.0.2.11:5060", "INVITE").empty());
  timers_.advance(std::chrono::milliseconds(1));
  auto second = sentTo("192.0.2.11:5060", "INVITE");
  ASSERT_EQ(second.size(), 1u);
  answer(second[0], "192.0.2.11:5060", 180);
  // Ringing: now only timer C limits the branch, not the gateway timeout.
  timers_.advance(shared_->options().gateway_timeout * 2);
  EXPECT_EQ(upstream().back(), 180);
  answer(second[0], "192.0.2.11:5060", 200);
  EXPECT_EQ(upstream().back(), 200);
  EXPECT_TRUE(trunk().gateways[0]->up);
  EXPECT_EQ(trunk().gateways[0]->failures.load(), 1u);
}

TEST_F(TrunkTest, AllGatewaysFailingGivesTheCallerOneFinalAnswer) {
  useTrunk(0);
  invite("+4930123");
  answer(sentTo("192.0.2.10:5060", "INVITE").at(0), "192.0.2.10:5060", 503);
  answer(sentTo("192.0.2.11:5060", "INVITE").at(0), "192.0.2.11:5060", 503);
  // A 503 is not relayed as is (the caller would avoid this proxy): 500.
  EXPECT_EQ(upstream().back(), 500);
  EXPECT_EQ(worker_->activeProxies(), 0u);
}

TEST_F(TrunkTest, UnroutedNumbersAndNamesAreNotSentToTheTrunk) {
  useTrunk(0);
  invite("+3312345");  // no route for +33, no binding: 480 as for any user without one
  EXPECT_EQ(upstream().back(), 480);
  EXPECT_TRUE(sentTo("192.0.2.10:5060", "INVITE").empty());
}

TEST_F(TrunkTest, ProbesTakeASilentGatewayOutAndAnAnswerBringsItBack) {
  useTrunk(10);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(worker_->probeGateways(t0), 2u);
  auto p1 = sentTo("192.0.2.10:5060", "OPTIONS");
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0].requestUriText(), "sip:192.0.2.10:5060");
  answer(p1[0], "192.0.2.10:5060", 200);
  timers_.advance(shared_->options().probe_timeout);
  EXPECT_TRUE(trunk().gateways[0]->up);
  EXPECT_FALSE(trunk().gateways[1]->up);  // never answered
  // Not again before the interval.
  EXPECT_EQ(worker_->probeGateways(t0 + std::chrono::seconds(5)), 0u);
  // Calls skip the dead gateway while another is up.
  trunk().gateways[0]->up = false;
  trunk().gateways[1]->up = true;
  invite("+4930123");
  EXPECT_TRUE(sentTo("192.0.2.10:5060", "INVITE").empty());
  EXPECT_EQ(sentTo("192.0.2.11:5060", "INVITE").size(), 1u);
  // Next round: the first answers 404 (alive, just not a user), back in.
  EXPECT_EQ(worker_->probeGateways(t0 + std::chrono::seconds(10)), 2u);
  auto p2 = sentTo("192.0.2.10:5060", "OPTIONS");
  ASSERT_EQ(p2.size(), 2u);
  answer(p2[1], "192.0.2.10:5060", 404);
  EXPECT_TRUE(trunk().gateways[0]->up);
}

// The same trunk behind a stateless route (§16.11).
class StatelessTest : public TrunkTest {
 protected:
  void useStatelessRoute() {
    edge::TrunkSpec t;
    t.name = "carrier";
    t.gateways = {{"udp:192.0.2.10:5060", 1}, {"udp:192.0.2.11:5060", 1}};
    t.probe_interval = std::chrono::seconds(30);
    auto r = edge::Routing::create({t}, {{"+49", "carrier", true}});
    ASSERT_TRUE(r) << r.error().reason;
    shared_->setRouting(std::move(*r));
    gw_ = trunk()
              .gateways[shared_->routing()->statelessGateway(trunk(), "call-1@10.0.0.5")]
              ->address.toString();
    other_ = gw_ == "192.0.2.10:5060" ? "192.0.2.11:5060" : "192.0.2.10:5060";
  }
  void caller(const std::string& text) {
    auto m = sip::Message::parse(text);
    ASSERT_TRUE(m.has_value());
    layer_->receive(std::move(*m), from("10.0.0.5:5060"));
  }
  static std::string topBranch(const sip::Message& m) {
    return std::string(m.vias()->front().branch().value_or(""));
  }
  std::string gw_, other_;
};

TEST_F(StatelessTest, ForwardsWithoutTransactionsAndRelaysResponsesByVia) {
  useStatelessRoute();
  invite("+4930123");
  auto sent = sentTo(gw_, "INVITE");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].requestUriText(), "sip:+4930123@" + gw_);
  EXPECT_EQ(sent[0].headerCount(sip::HeaderId::kRecordRoute), 1u);
  EXPECT_EQ(sent[0].vias()->size(), 2u);
  EXPECT_EQ(layer_->size(), 0u);
  EXPECT_TRUE(upstream().empty());  // no 100 Trying of our own
  // The caller's retransmission goes out again, to the same gateway with the same branch.
  invite("+4930123");
  sent = sentTo(gw_, "INVITE");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(topBranch(sent[0]), topBranch(sent[1]));
  EXPECT_TRUE(sentTo(other_, "INVITE").empty());
  // Responses go back by the Via below ours, ours removed; a 503 is relayed, not failed over.
  answer(sent[0], gw_, 180);
  answer(sent[0], gw_, 503);
  EXPECT_EQ(upstream(), (std::vector<int>{180, 503}));
  EXPECT_TRUE(sentTo(other_, "INVITE").empty());
  auto last = sip::Message::parse(sender_.sent.back().bytes);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->vias()->size(), 1u);
  // The caller's ACK of the 503 reaches the gateway's transaction: same branch.
  caller(
      "ACK sip:+4930123@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKcall1\r\n"
      "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:+4930123@example.com>;tag=gw\r\n"
      "Call-ID: call-1@10.0.0.5\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
      "Content-Length: 0\r\n\r\n");
  auto acks = sentTo(gw_, "ACK");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(topBranch(acks[0]), topBranch(sent[0]));
  EXPECT_EQ(acks[0].headerCount(sip::HeaderId::kRecordRoute), 0u);
  EXPECT_EQ(layer_->size(), 0u);
  EXPECT_EQ(shared_->counters().forwarded_stateless.load(), 5u);  // 2 INVITE, 2 resp., ACK
  EXPECT_EQ(worker_->activeProxies(), 0u);
}

TEST_F(StatelessTest, CancelFollowsTheInviteWithItsBranch) {
  useStatelessRoute();
  invite("+4930123");
  caller(
      "CANCEL sip:+4930123@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKcall1\r\n"
      "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:+4930123@example.com>\r\n"
      "Call-ID: call-1@10.0.0.5\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\n"
      "Content-Length: 0\r\n\r\n");
  auto invites = sentTo(gw_, "INVITE");
  auto cancels = sentTo(gw_, "CANCEL");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(topBranch(cancels[0]), topBranch(invites.at(0)));
  EXPECT_TRUE(upstream().empty());  // the gateway answers the CANCEL, not us (no 481)
  answer(cancels[0], gw_, 200);
  answer(invites[0], gw_, 487);
  EXPECT_EQ(upstream(), (std::vector<int>{200, 487}));
}

TEST_F(StatelessTest, OurUsersAndOtherRoutesStayStateful) {
  useStatelessRoute();
  registerFrom("10.0.0.9:5060", "sip:alice@10.0.0.9:5060");
  size_t before = sender_.sent.size();
  invite("alice");  // a registered user: forked statefully (100 Trying first)
  ASSERT_GT(sender_.sent.size(), before);
  EXPECT_EQ(upstream().back(), 100);
  EXPECT_EQ(sentTo("10.0.0.9:5060", "INVITE").size(), 1u);
  EXPECT_EQ(worker_->activeProxies(), 1u);
  EXPECT_EQ(layer_->counters().stateless, 0u);
}

TEST_F(StatelessTest, CallsOfOurUsersAreAuthenticatedAndTheirRetransmissionsPass) {
  // A credential for alice, and calls authenticated.
  store::SipCredential c;
  c.domain = "example.com";
  c.username = "alice";
  c.ha1_sha256 = sip::computeHa1(sip::DigestAlgorithm::kSha256, "alice", "example.com", "pw");
  ASSERT_TRUE(db_->sipCredentials().upsert(c));
  ASSERT_TRUE(db_->sipDomainOwners().claim("example.com", std::nullopt, "config", 1));
  shared_->mutableOptions().auth_calls = true;
  shared_->mutableOptions().self.domains = {"example.com"};
  useStatelessRoute();
  // Without credentials: challenged by a transaction (which keeps the 407 for the ACK).
  invite("+4930123");
  ASSERT_EQ(upstream().back(), 407);
  EXPECT_EQ(layer_->serverCount(), 1u);
  auto challenge = sip::Message::parse(sender_.sent.back().bytes);
  ASSERT_TRUE(challenge.has_value());
  // The first challenge is SHA-256's (RFC 8760 order).
  std::string_view chal = challenge->headerValue(sip::HeaderId::kProxyAuthenticate);
  ASSERT_NE(chal.find("SHA-256"), std::string_view::npos);
  auto p = chal.find("nonce=\"");
  ASSERT_NE(p, std::string_view::npos);
  const std::string nonce(chal.substr(p + 7, chal.find('"', p + 7) - p - 7));
  auto withCredentials = [&](const std::string& branch, const std::string& nc) {
    sip::CredentialsSpec cr;
    cr.username = "alice";
    cr.realm = "example.com";
    cr.nonce = nonce;
    cr.uri = "sip:+4930123@example.com";
    cr.algorithm = sip::DigestAlgorithm::kSha256;
    cr.cnonce = "c0ffee";
    cr.nc = nc;
    cr.response = sip::computeResponse(sip::DigestAlgorithm::kSha256, c.ha1_sha256, "INVITE",
                                       cr.uri, nonce, nc, cr.cnonce, "auth");
    return "INVITE sip:+4930123@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=" +
           branch +
           "\r\n"
           "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:+4930123@example.com>\r\n"
           "Call-ID: call-1@10.0.0.5\r\nCSeq: 2 INVITE\r\nMax-Forwards: 70\r\n"
           "Proxy-Authorization: " +
           sip::formatCredentials(cr) +
           "\r\nContact: <sip:alice@10.0.0.5>\r\nContent-Length: 0\r\n\r\n";
  };
  caller(withCredentials("z9hG4bKcall2", "00000001"));
  ASSERT_TRUE(loop_.pump([&] { return sentTo(gw_, "INVITE").size() == 1; }));
  caller(withCredentials("z9hG4bKcall2", "00000001"));  // its retransmission
  ASSERT_TRUE(loop_.pump([&] { return sentTo(gw_, "INVITE").size() == 2; }));
  auto sent = sentTo(gw_, "INVITE");
  EXPECT_EQ(topBranch(sent[0]), topBranch(sent[1]));
  EXPECT_EQ(layer_->serverCount(), 1u);  // still only the challenged one
  // The same credentials in another request are a replay: handed to the stateful path,
  // which challenges.
  size_t answers = upstream().size();
  caller(withCredentials("z9hG4bKcall3", "00000001"));
  ASSERT_TRUE(loop_.pump([&] { return upstream().size() > answers; }));
  EXPECT_EQ(upstream().back(), 407);
  EXPECT_EQ(sentTo(gw_, "INVITE").size(), 2u);
}

}  // namespace
