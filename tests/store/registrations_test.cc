#include "store/registrations.h"

#include <atomic>
#include <thread>

#include "common/thread_pool.h"

#include "backends.h"

namespace store {
namespace {

using testing::BackendTest;

Binding makeBinding(std::string aor, std::string contact, int64_t expires_at, int q = 1000,
                    int64_t updated_at = 100) {
  Binding b;
  b.aor = std::move(aor);
  b.contact = std::move(contact);
  b.call_id = "call-" + b.contact;
  b.cseq = 1;
  b.expires_at = expires_at;
  b.q = q;
  b.updated_at = updated_at;
  return b;
}

TEST(NormalizeAorTest, CanonicalForm) {
  EXPECT_EQ(*normalizeAor("sip:alice@example.com"), "sip:alice@example.com");
  EXPECT_EQ(*normalizeAor("SIP:Alice@Example.COM;transport=tcp?subject=x"),
            "sip:Alice@example.com");
  EXPECT_EQ(*normalizeAor("\"Alice\" <sips:alice@EXAMPLE.com:5061;lr>"),
            "sips:alice@example.com:5061");
  EXPECT_EQ(*normalizeAor("sip:al%69ce@example.com"), "sip:alice@example.com");
  EXPECT_EQ(*normalizeAor("sip:alice:secret@example.com"), "sip:alice@example.com");
  EXPECT_EQ(*normalizeAor("sip:Example.com"), "sip:example.com");
  EXPECT_EQ(*normalizeAor("sip:[2001:DB8::1]:5060"), "sip:[2001:db8::1]:5060");
  for (const char* bad : {"", "alice@example.com", "sip:", "sip:alice@", "sip:al%6@x.com",
                          "<sip:alice@example.com", "sip:ali ce@example.com", ":x"}) {
    auto r = normalizeAor(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, common::ErrorCode::kInvalidArgument) << bad;
    }
  }
}

class RegistrationsTest : public BackendTest {};

TEST_P(RegistrationsTest, UpsertStoresEveryFieldAndNormalisesTheAor) {
  auto s = openStore();
  ASSERT_TRUE(s);
  Binding b = makeBinding("sip:alice@EXAMPLE.com;transport=tcp", "<sip:alice@192.0.2.7:5060;ob>",
                          2000, 700, 150);
  b.instance_id = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
  b.reg_id = 4294967295u;
  b.cseq = 4294967295u;
  b.path = {"<sip:edge1.example.net;lr>", "<sip:edge2.example.net;lr;ob>"};
  b.flow = {"tcp:192.0.2.7:50312", "tcp:198.51.100.1:5060", 9007199254740993};
  b.user_agent = "Linphone/5.2 (\"quoted\")";
  ASSERT_TRUE(s->registrations().upsert(b));

  auto list = s->registrations().list("sip:alice@example.com", 1000);
  ASSERT_TRUE(list) << list.error().reason;
  ASSERT_EQ(list->size(), 1u);
  Binding want = b;
  want.aor = "sip:alice@example.com";
  EXPECT_EQ((*list)[0], want);
  auto count = s->registrations().count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

TEST_P(RegistrationsTest, OptionalFieldsStayEmpty) {
  auto s = openStore();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->registrations().upsert(makeBinding("sip:bob@example.com", "<sip:bob@h>", 2000)));
  auto list = s->registrations().list("sip:bob@example.com", 1000);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE((*list)[0].instance_id);
  EXPECT_FALSE((*list)[0].reg_id);
  EXPECT_TRUE((*list)[0].path.empty());
}

TEST_P(RegistrationsTest, ApplyWritesABatchAtomically) {
  auto s = openStore();
  ASSERT_TRUE(s);
  Registrations& r = s->registrations();
  ASSERT_TRUE(r.upsert(makeBinding("sip:a@x.com", "sip:a@1.1.1.1", 1000)));
  // Upserts and a removal in one transaction.
  auto st = r.apply({makeBinding("sip:a@x.com", "sip:a@2.2.2.2", 1000),
                     makeBinding("sip:b@x.com", "sip:b@3.3.3.3", 1000)},
                    {{"sip:a@x.com", "sip:a@1.1.1.1"}});
  ASSERT_TRUE(st) << st.error().reason;
  EXPECT_EQ(*r.count(), 2);
  ASSERT_EQ(r.list("sip:a@x.com", 0)->size(), 1u);
  EXPECT_EQ((*r.list("sip:a@x.com", 0))[0].contact, "sip:a@2.2.2.2");
  // One bad binding (q out of range) fails the whole batch: nothing of it is written.
  Binding bad = makeBinding("sip:c@x.com", "sip:c@4.4.4.4", 1000);
  bad.q = 5000;
  EXPECT_FALSE(r.apply({makeBinding("sip:d@x.com", "sip:d@5.5.5.5", 1000), bad},
                       {{"sip:b@x.com", "sip:b@3.3.3.3"}}));
  EXPECT_EQ(*r.count(), 2);
  EXPECT_TRUE(r.list("sip:d@x.com", 0)->empty());
  EXPECT_EQ(r.list("sip:b@x.com", 0)->size(), 1u);
}

TEST_P(RegistrationsTest, RefreshReplacesTheBindingOfTheSameContact) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  Binding b = makeBinding("sip:alice@example.com", "<sip:alice@192.0.2.7>", 2000);
  ASSERT_TRUE(regs.upsert(b));
  b.cseq = 2;
  b.expires_at = 5000;
  b.q = 500;
  b.updated_at = 1999;
  b.flow.remote = "udp:192.0.2.8:5062";
  ASSERT_TRUE(regs.upsert(b));
  auto list = regs.list("sip:alice@example.com", 1000);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], b);
  EXPECT_EQ(*regs.count(), 1);
}

TEST_P(RegistrationsTest, ListOrdersByQThenOldestUpdateAndSkipsOtherAors) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:low@h>", 2000, 100, 10)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:newer@h>", 2000, 900, 30)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:older@h>", 2000, 900, 20)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:top@h>", 2000, 1000, 40)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:other@example.com", "<sip:x@h>", 2000, 1000, 1)));
  auto list = regs.list("sip:a@example.com", 1000);
  ASSERT_TRUE(list);
  std::vector<std::string> contacts;
  for (const Binding& b : *list) contacts.push_back(b.contact);
  EXPECT_EQ(contacts, (std::vector<std::string>{"<sip:top@h>", "<sip:older@h>", "<sip:newer@h>",
                                                "<sip:low@h>"}));
}

TEST_P(RegistrationsTest, ExpiredBindingsAreHiddenThenPurged) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:gone@h>", 999)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:edge@h>", 1000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:live@h>", 1001)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:b@example.com", "<sip:gone@h>", 10)));
  auto list = regs.list("sip:a@example.com", 1000);  // expires_at == now is expired
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].contact, "<sip:live@h>");
  EXPECT_EQ(*regs.count(), 4);
  auto purged = regs.purgeExpired(1000);
  ASSERT_TRUE(purged) << purged.error().reason;
  EXPECT_EQ(*purged, 3);
  EXPECT_EQ(*regs.count(), 1);
  EXPECT_EQ(*regs.purgeExpired(1000), 0);
}

TEST_P(RegistrationsTest, ListAllReturnsUnexpiredBindingsOfEveryAor) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  ASSERT_TRUE(regs.upsert(makeBinding("sip:b@example.com", "<sip:b1@h>", 5000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:a1@h>", 5000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:a0@h>", 50)));
  auto all = regs.listAll(1000);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].contact, "<sip:a1@h>");
  EXPECT_EQ((*all)[1].contact, "<sip:b1@h>");
}

TEST_P(RegistrationsTest, RemoveOneAndRemoveAll) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:1@h>", 5000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:2@h>", 5000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:a@example.com", "<sip:3@h>", 5000)));
  ASSERT_TRUE(regs.upsert(makeBinding("sip:b@example.com", "<sip:1@h>", 5000)));
  auto removed = regs.remove("sip:a@EXAMPLE.COM", "<sip:1@h>");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*regs.remove("sip:a@example.com", "<sip:1@h>"));
  auto all = regs.removeAll("sip:a@example.com");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 2);
  EXPECT_EQ(*regs.count(), 1);
  EXPECT_EQ(regs.list("sip:b@example.com", 0)->size(), 1u);
}

TEST_P(RegistrationsTest, InvalidBindingsAreRefused) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  Binding b = makeBinding("sip:a@example.com", "<sip:1@h>", 5000);
  Binding bad_q = b;
  bad_q.q = 1001;
  Binding no_contact = b;
  no_contact.contact.clear();
  Binding bad_path = b;
  bad_path.path = {"<sip:p;lr>\r\nX-Injected: 1"};
  Binding bad_aor = b;
  bad_aor.aor = "not a uri";
  for (const Binding* x : {&bad_q, &no_contact, &bad_path, &bad_aor}) {
    auto st = regs.upsert(*x);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, common::ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(*regs.count(), 0);
}

TEST_P(RegistrationsTest, SqlShapedTextIsStoredAsText) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  Binding b = makeBinding("sip:o'hara@example.com", "'; DROP TABLE sip_registrations; --", 5000);
  b.call_id = "x' OR '1'='1";
  b.user_agent = "Robert'); DROP TABLE sip_credentials;-- ? $1 \\ \"";
  b.path = {"<sip:'; DELETE FROM sip_registrations; --@h;lr>"};
  ASSERT_TRUE(regs.upsert(b));
  auto list = regs.list("sip:o'hara@example.com", 0);
  ASSERT_TRUE(list) << list.error().reason;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], b);
  EXPECT_EQ(*regs.count(), 1);  // the table is still there
  EXPECT_TRUE(s->sipCredentials().list("example.com"));
}

TEST_P(RegistrationsTest, SeveralThreadsUpsertAtOnce) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& regs = s->registrations();
  constexpr int kThreads = 6, kEach = 30;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string aor = "sip:user" + std::to_string(i % 5) + "@example.com";
        // Distinct contacts, plus one contact every thread refreshes.
        Binding mine = makeBinding(
            aor, "<sip:" + std::to_string(t) + "-" + std::to_string(i) + "@h>", 5000, 1000, i);
        Binding shared = makeBinding("sip:shared@example.com", "<sip:shared@h>", 5000, 1000, i);
        for (const Binding* b : {&mine, &shared}) {
          auto st = regs.upsert(*b);
          if (!st) {
            ADD_FAILURE() << st.error().reason;
            ++failures;
          }
        }
        if (!regs.list(aor, 0)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*regs.count(), kThreads * kEach + 1);
  EXPECT_EQ(regs.list("sip:shared@example.com", 0)->size(), 1u);
}

// How the SIP edge uses the store: the blocking calls run on a common::ThreadPool.
TEST_P(RegistrationsTest, WritesPostedToAThreadPoolAllLand) {
  auto s = openStore();
  ASSERT_TRUE(s);
  std::atomic<int> failures{0};
  common::ThreadPool pool(4, 1000);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.post([&, i] {
      if (!s->registrations().upsert(
              makeBinding("sip:pool@example.com", "<sip:" + std::to_string(i) + "@h>", 5000)))
        ++failures;
    }));
  }
  pool.stop();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*s->registrations().count(), 100);
}

SB_INSTANTIATE_BACKENDS(RegistrationsTest);

}  // namespace
}  // namespace store
