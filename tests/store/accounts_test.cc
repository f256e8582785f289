#include "store/accounts.h"

#include <limits>

#include "backends.h"
#include "store/db.h"
#include "store/migrations.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

// "AC" (or another prefix) and 32 hex digits ending in `n`.
Account account(const std::string& s, std::optional<std::string> parent, const std::string& name,
                int64_t created_at) {
  Account a;
  a.sid = s;
  a.parent_sid = std::move(parent);
  a.friendly_name = name;
  a.auth_token_sealed = "sealed:" + s;
  a.created_at = created_at;
  a.updated_at = created_at;
  return a;
}

std::vector<std::string> sids(const std::vector<Account>& list) {
  std::vector<std::string> out;
  for (const Account& a : list) out.push_back(a.sid);
  return out;
}

TEST(AccountPredicatesTest, SidAndStatus) {
  EXPECT_TRUE(isSid("AC0123456789abcdef0123456789abcdef", "AC"));
  EXPECT_TRUE(isSid("SK0123456789abcdef0123456789abcdef", "SK"));
  EXPECT_FALSE(isSid("AC0123456789abcdef0123456789abcdef", "SK"));  // wrong prefix
  EXPECT_FALSE(isSid("AC0123456789ABCDEF0123456789abcdef", "AC"));  // upper-case hex
  EXPECT_FALSE(isSid("AC0123456789abcdef0123456789abcde", "AC"));   // 31 digits
  EXPECT_FALSE(isSid("AC0123456789abcdef0123456789abcdef0", "AC"));
  EXPECT_FALSE(isSid("AC0123456789abcdef0123456789abcdeg", "AC"));
  EXPECT_FALSE(isSid("ac0123456789abcdef0123456789abcdef", "AC"));
  EXPECT_FALSE(isSid("", "AC"));

  EXPECT_TRUE(isAccountStatus("active"));
  EXPECT_TRUE(isAccountStatus("suspended"));
  EXPECT_TRUE(isAccountStatus("closed"));
  EXPECT_FALSE(isAccountStatus("Active"));
  EXPECT_FALSE(isAccountStatus(""));
}

class AccountsTest : public BackendTest {};

TEST_P(AccountsTest, CreateFindRoundTripsEveryField) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  Account owner{sid("AC", 1),  std::nullopt, "Acme",     "suspended", "sealed-token-1",
                -123456789012, "EUR",        1700000000, 1700000100};
  Account sub{sid("AC", 2),  owner.sid, "Acme EU",  "active",  "sealed-token-2",
              9000000000000, "USD",     1700000200, 1700000300};
  auto created = accounts.create(owner);
  ASSERT_TRUE(created) << created.error().reason;
  EXPECT_TRUE(*created);
  created = accounts.create(sub);
  ASSERT_TRUE(created) << created.error().reason;
  EXPECT_TRUE(*created);

  auto found = accounts.find(owner.sid);
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, owner);
  found = accounts.find(sub.sid);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, sub);
  EXPECT_EQ((*found)->parent_sid, std::optional<std::string>(owner.sid));

  auto absent = accounts.find(sid("AC", 3));
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);

  // A second create of a SID is refused and leaves the first as it was.
  Account again = owner;
  again.friendly_name = "Other";
  again.balance_millicents = 1;
  auto dup = accounts.create(again);
  ASSERT_TRUE(dup) << dup.error().reason;
  EXPECT_FALSE(*dup);
  EXPECT_EQ(**accounts.find(owner.sid), owner);
}

TEST_P(AccountsTest, CreateValidation) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  Account top = account(sid("AC", 1), std::nullopt, "top", 1);
  Account sub = account(sid("AC", 2), top.sid, "sub", 2);
  ASSERT_TRUE(*accounts.create(top));
  ASSERT_TRUE(*accounts.create(sub));

  struct Case {
    const char* why;
    Account account;
  };
  std::vector<Case> cases;
  cases.push_back({"upper-case hex", account("AC0123456789ABCDEF0123456789ABCDEF", {}, "x", 1)});
  cases.push_back({"short sid", account("AC123", {}, "x", 1)});
  cases.push_back({"wrong prefix", account(sid("PN", 9), {}, "x", 1)});
  Account bad_status = account(sid("AC", 9), {}, "x", 1);
  bad_status.status = "deleted";
  cases.push_back({"unknown status", bad_status});
  cases.push_back({"missing parent", account(sid("AC", 9), sid("AC", 77), "x", 1)});
  cases.push_back({"parent is a subaccount", account(sid("AC", 9), sub.sid, "x", 1)});
  for (const Case& c : cases) {
    auto r = accounts.create(c.account);
    ASSERT_FALSE(r) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
    EXPECT_EQ(r.error().reason.rfind("store: ", 0), 0u) << r.error().reason;
  }
  EXPECT_FALSE(*accounts.find(sid("AC", 9)));
  EXPECT_EQ(*accounts.countFamily(top.sid, {}), 2);
}

TEST_P(AccountsTest, FamilyListingCountFiltersAndPaging) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  const std::string owner = sid("AC", 10), other = sid("AC", 20);
  ASSERT_TRUE(*accounts.create(account(owner, std::nullopt, "Owner", 100)));
  ASSERT_TRUE(*accounts.create(account(other, std::nullopt, "Other", 50)));
  // Created out of order; two with the same created_at are ordered by SID.
  Account late = account(sid("AC", 13), owner, "Team", 300);
  Account tie_b = account(sid("AC", 12), owner, "Team", 200);
  Account tie_a = account(sid("AC", 11), owner, "Solo", 200);
  tie_a.status = "suspended";
  late.status = "suspended";
  for (const Account& a : {late, tie_b, tie_a}) ASSERT_TRUE(*accounts.create(a));
  ASSERT_TRUE(*accounts.create(account(sid("AC", 21), other, "Team", 150)));

  auto all = accounts.listFamily(owner, {}, 0, 50);
  ASSERT_TRUE(all) << all.error().reason;
  EXPECT_EQ(sids(*all), (std::vector<std::string>{owner, tie_a.sid, tie_b.sid, late.sid}));
  EXPECT_EQ((*all)[1], tie_a);
  EXPECT_EQ(*accounts.countFamily(owner, {}), 4);

  auto page = accounts.listFamily(owner, {}, 1, 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(sids(*page), (std::vector<std::string>{tie_a.sid, tie_b.sid}));
  page = accounts.listFamily(owner, {}, 3, 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(sids(*page), (std::vector<std::string>{late.sid}));
  EXPECT_TRUE(accounts.listFamily(owner, {}, 4, 2)->empty());
  EXPECT_TRUE(accounts.listFamily(owner, {}, 0, 0)->empty());

  AccountFilter team{.friendly_name = "Team"};
  EXPECT_EQ(sids(*accounts.listFamily(owner, team, 0, 50)),
            (std::vector<std::string>{tie_b.sid, late.sid}));
  EXPECT_EQ(*accounts.countFamily(owner, team), 2);
  AccountFilter suspended{.status = "suspended"};
  EXPECT_EQ(sids(*accounts.listFamily(owner, suspended, 0, 50)),
            (std::vector<std::string>{tie_a.sid, late.sid}));
  EXPECT_EQ(*accounts.countFamily(owner, suspended), 2);
  AccountFilter both{.friendly_name = "Team", .status = "suspended"};
  EXPECT_EQ(sids(*accounts.listFamily(owner, both, 0, 50)), (std::vector<std::string>{late.sid}));
  EXPECT_EQ(*accounts.countFamily(owner, both), 1);
  EXPECT_EQ(*accounts.countFamily(owner, {.friendly_name = "team"}), 0);  // exact

  // The other family, a subaccount's own family, and nobody's.
  EXPECT_EQ(sids(*accounts.listFamily(other, {}, 0, 50)),
            (std::vector<std::string>{other, sid("AC", 21)}));
  EXPECT_EQ(sids(*accounts.listFamily(late.sid, {}, 0, 50)), (std::vector<std::string>{late.sid}));
  EXPECT_EQ(*accounts.countFamily(late.sid, {}), 1);
  EXPECT_TRUE(accounts.listFamily(sid("AC", 99), {}, 0, 50)->empty());
  EXPECT_EQ(*accounts.countFamily(sid("AC", 99), {}), 0);

  for (auto [offset, limit] :
       {std::pair<int64_t, int64_t>{-1, 10}, std::pair<int64_t, int64_t>{0, -1}}) {
    auto bad = accounts.listFamily(owner, {}, offset, limit);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_P(AccountsTest, UpdateReturnsTheNewRowAndNulloptForUnknown) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  Account a = account(sid("AC", 1), std::nullopt, "Before", 100);
  a.balance_millicents = 42;
  ASSERT_TRUE(*accounts.create(a));

  auto updated = accounts.update(a.sid, {.friendly_name = "After", .updated_at = 200});
  ASSERT_TRUE(updated) << updated.error().reason;
  ASSERT_TRUE(*updated);
  Account want = a;
  want.friendly_name = "After";
  want.updated_at = 200;
  EXPECT_EQ(**updated, want);
  EXPECT_EQ(**accounts.find(a.sid), want);

  updated = accounts.update(
      a.sid, {.status = "closed", .auth_token_sealed = "sealed-rotated", .updated_at = 300});
  ASSERT_TRUE(updated && *updated);
  want.status = "closed";
  want.auth_token_sealed = "sealed-rotated";
  want.updated_at = 300;
  EXPECT_EQ(**updated, want);

  auto unknown = accounts.update(sid("AC", 2), {.friendly_name = "x", .updated_at = 1});
  ASSERT_TRUE(unknown) << unknown.error().reason;
  EXPECT_FALSE(*unknown);
  EXPECT_FALSE(*accounts.find(sid("AC", 2)));

  auto bad = accounts.update(a.sid, {.status = "gone", .updated_at = 400});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(**accounts.find(a.sid), want);

  // unless_closed: a closed account is not reopened, whatever the caller believed.
  auto reopened =
      accounts.update(a.sid, {.status = "active", .updated_at = 500, .unless_closed = true});
  ASSERT_TRUE(reopened) << reopened.error().reason;
  EXPECT_FALSE(*reopened);
  EXPECT_EQ(**accounts.find(a.sid), want);
  Account open = account(sid("AC", 3), std::nullopt, "Open", 100);
  ASSERT_TRUE(*accounts.create(open));
  auto suspended =
      accounts.update(open.sid, {.status = "suspended", .updated_at = 600, .unless_closed = true});
  ASSERT_TRUE(suspended && *suspended);
  EXPECT_EQ((*suspended)->status, "suspended");
}

TEST_P(AccountsTest, SecondaryTokenIsSetPromotedAndDeleted) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  Account a = account(sid("AC", 1), std::nullopt, "A", 100);
  ASSERT_TRUE(*accounts.create(a));
  EXPECT_EQ((*accounts.find(a.sid))->auth_token_secondary_sealed, "");
  // Nothing to promote yet.
  auto none = accounts.promoteSecondaryToken(a.sid, 150);
  ASSERT_TRUE(none) << none.error().reason;
  EXPECT_FALSE(*none);
  EXPECT_EQ(**accounts.find(a.sid), a);

  auto set = accounts.update(a.sid, {.auth_token_secondary_sealed = "sealed-2", .updated_at = 200});
  ASSERT_TRUE(set && *set);
  EXPECT_EQ((*set)->auth_token_secondary_sealed, "sealed-2");
  EXPECT_EQ((*set)->auth_token_sealed, a.auth_token_sealed);
  // An update of other fields keeps it.
  ASSERT_TRUE(*accounts.update(a.sid, {.friendly_name = "B", .updated_at = 210}));
  EXPECT_EQ((*accounts.find(a.sid))->auth_token_secondary_sealed, "sealed-2");

  auto promoted = accounts.promoteSecondaryToken(a.sid, 300);
  ASSERT_TRUE(promoted) << promoted.error().reason;
  ASSERT_TRUE(*promoted);
  EXPECT_EQ((*promoted)->auth_token_sealed, "sealed-2");
  EXPECT_EQ((*promoted)->auth_token_secondary_sealed, "");
  EXPECT_EQ((*promoted)->updated_at, 300);
  EXPECT_EQ(**accounts.find(a.sid), **promoted);
  EXPECT_FALSE(*accounts.promoteSecondaryToken(a.sid, 400));  // used up
  EXPECT_FALSE(*accounts.promoteSecondaryToken(sid("AC", 9), 400));

  ASSERT_TRUE(
      *accounts.update(a.sid, {.auth_token_secondary_sealed = "sealed-3", .updated_at = 500}));
  auto dropped = accounts.update(a.sid, {.auth_token_secondary_sealed = "", .updated_at = 600});
  ASSERT_TRUE(dropped && *dropped);
  EXPECT_EQ((*dropped)->auth_token_secondary_sealed, "");
  EXPECT_EQ((*dropped)->auth_token_sealed, "sealed-2");
}

TEST_P(AccountsTest, Migration12GivesExistingAccountsNoSecondaryToken) {
  {
    auto db = Database::open(url_);
    ASSERT_TRUE(db) << db.error().reason;
    std::vector<Migration> v11(builtinMigrations().begin(), builtinMigrations().begin() + 11);
    ASSERT_EQ(v11.back().version, 11);
    ASSERT_TRUE(migrate(**db, v11, 1));
    auto a = (*db)->exec(
        "INSERT INTO accounts (sid, parent_sid, friendly_name, status, auth_token_sealed,"
        " balance_millicents, currency, created_at, updated_at)"
        " VALUES (?, NULL, 'old', 'active', 'sealed', 0, 'USD', 1, 1)",
        {sid("AC", 1)});
    ASSERT_TRUE(a) << a.error().reason;
  }
  auto s = openStore();
  ASSERT_TRUE(s);
  auto found = s->accounts().find(sid("AC", 1));
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->auth_token_sealed, "sealed");
  EXPECT_EQ((*found)->auth_token_secondary_sealed, "");
}

TEST_P(AccountsTest, AddToBalanceArithmetic) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  Account a = account(sid("AC", 1), std::nullopt, "Payer", 100);
  a.balance_millicents = 1000;
  ASSERT_TRUE(*accounts.create(a));

  auto b = accounts.addToBalance(a.sid, 2500, 200);
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(3500));
  b = accounts.addToBalance(a.sid, -5000, 300);
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(-1500));
  b = accounts.addToBalance(a.sid, 0, 400);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, std::optional<int64_t>(-1500));
  auto found = accounts.find(a.sid);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->balance_millicents, -1500);
  EXPECT_EQ((*found)->updated_at, 400);

  auto unknown = accounts.addToBalance(sid("AC", 2), 10, 500);
  ASSERT_TRUE(unknown) << unknown.error().reason;
  EXPECT_EQ(*unknown, std::nullopt);

  // Up to the limits exactly, and not one past them: the balance is left as it was.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  b = accounts.addToBalance(a.sid, 1500, 550);
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(0));
  b = accounts.addToBalance(a.sid, kMax, 600);
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(kMax));
  auto over = accounts.addToBalance(a.sid, 1, 700);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*accounts.find(a.sid))->balance_millicents, kMax);
  EXPECT_EQ((*accounts.find(a.sid))->updated_at, 600);
  b = accounts.addToBalance(a.sid, kMin, 800);  // kMax + kMin == -1
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(-1));
  b = accounts.addToBalance(a.sid, kMin + 1, 900);
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_EQ(*b, std::optional<int64_t>(kMin));
  over = accounts.addToBalance(a.sid, -1, 1000);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*accounts.find(a.sid))->balance_millicents, kMin);
}

TEST_P(AccountsTest, SqlShapedFriendlyNameIsData) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& accounts = s->accounts();
  const std::string evil = "x'); DROP TABLE accounts;--";
  Account a = account(sid("AC", 1), std::nullopt, evil, 1);
  a.auth_token_sealed = "' OR '1'='1";
  ASSERT_TRUE(*accounts.create(a));
  ASSERT_TRUE(*accounts.create(account(sid("AC", 2), a.sid, "plain", 2)));
  auto found = accounts.find(a.sid);
  ASSERT_TRUE(found && *found) << (found ? "" : found.error().reason);
  EXPECT_EQ(**found, a);
  EXPECT_EQ(sids(*accounts.listFamily(a.sid, {.friendly_name = evil}, 0, 10)),
            (std::vector<std::string>{a.sid}));
  EXPECT_EQ(*accounts.countFamily(a.sid, {.friendly_name = "' OR '1'='1"}), 0);
  EXPECT_EQ(*accounts.countFamily(a.sid, {}), 2);
  EXPECT_FALSE(*accounts.find("' OR '1'='1"));
}

// Migration 7's references hold for SQL that bypasses the repositories, on both backends.
TEST_P(AccountsTest, SchemaRefusesRowsThatBreakTheReferences) {
  auto s = openStore();
  ASSERT_TRUE(s);
  const std::string owner = sid("AC", 1), user = sid("US", 1);
  ASSERT_TRUE(*s->accounts().create(account(owner, std::nullopt, "owner", 1)));
  ASSERT_TRUE(*s->accounts().create(account(sid("AC", 2), std::nullopt, "other", 1)));
  ASSERT_TRUE(*s->apiAccess().createUser({user, owner, "u@example.com", "admin", 1, 1}));
  PhoneNumber n;
  n.sid = sid("PN", 1);
  n.account_sid = owner;
  n.phone_number = "+14155550100";
  ASSERT_TRUE(*s->phoneNumbers().create(n));

  Database& db = s->database();
  const Value missing = sid("AC", 9);
  struct Case {
    const char* why;
    std::string sql;
    Params params;
  };
  std::vector<Case> cases = {
      {"subaccount of a missing parent",
       "INSERT INTO accounts (sid, parent_sid, friendly_name, status, auth_token_sealed,"
       " balance_millicents, currency, created_at, updated_at)"
       " VALUES (?, ?, '', 'active', '', 0, 'USD', 1, 1)",
       {sid("AC", 3), missing}},
      {"unknown status",
       "INSERT INTO accounts (sid, friendly_name, status, auth_token_sealed,"
       " balance_millicents, currency, created_at, updated_at)"
       " VALUES (?, '', 'gone', '', 0, 'USD', 1, 1)",
       {sid("AC", 4)}},
      {"user of a missing account",
       "INSERT INTO users (sid, account_sid, email, role, created_at, updated_at)"
       " VALUES (?, ?, 'x@example.com', 'admin', 1, 1)",
       {sid("US", 2), missing}},
      {"key of a missing account",
       "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_hash, role, created_at,"
       " updated_at) VALUES (?, ?, '', '', 'admin', 1, 1)",
       {sid("SK", 1), missing}},
      {"key of another account's user",
       "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_hash, role, user_sid,"
       " created_at, updated_at) VALUES (?, ?, '', '', 'admin', ?, 1, 1)",
       {sid("SK", 2), sid("AC", 2), user}},
      {"number of a missing account",
       "UPDATE phone_numbers SET account_sid = ? WHERE sid = ?",
       {missing, n.sid}},
      {"a capability that is not 0 or 1",
       "UPDATE phone_numbers SET sms_capable = 2 WHERE sid = ?",
       {n.sid}},
      {"an account that still owns rows", "DELETE FROM accounts WHERE sid = ?", {owner}},
  };
  for (const Case& c : cases) {
    auto r = db.exec(c.sql, c.params);
    EXPECT_FALSE(r) << c.why;
  }
  EXPECT_EQ(**s->phoneNumbers().find(owner, n.sid), n);
  EXPECT_TRUE(*s->accounts().find(owner));
}

SB_INSTANTIATE_BACKENDS(AccountsTest);

}  // namespace
}  // namespace store
