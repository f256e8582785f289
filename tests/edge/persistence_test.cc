#include "edge/persistence.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

namespace {

constexpr int64_t kNow = 1'800'000'000;

class EdgeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-edge-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto s = store::Store::open("sqlite:" + (dir_ / "t.db").string());
    ASSERT_TRUE(s.has_value()) << s.error().reason;
    db_ = std::move(*s);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Runs the callback inline: the test's "worker" is whichever thread the pool used.
  static void inlineBack(std::function<void()> fn) { fn(); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> db_;
  common::ThreadPool pool_{2, 64};
};

edge::Binding sample() {
  edge::Binding b;
  b.aor = "sip:alice@example.com";
  b.contact = "sip:alice@10.0.0.5:5060;transport=tcp";
  b.instance_id = "<urn:uuid:00000000-0000-0000-0000-000000000001>";
  b.reg_id = "1";
  b.call_id = "c1";
  b.cseq = 7;
  b.expires_at = kNow + 600;
  b.q = 700;
  b.path = {"<sip:edge.example.com;lr>"};
  b.flow.protocol = transport::Protocol::kTcp;
  b.flow.local = *transport::Address::parse("[::1]:5060");
  b.flow.remote = *transport::Address::parse("[::1]:40123");
  b.flow.connection_id = 42;
  b.user_agent = "phone/1.0";
  b.updated_at = kNow;
  return b;
}

TEST(EdgePersistence, BindingRoundTrip) {
  edge::Binding b = sample();
  auto back = edge::fromStored(edge::toStored(b));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->aor, b.aor);
  EXPECT_EQ(back->contact, b.contact);
  EXPECT_EQ(back->instance_id, b.instance_id);
  EXPECT_EQ(back->reg_id, "1");
  EXPECT_EQ(back->q, 700);
  EXPECT_EQ(back->path, b.path);
  EXPECT_EQ(back->flow, b.flow);
  EXPECT_EQ(back->user_agent, b.user_agent);
  store::Binding broken = edge::toStored(b);
  broken.flow.remote = "carrier-pigeon";
  EXPECT_FALSE(edge::fromStored(broken).has_value());
}

TEST_F(EdgeStoreTest, SaveThenReloadAndRemove) {
  edge::EdgeStore es(*db_, pool_);
  edge::RegisterPlan plan;
  plan.aor = "sip:alice@example.com";
  plan.upserts = {sample()};
  std::promise<common::Status> saved;
  es.saveRegistration(plan, inlineBack, [&](common::Status st) { saved.set_value(st); });
  auto st = saved.get_future().get();
  ASSERT_TRUE(st) << st.error().reason;
  auto loaded = es.loadBindings(kNow);
  ASSERT_TRUE(loaded.has_value());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].flow.connection_id, 42u);
  EXPECT_TRUE(es.loadBindings(kNow + 601)->empty());

  edge::RegisterPlan removal;
  removal.aor = plan.aor;
  removal.removed = {sample().contact};
  std::promise<common::Status> removed;
  es.saveRegistration(removal, inlineBack, [&](common::Status s) { removed.set_value(s); });
  ASSERT_TRUE(removed.get_future().get());
  EXPECT_TRUE(es.loadBindings(kNow)->empty());
}

TEST_F(EdgeStoreTest, CredentialsAreCached) {
  store::SipCredential c;
  c.domain = "example.com";
  c.username = "alice";
  c.ha1_md5 = sip::computeHa1(sip::DigestAlgorithm::kMd5, "alice", "example.com", "pw");
  c.ha1_sha256 = sip::computeHa1(sip::DigestAlgorithm::kSha256, "alice", "example.com", "pw");
  ASSERT_TRUE(db_->sipCredentials().upsert(c));
  ASSERT_TRUE(db_->sipDomainOwners().claim("example.com", std::nullopt, "admin", 1));
  edge::EdgeStore es(*db_, pool_);
  for (int i = 0; i < 3; ++i) {
    std::promise<common::Result<std::optional<edge::Ha1>>> got;
    es.findHa1("example.com", "alice", inlineBack,
               [&](common::Result<std::optional<edge::Ha1>> r) { got.set_value(std::move(r)); });
    auto r = got.get_future().get();
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->md5, c.ha1_md5);
    EXPECT_EQ((*r)->sha256, c.ha1_sha256);
  }
  EXPECT_EQ(es.cacheMisses(), 1u);
  EXPECT_EQ(es.cacheHits(), 2u);
  std::promise<common::Result<std::optional<edge::Ha1>>> unknown;
  es.findHa1("example.com", "mallory", inlineBack,
             [&](common::Result<std::optional<edge::Ha1>> r) { unknown.set_value(std::move(r)); });
  auto u = unknown.get_future().get();
  ASSERT_TRUE(u.has_value());
  EXPECT_FALSE(u->has_value());
}

// Issue 23, finding 1: a row on a name that is not its account's (an account's credential on
// the operator's domain, as an older version let the API derive) is no user at all.
TEST_F(EdgeStoreTest, OnlyTheDomainOwnersCredentialsAreFound) {
  auto put = [&](const char* domain, const char* user, std::optional<std::string> account) {
    store::SipCredential c;
    c.domain = domain;
    c.username = user;
    c.ha1_md5 = sip::computeHa1(sip::DigestAlgorithm::kMd5, user, domain, "pw");
    c.account_sid = std::move(account);
    ASSERT_TRUE(db_->sipCredentials().upsert(c));
  };
  put("op.example.com", "alice", std::nullopt);
  put("op.example.com", "eve", "ACsquatter");
  put("b.example.com", "bob", "ACb");
  put("b.example.com", "eve", "ACsquatter");
  put("nobody.example.com", "carol", std::nullopt);
  ASSERT_TRUE(db_->sipDomainOwners().claim("op.example.com", std::nullopt, "config", 1));
  ASSERT_TRUE(db_->sipDomainOwners().claim("b.example.com", "ACb", "admin", 1));
  edge::EdgeStore es(*db_, pool_);
  auto found = [&](const char* domain, const char* user) {
    std::promise<common::Result<std::optional<edge::Ha1>>> got;
    es.findHa1(domain, user, inlineBack,
               [&](common::Result<std::optional<edge::Ha1>> r) { got.set_value(std::move(r)); });
    auto r = got.get_future().get();
    EXPECT_TRUE(r.has_value());
    return r.has_value() && r->has_value();
  };
  EXPECT_TRUE(found("op.example.com", "alice"));
  EXPECT_FALSE(found("op.example.com", "eve"));
  EXPECT_TRUE(found("b.example.com", "bob"));
  EXPECT_FALSE(found("b.example.com", "eve"));
  EXPECT_FALSE(found("nobody.example.com", "carol"));  // a name nobody owns: nobody passes
}

}  // namespace
