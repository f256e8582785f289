#include "store/audit_log.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;

const std::string kA = "AC00000000000000000000000000000001";
const std::string kB = "AC00000000000000000000000000000002";
const std::string kKey = "SK00000000000000000000000000000001";

AuditEntry entry(int64_t at_ms, const std::string& account, const std::string& path, int status) {
  return AuditEntry{0, at_ms, account, kKey, std::nullopt, "GET", path, status, "192.0.2.7", 1};
}

class AuditLogTest : public BackendTest {};

TEST_P(AuditLogTest, AppendKeepsOrderAndListIsNewestFirst) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& log = s->auditLog();
  std::vector<AuditEntry> first = {
      entry(1000, kA, "/2010-04-01/Accounts/" + kA + ".json", 200),
      entry(1000, kB, "/2010-04-01/Accounts/" + kB + ".json", 200),
      // Not time-ordered: the order of appending decides.
      entry(900, kA, "/2010-04-01/Accounts/" + kA + "/IncomingPhoneNumbers.json", 201),
  };
  first[2].method = "POST";
  first[2].user_sid = "US00000000000000000000000000000001";
  first[2].source = "[2001:db8::1]:443";
  first[2].id = 12345;  // ignored
  ASSERT_TRUE(log.append(first));
  std::vector<AuditEntry> second = {
      entry(2000, kA, "/2010-04-01/Accounts/" + kA + "/Keys.json", 401),
      entry(2001, "", "/2010-04-01/Accounts.json", 401),
  };
  second[0].count = 300;  // coalesced failed authentications
  second[1].principal = "";
  ASSERT_TRUE(log.append(second));
  ASSERT_TRUE(log.append({}));

  auto a = log.list(kA, 0, 100);
  ASSERT_TRUE(a) << a.error().reason;
  ASSERT_EQ(a->size(), 3u);
  std::vector<AuditEntry> want = {second[0], first[2], first[0]};  // newest first
  for (size_t i = 0; i < want.size(); ++i) {
    AuditEntry got = (*a)[i];
    EXPECT_GT(got.id, 0);
    if (i > 0) {
      EXPECT_LT(got.id, (*a)[i - 1].id) << i;
    }
    got.id = 0;
    want[i].id = 0;
    EXPECT_EQ(got, want[i]) << i;
  }
  EXPECT_EQ(*log.count(kA), 3);

  // Ids follow the order of appending, across accounts too.
  auto b = log.list(kB, 0, 100);
  auto none = log.list("", 0, 100);
  ASSERT_TRUE(b && none);
  ASSERT_EQ(b->size(), 1u);
  ASSERT_EQ(none->size(), 1u);
  EXPECT_EQ((*b)[0].path, first[1].path);
  EXPECT_LT((*a)[2].id, (*b)[0].id);
  EXPECT_LT((*b)[0].id, (*a)[1].id);
  EXPECT_LT((*a)[0].id, (*none)[0].id);
  EXPECT_EQ((*none)[0].principal, "");
  EXPECT_EQ(*log.count(""), 1);
  EXPECT_EQ(*log.count("AC00000000000000000000000000000009"), 0);

  auto page = log.list(kA, 1, 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, (*a)[1].id);
  EXPECT_TRUE(log.list(kA, 3, 10)->empty());
  auto bad = log.list(kA, -1, 10);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(AuditLogTest, RawUpdateAndDeleteAreRefused) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& log = s->auditLog();
  ASSERT_TRUE(log.append({entry(1, kA, "/a", 200), entry(2, kA, "/b", 403)}));
  auto before = log.list(kA, 0, 10);
  ASSERT_TRUE(before && before->size() == 2u);

  Database& db = s->database();
  auto upd = db.exec("UPDATE audit_log SET status = 200 WHERE status = 403");
  ASSERT_FALSE(upd) << "UPDATE changed " << *upd << " rows";
  EXPECT_NE(upd.error().reason.find("append-only"), std::string::npos) << upd.error().reason;
  auto del = db.exec("DELETE FROM audit_log");
  ASSERT_FALSE(del) << "DELETE removed " << *del << " rows";
  EXPECT_NE(del.error().reason.find("append-only"), std::string::npos) << del.error().reason;
  auto del_one = db.exec("DELETE FROM audit_log WHERE path = ?", {std::string("/a")});
  EXPECT_FALSE(del_one);
  if (postgres()) {
    auto truncate = db.exec("TRUNCATE audit_log");
    EXPECT_FALSE(truncate);
  }
  // Nor inside a transaction that would then commit.
  auto st = db.transaction([](Tx& tx) -> common::Status {
    auto n = tx.exec("DELETE FROM audit_log");
    if (!n) return n.error();
    return {};
  });
  EXPECT_FALSE(st);

  auto after = log.list(kA, 0, 10);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, *before);
  EXPECT_EQ(*log.count(kA), 2);
  EXPECT_TRUE(log.append({entry(3, kA, "/c", 200)}));  // appending still works
  EXPECT_EQ(*log.count(kA), 3);
}

SB_INSTANTIATE_BACKENDS(AuditLogTest);

}  // namespace
}  // namespace store
