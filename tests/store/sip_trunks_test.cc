#include "store/sip_trunks.h"

#include <functional>

#include "backends.h"

namespace store {
namespace {

using testing::BackendTest;

class SipTrunksTest : public BackendTest {};

SipTrunk carrier() {
  SipTrunk t;
  t.name = "carrier";
  t.algorithm = "weighted";
  t.gateways = {{"udp:192.0.2.10:5060", 3}, {"tcp:[2001:db8::1]:5060", 1}};
  t.acl = {"192.0.2.0/24", "2001:db8::/32"};
  t.probe_interval = 15;
  t.created_at = 1700000000;
  return t;
}

TEST_P(SipTrunksTest, RoundTripKeepsGatewaysAndAclInOrder) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& trunks = s->sipTrunks();
  ASSERT_TRUE(trunks.upsertTrunk(carrier()));
  auto found = trunks.findTrunk("carrier");
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, carrier());
  EXPECT_FALSE(*trunks.findTrunk("Carrier"));
}

TEST_P(SipTrunksTest, ReplacingLeavesNoStaleGatewaysAndKeepsCreatedAt) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& trunks = s->sipTrunks();
  ASSERT_TRUE(trunks.upsertTrunk(carrier()));
  SipTrunk smaller = carrier();
  smaller.gateways = {{"udp:192.0.2.20:5080", 7}};
  smaller.acl = {};
  smaller.algorithm = "hash";
  smaller.created_at = 0;
  ASSERT_TRUE(trunks.upsertTrunk(smaller));
  auto found = trunks.findTrunk("carrier");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->gateways, smaller.gateways);
  EXPECT_TRUE((*found)->acl.empty());
  EXPECT_EQ((*found)->algorithm, "hash");
  EXPECT_EQ((*found)->created_at, 1700000000);
}

TEST_P(SipTrunksTest, ListIsByNameAndRemoveTakesTheRoutesAlong) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& trunks = s->sipTrunks();
  SipTrunk b = carrier();
  b.name = "beta";
  ASSERT_TRUE(trunks.upsertTrunk(carrier()));
  ASSERT_TRUE(trunks.upsertTrunk(b));
  auto all = trunks.listTrunks();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "beta");
  EXPECT_EQ((*all)[1].gateways.size(), 2u);
  ASSERT_TRUE(trunks.addRoute({"+49", "carrier", 5}));
  ASSERT_TRUE(trunks.addRoute({"", "beta", 6}));
  ASSERT_TRUE(trunks.addRoute({"+4930", "beta", 7}));
  auto routes = trunks.listRoutes();
  ASSERT_TRUE(routes);
  EXPECT_EQ(*routes,
            (std::vector<SipRoute>{{"", "beta", 6}, {"+49", "carrier", 5}, {"+4930", "beta", 7}}));
  EXPECT_TRUE(*trunks.removeTrunk("beta"));
  EXPECT_FALSE(*trunks.removeTrunk("beta"));
  routes = trunks.listRoutes();
  ASSERT_TRUE(routes);
  EXPECT_EQ(*routes, (std::vector<SipRoute>{{"+49", "carrier", 5}}));
  EXPECT_EQ(trunks.listTrunks()->size(), 1u);
}

TEST_P(SipTrunksTest, ARouteRepointsItsPrefixAndNeedsAnExistingTrunk) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& trunks = s->sipTrunks();
  ASSERT_TRUE(trunks.upsertTrunk(carrier()));
  auto missing = trunks.addRoute({"+1", "nope", 0});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, common::ErrorCode::kNotFound);
  SipTrunk other = carrier();
  other.name = "other";
  ASSERT_TRUE(trunks.upsertTrunk(other));
  ASSERT_TRUE(trunks.addRoute({"+1", "carrier", 1}));
  ASSERT_TRUE(trunks.addRoute({"+1", "other", 2, /*stateless=*/true}));
  ASSERT_TRUE(trunks.addRoute({"+2", "other", 3}));
  auto routes = trunks.listRoutes();
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].trunk, "other");
  EXPECT_TRUE((*routes)[0].stateless);
  EXPECT_FALSE((*routes)[1].stateless);
  // Re-pointing sets the mode too.
  ASSERT_TRUE(trunks.addRoute({"+1", "carrier", 4}));
  routes = trunks.listRoutes();
  ASSERT_TRUE(routes);
  EXPECT_FALSE((*routes)[0].stateless);
  EXPECT_TRUE(*trunks.removeRoute("+2"));
  EXPECT_TRUE(*trunks.removeRoute("+1"));
  EXPECT_FALSE(*trunks.removeRoute("+1"));
}

TEST_P(SipTrunksTest, InvalidTrunksAndPrefixesAreRefusedWithTheReason) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& trunks = s->sipTrunks();
  struct Case {
    std::function<void(SipTrunk&)> change;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {[](SipTrunk& t) { t.name = "bad name"; }, "bad name"},
      {[](SipTrunk& t) { t.algorithm = "random"; }, "random"},
      {[](SipTrunk& t) { t.gateways.clear(); }, "no gateways"},
      {[](SipTrunk& t) { t.gateways[0].uri = "udp:gw.example.com:5060"; }, "gw.example.com"},
      {[](SipTrunk& t) { t.gateways[0].uri = "ws:192.0.2.1:80"; }, "ws:192.0.2.1:80"},
      {[](SipTrunk& t) { t.gateways[0].weight = 0; }, "weight 0"},
      {[](SipTrunk& t) { t.gateways[1].weight = 1001; }, "weight 1001"},
      {[](SipTrunk& t) { t.gateways[1].uri = "udp:192.0.2.1"; }, "udp:192.0.2.1"},
      {[](SipTrunk& t) { t.acl = {"192.0.2.0/40"}; }, "192.0.2.0/40"},
      {[](SipTrunk& t) { t.acl = {"not-an-ip"}; }, "not-an-ip"},
  };
  for (const Case& c : cases) {
    SipTrunk t = carrier();
    c.change(t);
    auto st = trunks.upsertTrunk(t);
    ASSERT_FALSE(st) << c.mentions;
    EXPECT_EQ(st.error().code, common::ErrorCode::kInvalidArgument);
    EXPECT_NE(st.error().reason.find(c.mentions), std::string::npos) << st.error().reason;
  }
  EXPECT_TRUE(trunks.listTrunks()->empty());  // nothing half-written
  ASSERT_TRUE(trunks.upsertTrunk(carrier()));
  EXPECT_FALSE(trunks.addRoute({"49x", "carrier", 0}));
  EXPECT_FALSE(trunks.addRoute({"++49", "carrier", 0}));
  EXPECT_TRUE(trunks.listRoutes()->empty());
}

SB_INSTANTIATE_BACKENDS(SipTrunksTest);

}  // namespace
}  // namespace store
