#include "edge/routing.h"

#include <gtest/gtest.h>

#include <map>

namespace edge {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

TrunkSpec trunk(std::string name, std::string algorithm, std::vector<GatewaySpec> gws,
                std::vector<std::string> acl = {}) {
  TrunkSpec t;
  t.name = std::move(name);
  t.algorithm = std::move(algorithm);
  t.gateways = std::move(gws);
  t.acl = std::move(acl);
  return t;
}

TEST(Routing, LongestPrefixWinsAndDefaultRouteCatchesTheRest) {
  auto r = Routing::create({trunk("a", "round-robin", {{"udp:192.0.2.1:5060", 1}}),
                            trunk("b", "round-robin", {{"udp:192.0.2.2:5060", 1}}),
                            trunk("c", "round-robin", {{"udp:192.0.2.3:5060", 1}})},
                           {{"+49", "a"}, {"+4930", "b"}, {"", "c"}});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ((*r)->route("+4930123")->name, "b");
  EXPECT_EQ((*r)->route("+4940123")->name, "a");
  EXPECT_EQ((*r)->route("+33123")->name, "c");
  EXPECT_EQ((*r)->route("0123")->name, "c");
  EXPECT_EQ((*r)->route("alice"), nullptr);  // not a number: never routed to a trunk
  EXPECT_EQ((*r)->route(""), nullptr);
  EXPECT_EQ((*r)->route("+"), nullptr);
}

TEST(Routing, WithoutDefaultRouteUnmatchedNumbersGoNowhere) {
  auto r = Routing::create({trunk("a", "round-robin", {{"udp:192.0.2.1:5060", 1}})}, {{"00", "a"}});
  ASSERT_TRUE(r);
  EXPECT_NE((*r)->route("0044"), nullptr);
  EXPECT_EQ((*r)->route("1234"), nullptr);
}

TEST(Routing, CreateRejectsBadConfigurationNamingIt) {
  struct Case {
    std::vector<TrunkSpec> trunks;
    std::vector<RouteSpec> routes;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {{trunk("t", "random", {{"udp:192.0.2.1:5060", 1}})}, {}, "random"},
      {{trunk("t", "round-robin", {})}, {}, "no gateways"},
      {{trunk("t", "round-robin", {{"udp:gw.example.com:5060", 1}})}, {}, "gw.example.com"},
      {{trunk("t", "round-robin", {{"ws:192.0.2.1:80", 1}})}, {}, "ws:192.0.2.1:80"},
      {{trunk("t", "round-robin", {{"udp:192.0.2.1:5060", 0}})}, {}, "weight 0"},
      {{trunk("t", "round-robin", {{"udp:192.0.2.1:5060", 1}}, {"300.1.1.1"})}, {}, "300.1.1.1"},
      {{trunk("t", "round-robin", {{"udp:192.0.2.1:5060", 1}})}, {{"+1", "nope"}}, "nope"},
      {{trunk("t", "round-robin", {{"udp:192.0.2.1:5060", 1}})}, {{"1x", "t"}}, "1x"},
  };
  for (const Case& c : cases) {
    auto r = Routing::create(c.trunks, c.routes);
    ASSERT_FALSE(r) << c.mentions;
    EXPECT_NE(r.error().reason.find(c.mentions), std::string::npos) << r.error().reason;
  }
}

TEST(Routing, GatewayUrisOfEveryTransportParse) {
  auto udp = parseGatewayUri("udp:192.0.2.1:5060");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->first, transport::Protocol::kUdp);
  EXPECT_EQ(udp->second.toString(), "192.0.2.1:5060");
  auto tls = parseGatewayUri("tls:[2001:db8::1]:5061");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->first, transport::Protocol::kTls);
  EXPECT_EQ(tls->second.port, 5061);
  EXPECT_FALSE(parseGatewayUri("udp:192.0.2.1"));
  EXPECT_FALSE(parseGatewayUri("192.0.2.1:5060"));
}

TEST(Routing, RoundRobinRotatesAndOffersTheOthersAsFailover) {
  auto r = Routing::create(
      {trunk("t", "round-robin",
             {{"udp:192.0.2.1:5060", 1}, {"udp:192.0.2.2:5060", 1}, {"udp:192.0.2.3:5060", 1}})},
      {{"", "t"}});
  ASSERT_TRUE(r);
  Trunk& t = *(*r)->trunks()[0];
  EXPECT_EQ((*r)->dispatch(t, "x"), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ((*r)->dispatch(t, "x"), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ((*r)->dispatch(t, "x"), (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ((*r)->dispatch(t, "x"), (std::vector<size_t>{0, 1, 2}));
}

TEST(Routing, DeadGatewaysAreLeftOutUntilAllAreDead) {
  auto r = Routing::create(
      {trunk("t", "round-robin", {{"udp:192.0.2.1:5060", 1}, {"udp:192.0.2.2:5060", 1}})}, {});
  ASSERT_TRUE(r);
  Routing& routing = **r;
  Trunk& t = *routing.trunks()[0];
  routing.probeResult(t, *t.gateways[0], false);
  EXPECT_FALSE(t.gateways[0]->up);
  EXPECT_EQ(t.gateways[0]->failed_probes, 1u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(routing.dispatch(t, "x"), (std::vector<size_t>{1}));
  routing.probeResult(t, *t.gateways[1], false);
  // All dead: every gateway is offered rather than none.
  EXPECT_EQ(routing.dispatch(t, "x").size(), 2u);
  routing.probeResult(t, *t.gateways[0], true);
  EXPECT_TRUE(t.gateways[0]->up);
  EXPECT_EQ(t.gateways[0]->failed_probes, 0u);
  EXPECT_EQ(routing.dispatch(t, "x"), (std::vector<size_t>{0}));
}

TEST(Routing, AFailedCallTakesAProbedGatewayOutButNotAnUnprobedOne) {
  std::vector<TrunkSpec> specs = {
      trunk("probed", "round-robin", {{"udp:192.0.2.1:5060", 1}, {"udp:192.0.2.2:5060", 1}}),
      trunk("blind", "round-robin", {{"udp:192.0.2.3:5060", 1}, {"udp:192.0.2.4:5060", 1}})};
  specs[1].probe_interval = std::chrono::seconds(0);
  auto r = Routing::create(specs, {});
  ASSERT_TRUE(r);
  Trunk& probed = *(*r)->trunks()[0];
  Trunk& blind = *(*r)->trunks()[1];
  (*r)->callFailed(probed, *probed.gateways[0]);
  (*r)->callFailed(blind, *blind.gateways[0]);
  EXPECT_FALSE(probed.gateways[0]->up);
  EXPECT_EQ(probed.gateways[0]->failures, 1u);
  // Nothing would ever bring an unprobed gateway back, so it stays in.
  EXPECT_TRUE(blind.gateways[0]->up);
  EXPECT_EQ(blind.gateways[0]->failures, 1u);
}

TEST(Routing, WeightedFollowsTheWeightsAndInterleaves) {
  auto r = Routing::create(
      {trunk("t", "weighted", {{"udp:192.0.2.1:5060", 3}, {"udp:192.0.2.2:5060", 1}})}, {});
  ASSERT_TRUE(r);
  Trunk& t = *(*r)->trunks()[0];
  std::map<size_t, int> firsts;
  std::vector<size_t> sequence;
  for (int i = 0; i < 400; ++i) {
    auto order = (*r)->dispatch(t, "x");
    ASSERT_EQ(order.size(), 2u);
    EXPECT_NE(order[0], order[1]);
    ++firsts[order[0]];
    if (i < 4) sequence.push_back(order[0]);
  }
  EXPECT_EQ(firsts[0], 300);
  EXPECT_EQ(firsts[1], 100);
  // Smooth: the light gateway's turn falls inside the cycle, not after three in a row at its end.
  EXPECT_EQ(sequence, (std::vector<size_t>{0, 0, 1, 0}));
}

TEST(Routing, HashKeepsACallIdOnItsGatewayAndMovesItOnlyWhenThatOneIsDown) {
  auto r = Routing::create(
      {trunk("t", "hash",
             {{"udp:192.0.2.1:5060", 1}, {"udp:192.0.2.2:5060", 1}, {"udp:192.0.2.3:5060", 1}})},
      {});
  ASSERT_TRUE(r);
  Trunk& t = *(*r)->trunks()[0];
  std::map<size_t, int> spread;
  for (int i = 0; i < 300; ++i) {
    std::string cid = "call-" + std::to_string(i) + "@host";
    auto first = (*r)->dispatch(t, cid);
    EXPECT_EQ((*r)->dispatch(t, cid), first);  // stable
    ++spread[first[0]];
  }
  for (size_t g = 0; g < 3; ++g) EXPECT_GT(spread[g], 50) << g;
  // Take the gateway of one Call-ID out: it moves, and the others keep theirs.
  std::string cid = "call-7@host";
  size_t home = (*r)->dispatch(t, cid)[0];
  std::string other;
  for (int i = 0; i < 300 && other.empty(); ++i) {
    std::string c = "call-" + std::to_string(i) + "@host";
    if ((*r)->dispatch(t, c)[0] != home) other = c;
  }
  ASSERT_FALSE(other.empty());
  size_t other_home = (*r)->dispatch(t, other)[0];
  (*r)->probeResult(t, *t.gateways[home], false);
  EXPECT_NE((*r)->dispatch(t, cid)[0], home);
  EXPECT_EQ((*r)->dispatch(t, other)[0], other_home);
}

TEST(Routing, StatelessRoutesAreMarkedPerPrefix) {
  auto r = Routing::create({trunk("a", "round-robin", {{"udp:192.0.2.1:5060", 1}})},
                           {{"+49", "a", true}, {"+4930", "a", false}});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_TRUE((*r)->hasStatelessRoutes());
  bool stateless = false;
  EXPECT_EQ((*r)->route("+4940", &stateless)->name, "a");
  EXPECT_TRUE(stateless);
  EXPECT_EQ((*r)->route("+4930", &stateless)->name, "a");
  EXPECT_FALSE(stateless);  // the longer prefix decides
  EXPECT_EQ((*r)->route("+33", &stateless), nullptr);
  EXPECT_FALSE(stateless);
  auto plain =
      Routing::create({trunk("a", "round-robin", {{"udp:192.0.2.1:5060", 1}})}, {{"+49", "a"}});
  ASSERT_TRUE(plain);
  EXPECT_FALSE((*plain)->hasStatelessRoutes());
}

TEST(Routing, StatelessGatewayIsAFunctionOfTheCallIdWeightedAndSkipsDeadOnes) {
  auto r = Routing::create(
      {trunk("a", "round-robin",
             {{"udp:192.0.2.1:5060", 3}, {"udp:192.0.2.2:5060", 1}, {"udp:192.0.2.3:5060", 1}})},
      {{"", "a", true}});
  ASSERT_TRUE(r) << r.error().reason;
  Trunk& t = *(*r)->trunks()[0];
  std::map<size_t, int> picks;
  std::map<std::string, size_t> first;
  for (int i = 0; i < 4000; ++i) {
    std::string id = "call-" + std::to_string(i);
    size_t g = (*r)->statelessGateway(t, id);
    first[id] = g;
    ++picks[g];
    // Asked again (a retransmission, the CANCEL, the ACK): the same gateway.
    EXPECT_EQ((*r)->statelessGateway(t, id), g);
  }
  // Weights 3:1:1: about 60%, 20%, 20%.
  EXPECT_NEAR(picks[0] / 4000.0, 0.6, 0.05);
  EXPECT_NEAR(picks[1] / 4000.0, 0.2, 0.05);
  EXPECT_NEAR(picks[2] / 4000.0, 0.2, 0.05);
  // The second gateway goes down: only its calls move.
  t.gateways[1]->up = false;
  for (const auto& [id, g] : first) {
    size_t now = (*r)->statelessGateway(t, id);
    if (g == 1) {
      EXPECT_NE(now, 1u);
    } else {
      EXPECT_EQ(now, g) << id;
    }
  }
  // All down: all considered, as the stateful dispatcher does.
  for (auto& gw : t.gateways) gw->up = false;
  EXPECT_EQ((*r)->statelessGateway(t, "call-7"), first["call-7"]);
}

TEST(Routing, TrunkFromMatchesTheAccessLists) {
  auto r = Routing::create(
      {trunk("carrier", "round-robin", {{"udp:192.0.2.1:5060", 1}}, {"192.0.2.0/28"}),
       trunk("other", "round-robin", {{"udp:198.51.100.1:5060", 1}}, {"2001:db8::/64"})},
      {});
  ASSERT_TRUE(r);
  ASSERT_NE((*r)->trunkFrom(ip("192.0.2.9")), nullptr);
  EXPECT_EQ((*r)->trunkFrom(ip("192.0.2.9"))->name, "carrier");
  EXPECT_EQ((*r)->trunkFrom(ip("2001:db8::5"))->name, "other");
  EXPECT_EQ((*r)->trunkFrom(ip("192.0.2.99")), nullptr);
  // A gateway's address is not implicitly trusted: only the ACL counts.
  EXPECT_EQ((*r)->trunkFrom(ip("198.51.100.1")), nullptr);
}

}  // namespace
}  // namespace edge
