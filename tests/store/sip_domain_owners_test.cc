// Issue 23, finding 1: every SIP domain name has one owner (the operator or one account); only
// the owner provisions on it and only the owner's credentials authenticate.
#include "store/sip_domain_owners.h"

#include "backends.h"
#include "store/accounts.h"
#include "store/sip_auth_lists.h"
#include "store/sip_credentials.h"

namespace store {

// For gtest, found by argument-dependent lookup.
void PrintTo(const SipDomainStray& s, std::ostream* os) {
  *os << "{" << s.domain << (s.owned ? " owned by " + s.owner.value_or("the operator") : " unowned")
      << ", held by " << s.holder.value_or("the operator") << ": " << s.credentials
      << " credentials, SIP Domain " << s.sip_domain.value_or("none") << "}";
}

namespace {

using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);
const std::string kMd5 = "0123456789abcdef0123456789abcdef";
const std::optional<std::string> kOperator;  // the operator owns, or holds, a name

ApiSipDomain apiDomain(int n, const std::string& account, const std::string& name) {
  ApiSipDomain d;
  d.sid = sid("SD", n);
  d.account_sid = account;
  d.domain_name = name;
  d.friendly_name = name;
  d.created_at = d.updated_at = 100 + n;
  return d;
}

SipAuthLists::Deriver md5Deriver() {
  return [](std::string_view domain, std::string_view,
            const ListCredential& c) -> common::Result<SipCredential> {
    return SipCredential{std::string(domain), c.username, kMd5, "", std::nullopt, 0};
  };
}

// The owner of a name: nullopt when nobody owns it, else the account (nullopt: the operator).
using Owner = std::optional<std::optional<std::string>>;
Owner ownedBy(const std::optional<std::string>& account) {
  return Owner(std::in_place, account);
}
const Owner kNoOwner;

class SipDomainOwnersTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    s_ = openWithAccounts({kA, kB});
    ASSERT_TRUE(s_);
  }
  SipDomainOwners& owners() { return s_->sipDomainOwners(); }
  Owner ownerOf(const std::string& name) {
    auto o = owners().find(name);
    EXPECT_TRUE(o) << o.error().reason;
    if (!o || !*o) return kNoOwner;
    return ownedBy((*o)->account_sid);
  }
  void putCredential(const std::string& domain, const std::string& user,
                     std::optional<std::string> account) {
    ASSERT_TRUE(s_->sipCredentials().upsert({domain, user, kMd5, "", std::move(account), 1}));
  }
  std::unique_ptr<Store> s_;
};

TEST_P(SipDomainOwnersTest, AClaimHoldsUntilReleasedAndAssignOverrides) {
  EXPECT_EQ(*owners().claim("B.Example.com", kB, "admin", 10), ClaimOutcome::kClaimed);
  EXPECT_EQ(*owners().claim("b.example.com", kB, "api", 11), ClaimOutcome::kOwned);
  EXPECT_EQ(*owners().claim("b.example.com", kA, "api", 12), ClaimOutcome::kTaken);
  EXPECT_EQ(*owners().claim("b.example.com", kOperator, "admin", 13), ClaimOutcome::kTaken);
  EXPECT_EQ(*owners().claim("op.example.com", kOperator, "config", 14), ClaimOutcome::kClaimed);
  EXPECT_EQ(*owners().claim("op.example.com", kA, "api", 15), ClaimOutcome::kTaken);
  EXPECT_EQ(*owners().claim("op.example.com", kOperator, "admin", 16), ClaimOutcome::kOwned);

  auto b = owners().find("B.EXAMPLE.COM");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(**b, (SipDomainOwner{"b.example.com", kB, 10, "admin"}));  // the first claim stays
  auto all = owners().list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].domain, "b.example.com");
  EXPECT_EQ((*all)[1], (SipDomainOwner{"op.example.com", kOperator, 14, "config"}));

  auto previous = owners().assign("b.example.com", kA, "admin", 20);
  ASSERT_TRUE(previous) << previous.error().reason;
  ASSERT_TRUE(*previous);
  EXPECT_EQ((*previous)->account_sid, kB);
  EXPECT_EQ(ownerOf("b.example.com"), ownedBy(kA));
  auto fresh = owners().assign("new.example.com", kOperator, "admin", 21);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(*fresh);
  EXPECT_EQ(ownerOf("new.example.com"), ownedBy(kOperator));

  EXPECT_TRUE(*owners().release("b.example.com"));
  EXPECT_FALSE(*owners().release("b.example.com"));
  EXPECT_EQ(ownerOf("b.example.com"), kNoOwner);
  EXPECT_EQ(*owners().claim("b.example.com", kA, "api", 30), ClaimOutcome::kClaimed);

  EXPECT_FALSE(owners().claim("", kA, "api", 1));
  EXPECT_FALSE(owners().claim("x.example.com", kA, "somebody", 1));
  EXPECT_FALSE(owners().assign("x.example.com", kA, "", 1));
}

TEST_P(SipDomainOwnersTest, OnlyTheOwnersCredentialsAreFoundForTheEdge) {
  putCredential("op.example.com", "alice", kOperator);
  putCredential("op.example.com", "eve", kA);
  putCredential("b.example.com", "bob", kB);
  putCredential("b.example.com", "eve", kA);
  putCredential("b.example.com", "oscar", kOperator);
  putCredential("nobody.example.com", "carol", kOperator);
  ASSERT_TRUE(owners().claim("op.example.com", kOperator, "config", 1));
  ASSERT_TRUE(owners().claim("b.example.com", kB, "admin", 1));
  auto& creds = s_->sipCredentials();
  auto owned = [&](const char* domain, const char* user) {
    auto found = creds.findOwned(domain, user);
    EXPECT_TRUE(found) << found.error().reason;
    return found && *found;
  };
  EXPECT_TRUE(owned("OP.example.com", "alice"));
  EXPECT_FALSE(owned("op.example.com", "eve"));
  EXPECT_TRUE(owned("b.example.com", "bob"));
  EXPECT_FALSE(owned("b.example.com", "eve"));
  EXPECT_FALSE(owned("b.example.com", "oscar"));       // the operator's row on B's name
  EXPECT_FALSE(owned("nobody.example.com", "carol"));  // no owner: nobody passes
  EXPECT_TRUE(*creds.find("op.example.com", "eve"));   // still stored, for the operator to see
  auto found = creds.findOwned("b.example.com", "bob");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->account_sid, std::optional<std::string>(kB));

  // Reassigned, the name's credentials follow its new owner at once.
  ASSERT_TRUE(owners().assign("b.example.com", kA, "admin", 2));
  EXPECT_FALSE(owned("b.example.com", "bob"));
  EXPECT_TRUE(owned("b.example.com", "eve"));
}

// Issue 23, finding 5 at the edge: a suspended or closed account logs nobody in, nor does a
// subaccount whose parent is not active; reopened, its users log in again.
TEST_P(SipDomainOwnersTest, CredentialsOfAnInactiveAccountAreNotFoundForTheEdge) {
  const std::string sub = sid("AC", 3);
  Account a;
  a.sid = sub;
  a.parent_sid = kA;
  a.friendly_name = "sub";
  a.auth_token_sealed = "sealed";
  ASSERT_TRUE(s_->accounts().create(a));
  putCredential("a.example.com", "alice", kA);
  putCredential("s.example.com", "sam", sub);
  putCredential("op.example.com", "oscar", kOperator);
  ASSERT_TRUE(owners().claim("a.example.com", kA, "admin", 1));
  ASSERT_TRUE(owners().claim("s.example.com", sub, "admin", 1));
  ASSERT_TRUE(owners().claim("op.example.com", kOperator, "config", 1));
  auto owned = [&](const char* domain, const char* user) {
    auto found = s_->sipCredentials().findOwned(domain, user);
    EXPECT_TRUE(found) << found.error().reason;
    return found && *found;
  };
  auto setStatus = [&](const std::string& account, const char* status) {
    AccountUpdate u;
    u.status = status;
    u.updated_at = 2;
    auto r = s_->accounts().update(account, u);
    ASSERT_TRUE(r && *r);
  };
  EXPECT_TRUE(owned("a.example.com", "alice"));
  EXPECT_TRUE(owned("s.example.com", "sam"));
  setStatus(kA, "suspended");
  EXPECT_FALSE(owned("a.example.com", "alice"));
  EXPECT_FALSE(owned("s.example.com", "sam"));    // under a suspended parent
  EXPECT_TRUE(owned("op.example.com", "oscar"));  // the operator's users are no account's
  setStatus(kA, "active");
  EXPECT_TRUE(owned("a.example.com", "alice"));
  EXPECT_TRUE(owned("s.example.com", "sam"));
  setStatus(sub, "closed");
  EXPECT_FALSE(owned("s.example.com", "sam"));
  EXPECT_TRUE(owned("a.example.com", "alice"));
}

TEST_P(SipDomainOwnersTest, AnApiSipDomainNeedsANameNobodyElseOwns) {
  auto& api = s_->sipAuthLists();
  ASSERT_TRUE(owners().claim("op.example.com", kOperator, "config", 1));
  ASSERT_TRUE(owners().claim("b.example.com", kB, "admin", 1));

  EXPECT_EQ(*api.createDomain(apiDomain(1, kA, "op.example.com")), SipAuthOutcome::kTaken);
  EXPECT_EQ(*api.createDomain(apiDomain(2, kA, "B.example.com")), SipAuthOutcome::kTaken);
  EXPECT_FALSE(*s_->sipDomains().find("op.example.com"));  // nothing left behind
  EXPECT_FALSE(*api.findDomain(kA, sid("SD", 2)));
  EXPECT_EQ(ownerOf("b.example.com"), ownedBy(kB));

  // B may put a SIP Domain on its own name; A claims a free one.
  EXPECT_EQ(*api.createDomain(apiDomain(3, kB, "b.example.com")), SipAuthOutcome::kDone);
  EXPECT_EQ(*api.createDomain(apiDomain(4, kA, "a.example.com")), SipAuthOutcome::kDone);
  auto a = owners().find("a.example.com");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ(**a, (SipDomainOwner{"a.example.com", kA, 104, "api"}));

  // A rename onto someone else's name is refused and changes nothing.
  ApiSipDomain renamed = apiDomain(4, kA, "op.example.com");
  EXPECT_EQ(*api.updateDomain(renamed, md5Deriver()), SipAuthOutcome::kTaken);
  EXPECT_EQ((*api.findDomain(kA, sid("SD", 4)))->domain_name, "a.example.com");
  EXPECT_EQ(ownerOf("a.example.com"), ownedBy(kA));

  // Renamed onto a free name, the old "api" claim ends; deleting the domain ends the new one.
  renamed.domain_name = "a2.example.com";
  EXPECT_EQ(*api.updateDomain(renamed, md5Deriver()), SipAuthOutcome::kDone);
  EXPECT_EQ(ownerOf("a.example.com"), kNoOwner);
  EXPECT_EQ(ownerOf("a2.example.com"), ownedBy(kA));
  EXPECT_TRUE(*api.removeDomain(kA, sid("SD", 4)));
  EXPECT_EQ(ownerOf("a2.example.com"), kNoOwner);
  EXPECT_EQ(*api.createDomain(apiDomain(5, kB, "a2.example.com")), SipAuthOutcome::kDone);

  // B's SIP Domain on a name claimed by the operator's tools keeps the claim when removed.
  EXPECT_TRUE(*api.removeDomain(kB, sid("SD", 3)));
  EXPECT_EQ(ownerOf("b.example.com"), ownedBy(kB));
}

TEST_P(SipDomainOwnersTest, AClaimIsUndoneWhenTheEdgeRowIsTaken) {
  // A name served by an edge row but owned by nobody (as an operator's upsert left it).
  ASSERT_TRUE(s_->sipDomains().upsert({"edge.example.com", "", SipDomainMode::kProxy, {}}));
  EXPECT_EQ(*s_->sipAuthLists().createDomain(apiDomain(1, kA, "edge.example.com")),
            SipAuthOutcome::kTaken);
  EXPECT_EQ(ownerOf("edge.example.com"), kNoOwner);
}

TEST_P(SipDomainOwnersTest, StraysAreWhatSitsOnANameWithoutBeingItsOwners) {
  putCredential("op.example.com", "alice", kOperator);
  putCredential("op.example.com", "eve", kA);
  putCredential("op.example.com", "eve2", kA);
  putCredential("b.example.com", "bob", kB);
  putCredential("nobody.example.com", "carol", kOperator);
  ASSERT_TRUE(owners().claim("op.example.com", kOperator, "config", 1));
  ASSERT_TRUE(owners().claim("b.example.com", kB, "admin", 1));
  ASSERT_TRUE(owners().claim("a.example.com", kA, "admin", 1));
  ASSERT_TRUE(s_->sipAuthLists().createDomain(apiDomain(1, kA, "a.example.com")));
  ASSERT_TRUE(owners().assign("a.example.com", kB, "admin", 2));  // A's SD now on B's name

  auto strays = owners().strays();
  ASSERT_TRUE(strays) << strays.error().reason;
  std::vector<SipDomainStray> want = {
      {"a.example.com", true, kB, kA, 0, sid("SD", 1)},
      {"nobody.example.com", false, std::nullopt, kOperator, 1, std::nullopt},
      {"op.example.com", true, kOperator, kA, 2, std::nullopt},
  };
  EXPECT_EQ(*strays, want);
}

SB_INSTANTIATE_BACKENDS(SipDomainOwnersTest);

// A store written by the previous version (schema 9), squatted as issue 23 found it: the
// operator's users on op.example.com (also in sip.domains) and B's on b.example.com, A's API
// SIP Domains on both names with eve derived into them, and A's own a.example.com.
class SipDomainOwnersMigrationTest : public BackendTest {};

TEST_P(SipDomainOwnersMigrationTest, TheOperatorsProvisioningDecidesWhoOwnsAnOlderStore) {
  {
    auto db = Database::open(url_);
    ASSERT_TRUE(db) << db.error().reason;
    std::vector<Migration> nine(builtinMigrations().begin(), builtinMigrations().begin() + 9);
    ASSERT_TRUE(migrate(**db, nine, 1));
    auto st = (*db)->transaction([&](Tx& tx) -> common::Status {
      for (const std::string& account : {kA, kB}) {
        auto n = tx.exec(
            "INSERT INTO accounts (sid, parent_sid, friendly_name, status, auth_token_sealed,"
            " balance_millicents, currency, created_at, updated_at)"
            " VALUES (?, NULL, 'x', 'active', 'sealed', 0, 'USD', 1, 1)",
            {account});
        if (!n) return n.error();
      }
      struct Sd {
        int n;
        std::string account, name;
      };
      for (const Sd& d :
           {Sd{1, kA, "op.example.com"}, Sd{2, kA, "b.example.com"}, Sd{3, kA, "a.example.com"}}) {
        auto e = tx.exec(
            "INSERT INTO sip_domains (domain, realm, mode, account_sid)"
            " VALUES (?, ?, 'proxy', ?)",
            {d.name, d.name, d.account});
        if (!e) return e.error();
        auto n = tx.exec(
            "INSERT INTO api_sip_domains (sid, account_sid, domain_name, friendly_name,"
            " voice_url, voice_method, voice_fallback_url, voice_fallback_method,"
            " voice_status_callback_url, voice_status_callback_method, sip_registration,"
            " created_at, updated_at)"
            " VALUES (?, ?, ?, 'x', '', 'POST', '', 'POST', '', 'POST', 0, ?, ?)",
            {sid("SD", d.n), d.account, d.name, int64_t{50 + d.n}, int64_t{50 + d.n}});
        if (!n) return n.error();
      }
      struct Cred {
        std::string domain, user;
        std::optional<std::string> account, derived_from;
      };
      for (const Cred& c :
           {Cred{"op.example.com", "alice", kOperator, {}},
            Cred{"op.example.com", "eve", kA, sid("CR", 1)}, Cred{"b.example.com", "bob", kB, {}},
            Cred{"b.example.com", "eve", kA, sid("CR", 1)},
            Cred{"a.example.com", "eve", kA, sid("CR", 1)}, Cred{"mixed.example.com", "x", kA, {}},
            Cred{"mixed.example.com", "y", kB, {}}}) {
        auto n = tx.exec(
            "INSERT INTO sip_credentials (domain, username, ha1_md5, ha1_sha256, account_sid,"
            " created_at, derived_from) VALUES (?, ?, ?, '', ?, 7, ?)",
            {c.domain, c.user, kMd5, nullable(c.account), nullable(c.derived_from)});
        if (!n) return n.error();
      }
      return {};
    });
    ASSERT_TRUE(st) << st.error().reason;
  }
  auto s = openStore();
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->migrations().applied.empty());  // 10, then the later ones
  EXPECT_EQ(s->migrations().applied.front(), 10);
  auto all = s->sipDomainOwners().list();
  ASSERT_TRUE(all) << all.error().reason;
  std::vector<SipDomainOwner> want = {
      {"a.example.com", kA, 53, "api"},
      {"b.example.com", kB, 7, "admin"},
      {"mixed.example.com", kOperator, 7, "admin"},  // two accounts' users: the operator's
      {"op.example.com", kOperator, 7, "admin"},
  };
  EXPECT_EQ(*all, want);
  auto& creds = s->sipCredentials();
  EXPECT_TRUE(*creds.findOwned("op.example.com", "alice"));
  EXPECT_FALSE(*creds.findOwned("op.example.com", "eve"));
  EXPECT_TRUE(*creds.findOwned("b.example.com", "bob"));
  EXPECT_FALSE(*creds.findOwned("b.example.com", "eve"));
  EXPECT_TRUE(*creds.findOwned("a.example.com", "eve"));
}

SB_INSTANTIATE_BACKENDS(SipDomainOwnersMigrationTest);

}  // namespace
}  // namespace store
