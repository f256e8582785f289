#include "store/sip_auth_lists.h"

#include <map>

#include "backends.h"
#include "sip/auth.h"

namespace store {
namespace {

using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);

// Stands in for the api's master key: the "sealed" password is the password behind a tag,
// and the deriver refuses anything else (as open() refuses a foreign seal).
std::string seal(const std::string& password) {
  return "test-seal:" + password;
}

std::string ha1(sip::DigestAlgorithm alg, const std::string& user, const std::string& realm,
                const std::string& password) {
  return sip::computeHa1(alg, user, realm, password);
}

SipAuthLists::Deriver deriver(int* calls = nullptr) {
  return [calls](std::string_view domain, std::string_view realm,
                 const ListCredential& c) -> common::Result<SipCredential> {
    if (calls) ++*calls;
    constexpr std::string_view kTag = "test-seal:";
    if (c.password_sealed.compare(0, kTag.size(), kTag) != 0)
      return common::makeError(common::ErrorCode::kInvalidArgument, "cannot open " + c.sid);
    std::string password = c.password_sealed.substr(kTag.size());
    SipCredential out;
    out.domain = std::string(domain);
    out.username = c.username;
    out.ha1_md5 = sip::computeHa1(sip::DigestAlgorithm::kMd5, c.username, realm, password);
    out.ha1_sha256 = sip::computeHa1(sip::DigestAlgorithm::kSha256, c.username, realm, password);
    return out;
  };
}

SipAuthLists::Deriver failing() {
  return [](std::string_view, std::string_view,
            const ListCredential& c) -> common::Result<SipCredential> {
    return common::makeError(common::ErrorCode::kInternal, "deriver refused " + c.sid);
  };
}

ApiSipDomain domain(int n, const std::string& account, const std::string& name,
                    int64_t created_at = 100) {
  ApiSipDomain d;
  d.sid = sid("SD", n);
  d.account_sid = account;
  d.domain_name = name;
  d.friendly_name = "domain " + std::to_string(n);
  d.created_at = d.updated_at = created_at;
  return d;
}

CredentialList list(int n, const std::string& account, int64_t created_at = 100) {
  return CredentialList{sid("CL", n), account, "list " + std::to_string(n), created_at, created_at};
}

ListCredential credential(int n, const std::string& account, const std::string& list_sid,
                          const std::string& user, const std::string& password,
                          int64_t created_at = 100) {
  return ListCredential{sid("CR", n),   account,    list_sid,  user,
                        seal(password), created_at, created_at};
}

class SipAuthListsTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    s_ = openWithAccounts({kA, kB});
    ASSERT_TRUE(s_);
  }

  SipAuthLists& repo() { return s_->sipAuthLists(); }

  // username -> (ha1_md5, ha1_sha256, derived_from) of a domain's sip_credentials rows.
  struct Stored {
    std::string md5, sha256;
    std::optional<std::string> derived_from, account_sid;
  };
  std::map<std::string, Stored> rows(const std::string& domain_name) {
    auto r = s_->database().query(
        "SELECT username, ha1_md5, ha1_sha256, derived_from, account_sid FROM sip_credentials"
        " WHERE domain = ? ORDER BY username",
        {domain_name});
    EXPECT_TRUE(r) << r.error().reason;
    std::map<std::string, Stored> out;
    if (!r) return out;
    for (const Row& row : *r)
      out[row.text(0)] = Stored{row.text(1), row.text(2), row.optionalText(3), row.optionalText(4)};
    return out;
  }

  void expectHashes(const std::string& domain_name, const std::string& user,
                    const std::string& password) {
    auto all = rows(domain_name);
    ASSERT_TRUE(all.count(user)) << user << "@" << domain_name << " has no row";
    EXPECT_EQ(all[user].md5, ha1(sip::DigestAlgorithm::kMd5, user, domain_name, password));
    EXPECT_EQ(all[user].sha256, ha1(sip::DigestAlgorithm::kSha256, user, domain_name, password));
    // And through the repository the edge reads.
    auto found = s_->sipCredentials().find(domain_name, user);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->ha1_md5, ha1(sip::DigestAlgorithm::kMd5, user, domain_name, password));
  }

  std::unique_ptr<Store> s_;
};

TEST_P(SipAuthListsTest, DomainCrudClaimsTheEdgeRow) {
  ApiSipDomain d = domain(1, kA, "Sip.Example.COM");
  d.voice_url = "https://example.com/voice";
  d.voice_method = "GET";
  d.sip_registration = true;
  auto made = repo().createDomain(d);
  ASSERT_TRUE(made) << made.error().reason;
  EXPECT_EQ(*made, SipAuthOutcome::kDone);

  auto found = repo().findDomain(kA, d.sid);
  ASSERT_TRUE(found && *found);
  ApiSipDomain want = d;
  want.domain_name = "sip.example.com";
  EXPECT_EQ(**found, want);
  EXPECT_FALSE(*repo().findDomain(kB, d.sid)) << "another account's domain is not found";

  auto edge = s_->sipDomains().find("sip.example.com");
  ASSERT_TRUE(edge && *edge);
  EXPECT_EQ((*edge)->mode, SipDomainMode::kProxy);
  EXPECT_EQ((*edge)->realm, "sip.example.com");
  EXPECT_EQ((*edge)->account_sid, std::optional<std::string>(kA));

  // Unique across accounts, case-insensitively, and against an operator's domain.
  EXPECT_EQ(*repo().createDomain(domain(2, kB, "SIP.example.com")), SipAuthOutcome::kTaken);
  ASSERT_TRUE(s_->sipDomains().upsert({"edge.example.com", "", SipDomainMode::kProxy, {}}));
  EXPECT_EQ(*repo().createDomain(domain(3, kB, "edge.example.com")), SipAuthOutcome::kTaken);
  ASSERT_EQ(*repo().createDomain(domain(4, kB, "b.example.com", 200)), SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createDomain(domain(5, kB, "c.example.com", 300)), SipAuthOutcome::kDone);

  auto listed = repo().listDomains(kB, 0, 10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].sid, sid("SD", 4));
  auto paged = repo().listDomains(kB, 1, 1);
  ASSERT_TRUE(paged);
  ASSERT_EQ(paged->size(), 1u);
  EXPECT_EQ((*paged)[0].sid, sid("SD", 5));
  EXPECT_EQ(repo().listDomains(kA, 0, 10)->size(), 1u);

  // Update; a rename moves the edge row, and a taken name changes nothing.
  want.friendly_name = "renamed";
  want.domain_name = "new.example.com";
  want.updated_at = 500;
  EXPECT_EQ(*repo().updateDomain(want, deriver()), SipAuthOutcome::kDone);
  EXPECT_EQ(**repo().findDomain(kA, d.sid), want);
  EXPECT_FALSE(*s_->sipDomains().find("sip.example.com"));
  EXPECT_TRUE(*s_->sipDomains().find("new.example.com"));
  ApiSipDomain clash = want;
  clash.domain_name = "b.example.com";
  EXPECT_EQ(*repo().updateDomain(clash, deriver()), SipAuthOutcome::kTaken);
  EXPECT_EQ((**repo().findDomain(kA, d.sid)).domain_name, "new.example.com");
  ApiSipDomain foreign = want;
  foreign.account_sid = kB;
  EXPECT_EQ(*repo().updateDomain(foreign, deriver()), SipAuthOutcome::kNotFound);

  EXPECT_FALSE(*repo().removeDomain(kB, d.sid));
  EXPECT_TRUE(*repo().removeDomain(kA, d.sid));
  EXPECT_FALSE(*repo().findDomain(kA, d.sid));
  EXPECT_FALSE(*s_->sipDomains().find("new.example.com"));
  // The name is free again.
  EXPECT_EQ(*repo().createDomain(domain(6, kB, "new.example.com")), SipAuthOutcome::kDone);

  // Not a host name, or not an SD SID: refused before the database.
  for (const char* bad : {"", "localhost", "10.0.0.1", "-a.example.com", "a..example.com",
                          "a_b.example.com", "a.example.com."}) {
    auto r = repo().createDomain(domain(7, kA, bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, common::ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(isSipDomainName("sip-1.Example.com"));
}

TEST_P(SipAuthListsTest, ListsAndCredentialsAreScopedByAccount) {
  ASSERT_TRUE(repo().createList(list(1, kA)));
  ASSERT_TRUE(repo().createList(list(2, kA, 200)));
  ASSERT_TRUE(repo().createList(list(3, kB)));
  EXPECT_EQ(repo().listLists(kA, 0, 10)->size(), 2u);
  EXPECT_EQ(repo().listLists(kB, 0, 10)->size(), 1u);
  EXPECT_FALSE(*repo().findList(kB, sid("CL", 1)));
  EXPECT_TRUE(*repo().renameList(kA, sid("CL", 1), "office", 300));
  EXPECT_FALSE(*repo().renameList(kB, sid("CL", 1), "theirs", 300));
  EXPECT_EQ((**repo().findList(kA, sid("CL", 1))).friendly_name, "office");

  auto cr = credential(1, kA, sid("CL", 1), "alice", "Secret123456");
  EXPECT_EQ(*repo().createCredential(cr, deriver()), SipAuthOutcome::kDone);
  EXPECT_EQ(**repo().findCredential(kA, sid("CL", 1), cr.sid), cr);
  EXPECT_FALSE(*repo().findCredential(kB, sid("CL", 1), cr.sid));
  EXPECT_FALSE(*repo().findCredential(kA, sid("CL", 2), cr.sid));
  // A username once per list; the same in another list is fine.
  EXPECT_EQ(
      *repo().createCredential(credential(2, kA, sid("CL", 1), "alice", "Other1234567"), deriver()),
      SipAuthOutcome::kTaken);
  EXPECT_EQ(
      *repo().createCredential(credential(3, kA, sid("CL", 2), "alice", "Other1234567"), deriver()),
      SipAuthOutcome::kDone);
  // Into another account's list: not found, nothing written.
  EXPECT_EQ(
      *repo().createCredential(credential(4, kB, sid("CL", 1), "eve", "Other1234567"), deriver()),
      SipAuthOutcome::kNotFound);
  EXPECT_EQ(repo().listCredentials(kA, sid("CL", 1), 0, 10)->size(), 1u);
  EXPECT_EQ(repo().listCredentials(kB, sid("CL", 1), 0, 10)->size(), 0u);

  EXPECT_FALSE(*repo().updatePassword(kB, sid("CL", 1), cr.sid, seal("x"), 1, deriver()));
  EXPECT_TRUE(
      *repo().updatePassword(kA, sid("CL", 1), cr.sid, seal("New123456789"), 400, deriver()));
  auto changed = repo().findCredential(kA, sid("CL", 1), cr.sid);
  EXPECT_EQ((**changed).password_sealed, seal("New123456789"));
  EXPECT_EQ((**changed).updated_at, 400);
  EXPECT_FALSE(*repo().removeCredential(kB, sid("CL", 1), cr.sid, deriver()));
  EXPECT_TRUE(*repo().removeCredential(kA, sid("CL", 1), cr.sid, deriver()));
  EXPECT_FALSE(*repo().findCredential(kA, sid("CL", 1), cr.sid));

  EXPECT_FALSE(*repo().removeList(kB, sid("CL", 2), deriver()));
  EXPECT_TRUE(*repo().removeList(kA, sid("CL", 2), deriver()));
  EXPECT_FALSE(*repo().findList(kA, sid("CL", 2)));
  EXPECT_EQ(repo().listCredentials(kA, sid("CL", 2), 0, 10)->size(), 0u);
}

TEST_P(SipAuthListsTest, MappingsDeriveTheEdgeCredentials) {
  const std::string name = "pbx.example.com";
  ASSERT_EQ(*repo().createDomain(domain(1, kA, name)), SipAuthOutcome::kDone);
  ASSERT_TRUE(repo().createList(list(1, kA)));
  ASSERT_TRUE(repo().createList(list(2, kA)));
  ASSERT_TRUE(repo().createList(list(3, kB)));
  const std::string cl1 = sid("CL", 1), cl2 = sid("CL", 2), sd = sid("SD", 1);
  ASSERT_EQ(*repo().createCredential(credential(1, kA, cl1, "alice", "Alice1234567"), deriver()),
            SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createCredential(credential(2, kA, cl1, "bob", "Bob123456789"), deriver()),
            SipAuthOutcome::kDone);
  EXPECT_TRUE(rows(name).empty()) << "an unmapped list gives the edge nothing";

  // Map: both users appear, with HA1 over the domain's realm.
  EXPECT_EQ(*repo().createMapping(kA, sd, cl1, 150, deriver()), SipAuthOutcome::kDone);
  EXPECT_EQ(*repo().createMapping(kA, sd, cl1, 150, deriver()), SipAuthOutcome::kTaken);
  EXPECT_EQ(*repo().createMapping(kA, sd, sid("CL", 3), 150, deriver()), SipAuthOutcome::kNotFound)
      << "another account's list";
  EXPECT_EQ(*repo().createMapping(kB, sd, sid("CL", 3), 150, deriver()), SipAuthOutcome::kNotFound)
      << "another account's domain";
  auto all = rows(name);
  ASSERT_EQ(all.size(), 2u);
  expectHashes(name, "alice", "Alice1234567");
  expectHashes(name, "bob", "Bob123456789");
  EXPECT_EQ(all["alice"].derived_from, std::optional<std::string>(sid("CR", 1)));
  EXPECT_EQ(all["alice"].account_sid, std::optional<std::string>(kA));

  auto m = repo().findMapping(kA, sd, cl1);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(**m, (DomainListMapping{sd, cl1, kA, "list 1", 150}));
  EXPECT_FALSE(*repo().findMapping(kB, sd, cl1));
  EXPECT_EQ(repo().listMappings(kA, sd, 0, 10)->size(), 1u);
  EXPECT_EQ((**repo().findDomain(kA, sd)).credential_lists, 1);

  // Credentials added, changed and removed: the rows follow.
  ASSERT_EQ(*repo().createCredential(credential(3, kA, cl1, "carol", "Carol1234567"), deriver()),
            SipAuthOutcome::kDone);
  expectHashes(name, "carol", "Carol1234567");
  ASSERT_TRUE(*repo().updatePassword(kA, cl1, sid("CR", 1), seal("Changed12345"), 300, deriver()));
  expectHashes(name, "alice", "Changed12345");
  ASSERT_TRUE(*repo().removeCredential(kA, cl1, sid("CR", 2), deriver()));
  EXPECT_FALSE(rows(name).count("bob"));
  EXPECT_FALSE(*s_->sipCredentials().find(name, "bob"));

  // A second list: a username both hold is the first created credential's.
  ASSERT_EQ(
      *repo().createCredential(credential(4, kA, cl2, "alice", "Second123456", 50), deriver()),
      SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createCredential(credential(5, kA, cl2, "dave", "Dave12345678"), deriver()),
            SipAuthOutcome::kDone);
  EXPECT_FALSE(rows(name).count("dave")) << "list 2 is not mapped yet";
  EXPECT_EQ(*repo().createMapping(kA, sd, cl2, 160, deriver()), SipAuthOutcome::kDone);
  expectHashes(name, "dave", "Dave12345678");
  expectHashes(name, "alice", "Second123456");  // created at 50, before list 1's alice
  EXPECT_EQ(rows(name)["alice"].derived_from, std::optional<std::string>(sid("CR", 4)));

  // Unmapping list 2 brings list 1's alice back and takes dave away.
  EXPECT_FALSE(*repo().removeMapping(kB, sd, cl2, deriver()));
  EXPECT_TRUE(*repo().removeMapping(kA, sd, cl2, deriver()));
  EXPECT_FALSE(*repo().removeMapping(kA, sd, cl2, deriver()));
  expectHashes(name, "alice", "Changed12345");
  EXPECT_FALSE(rows(name).count("dave"));

  // Deleting the list takes its users away.
  ASSERT_TRUE(*repo().removeList(kA, cl1, deriver()));
  EXPECT_TRUE(rows(name).empty());
  EXPECT_EQ(repo().listMappings(kA, sd, 0, 10)->size(), 0u);
}

TEST_P(SipAuthListsTest, TwoDomainsEachWithTheirRealmAndDeletingADomain) {
  ASSERT_EQ(*repo().createDomain(domain(1, kA, "one.example.com")), SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createDomain(domain(2, kA, "two.example.com")), SipAuthOutcome::kDone);
  ASSERT_TRUE(repo().createList(list(1, kA)));
  ASSERT_EQ(
      *repo().createCredential(credential(1, kA, sid("CL", 1), "alice", "Alice1234567"), deriver()),
      SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createMapping(kA, sid("SD", 1), sid("CL", 1), 1, deriver()),
            SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createMapping(kA, sid("SD", 2), sid("CL", 1), 1, deriver()),
            SipAuthOutcome::kDone);
  expectHashes("one.example.com", "alice", "Alice1234567");
  expectHashes("two.example.com", "alice", "Alice1234567");
  EXPECT_NE(rows("one.example.com")["alice"].md5, rows("two.example.com")["alice"].md5)
      << "HA1 covers the realm";

  // One password change updates both domains.
  ASSERT_TRUE(
      *repo().updatePassword(kA, sid("CL", 1), sid("CR", 1), seal("Both12345678"), 2, deriver()));
  expectHashes("one.example.com", "alice", "Both12345678");
  expectHashes("two.example.com", "alice", "Both12345678");

  // Renaming a domain re-derives for the new realm.
  ApiSipDomain d = **repo().findDomain(kA, sid("SD", 2));
  d.domain_name = "three.example.com";
  ASSERT_EQ(*repo().updateDomain(d, deriver()), SipAuthOutcome::kDone);
  EXPECT_TRUE(rows("two.example.com").empty());
  expectHashes("three.example.com", "alice", "Both12345678");

  ASSERT_TRUE(*repo().removeDomain(kA, sid("SD", 1)));
  EXPECT_TRUE(rows("one.example.com").empty());
  expectHashes("three.example.com", "alice", "Both12345678");
  EXPECT_TRUE(*repo().findList(kA, sid("CL", 1))) << "the list outlives the domain";
}

TEST_P(SipAuthListsTest, OperatorRowsAreNeverTouched) {
  const std::string name = "pbx.example.com";
  const std::string admin_md5 = ha1(sip::DigestAlgorithm::kMd5, "alice", name, "operator-pw");
  ASSERT_TRUE(s_->sipCredentials().upsert({name, "alice", admin_md5, "", std::nullopt, 7}));
  ASSERT_TRUE(s_->sipCredentials().upsert(
      {name, "zed", ha1(sip::DigestAlgorithm::kMd5, "zed", name, "z"), "", std::nullopt, 7}));
  ASSERT_EQ(*repo().createDomain(domain(1, kA, name)), SipAuthOutcome::kDone);
  ASSERT_TRUE(repo().createList(list(1, kA)));
  const std::string cl = sid("CL", 1), sd = sid("SD", 1);
  ASSERT_EQ(*repo().createCredential(credential(1, kA, cl, "alice", "Alice1234567"), deriver()),
            SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createCredential(credential(2, kA, cl, "bob", "Bob123456789"), deriver()),
            SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createMapping(kA, sd, cl, 1, deriver()), SipAuthOutcome::kDone);

  auto all = rows(name);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all["alice"].md5, admin_md5) << "the operator's alice wins";
  EXPECT_FALSE(all["alice"].derived_from);
  EXPECT_FALSE(all["alice"].account_sid);
  expectHashes(name, "bob", "Bob123456789");

  ASSERT_TRUE(*repo().updatePassword(kA, cl, sid("CR", 1), seal("Again1234567"), 2, deriver()));
  ASSERT_TRUE(*repo().removeMapping(kA, sd, cl, deriver()));
  ASSERT_TRUE(*repo().removeDomain(kA, sd));
  all = rows(name);
  ASSERT_EQ(all.size(), 2u) << "unmapping and deleting the domain leave the operator's rows";
  EXPECT_EQ(all["alice"].md5, admin_md5);
  EXPECT_TRUE(all.count("zed"));

  // An operator's upsert over a derived row takes it over: a later derivation keeps it.
  ASSERT_EQ(*repo().createDomain(domain(2, kA, name)), SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createMapping(kA, sid("SD", 2), cl, 3, deriver()), SipAuthOutcome::kDone);
  ASSERT_TRUE(rows(name)["bob"].derived_from);
  const std::string bob_admin = ha1(sip::DigestAlgorithm::kMd5, "bob", name, "operator-bob");
  ASSERT_TRUE(s_->sipCredentials().upsert({name, "bob", bob_admin, "", std::nullopt, 9}));
  ASSERT_TRUE(*repo().removeMapping(kA, sid("SD", 2), cl, deriver()));
  EXPECT_EQ(rows(name)["bob"].md5, bob_admin);
  EXPECT_FALSE(rows(name)["bob"].derived_from);
}

TEST_P(SipAuthListsTest, ADeriverErrorRollsTheWholeChangeBack) {
  const std::string name = "pbx.example.com";
  ASSERT_EQ(*repo().createDomain(domain(1, kA, name)), SipAuthOutcome::kDone);
  ASSERT_TRUE(repo().createList(list(1, kA)));
  const std::string cl = sid("CL", 1), sd = sid("SD", 1);
  ASSERT_EQ(*repo().createCredential(credential(1, kA, cl, "alice", "Alice1234567"), deriver()),
            SipAuthOutcome::kDone);

  // The mapping is not written when its derivation fails.
  auto mapped = repo().createMapping(kA, sd, cl, 1, failing());
  ASSERT_FALSE(mapped);
  EXPECT_NE(mapped.error().reason.find("deriver refused"), std::string::npos);
  EXPECT_FALSE(*repo().findMapping(kA, sd, cl));
  EXPECT_TRUE(rows(name).empty());

  int calls = 0;
  ASSERT_EQ(*repo().createMapping(kA, sd, cl, 1, deriver(&calls)), SipAuthOutcome::kDone);
  EXPECT_EQ(calls, 1);
  const std::string before = rows(name)["alice"].md5;

  // Nor a credential, a password change, a removal or an unmapping.
  EXPECT_FALSE(repo().createCredential(credential(2, kA, cl, "bob", "Bob123456789"), failing()));
  EXPECT_FALSE(*repo().findCredential(kA, cl, sid("CR", 2)));
  EXPECT_FALSE(repo().updatePassword(kA, cl, sid("CR", 1), seal("Other1234567"), 5, failing()));
  EXPECT_EQ((**repo().findCredential(kA, cl, sid("CR", 1))).password_sealed, seal("Alice1234567"));
  // A sealed value the deriver cannot open fails the same way.
  EXPECT_FALSE(repo().updatePassword(kA, cl, sid("CR", 1), "garbage", 5, deriver()));
  ASSERT_EQ(*repo().createCredential(credential(3, kA, cl, "carol", "Carol1234567"), deriver()),
            SipAuthOutcome::kDone);
  EXPECT_FALSE(repo().removeCredential(kA, cl, sid("CR", 3), failing()));
  EXPECT_TRUE(*repo().findCredential(kA, cl, sid("CR", 3)));
  // Removals derive too: what another mapped list still gives has to be recomputed.
  ASSERT_TRUE(repo().createList(list(2, kA)));
  ASSERT_EQ(
      *repo().createCredential(credential(4, kA, sid("CL", 2), "dave", "Dave12345678"), deriver()),
      SipAuthOutcome::kDone);
  ASSERT_EQ(*repo().createMapping(kA, sd, sid("CL", 2), 2, deriver()), SipAuthOutcome::kDone);
  EXPECT_FALSE(repo().removeMapping(kA, sd, cl, failing()));
  EXPECT_TRUE(*repo().findMapping(kA, sd, cl));
  EXPECT_FALSE(repo().removeList(kA, cl, failing()));
  EXPECT_TRUE(*repo().findList(kA, cl));

  auto all = rows(name);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all["alice"].md5, before);
  expectHashes(name, "carol", "Carol1234567");
  expectHashes(name, "dave", "Dave12345678");
}

SB_INSTANTIATE_BACKENDS(SipAuthListsTest);

}  // namespace
}  // namespace store
