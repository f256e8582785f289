// Who may do what: the role table, Basic credentials of accounts (AC + auth token) and API
// keys (SK + secret) checked against a real store, the account scope (itself and its
// subaccounts), the caches and the slowdown of repeated failures.
#include "api/access_control.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/provisioning.h"
#include "common/strings.h"
#include "store/store.h"
#include "store_fixture.h"

namespace api {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1763805600;

constexpr Permission kAllPermissions[] = {
    Permission::kAccountsRead,  Permission::kAccountsWrite, Permission::kNumbersRead,
    Permission::kNumbersWrite,  Permission::kBillingRead,   Permission::kKeysRead,
    Permission::kKeysWrite,     Permission::kUsersRead,     Permission::kUsersWrite,
    Permission::kAuditRead,     Permission::kSipRead,       Permission::kSipWrite,
    Permission::kCallsRead,     Permission::kCallsWrite,    Permission::kMessagesRead,
    Permission::kMessagesWrite,
};

constexpr Permission kWrites[] = {Permission::kAccountsWrite, Permission::kNumbersWrite,
                                  Permission::kKeysWrite,     Permission::kUsersWrite,
                                  Permission::kSipWrite,      Permission::kCallsWrite,
                                  Permission::kMessagesWrite};

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64Encode(std::string(user) + ":" + std::string(password));
}

TEST(Permissions, OwnerHasEverything) {
  for (Permission p : kAllPermissions) EXPECT_TRUE(allows("owner", p)) << permissionName(p);
}

TEST(Permissions, AdminHasAllButTheAuditLog) {
  for (Permission p : kAllPermissions) {
    EXPECT_EQ(allows("admin", p), p != Permission::kAuditRead) << permissionName(p);
  }
}

TEST(Permissions, ReadOnlyReadsButNeverWrites) {
  for (Permission p : kWrites) EXPECT_FALSE(allows("read-only", p)) << permissionName(p);
  for (Permission p :
       {Permission::kAccountsRead, Permission::kNumbersRead, Permission::kBillingRead,
        Permission::kSipRead, Permission::kCallsRead, Permission::kMessagesRead})
    EXPECT_TRUE(allows("read-only", p)) << permissionName(p);
  // Credentials and the audit log are not "reading" a read-only user is given.
  EXPECT_FALSE(allows("read-only", Permission::kKeysRead));
  EXPECT_FALSE(allows("read-only", Permission::kUsersRead));
  EXPECT_FALSE(allows("read-only", Permission::kAuditRead));
}

TEST(Permissions, BillingSeesBalanceAndNothingWritable) {
  EXPECT_TRUE(allows("billing", Permission::kBillingRead));
  EXPECT_TRUE(allows("billing", Permission::kAccountsRead));
  EXPECT_TRUE(allows("billing", Permission::kNumbersRead));
  for (Permission p : kWrites) EXPECT_FALSE(allows("billing", p)) << permissionName(p);
  EXPECT_FALSE(allows("billing", Permission::kAuditRead));
  EXPECT_FALSE(allows("billing", Permission::kKeysRead));
}

TEST(Permissions, DeveloperBuildsButDoesNotManageAccess) {
  for (Permission p : {Permission::kNumbersWrite, Permission::kSipWrite, Permission::kCallsWrite,
                       Permission::kMessagesWrite, Permission::kBillingRead})
    EXPECT_TRUE(allows("developer", p)) << permissionName(p);
  for (Permission p : {Permission::kAccountsWrite, Permission::kKeysRead, Permission::kKeysWrite,
                       Permission::kUsersRead, Permission::kUsersWrite, Permission::kAuditRead})
    EXPECT_FALSE(allows("developer", p)) << permissionName(p);
}

TEST(Permissions, UnknownRoleHasNothing) {
  for (std::string_view role : {"", "Owner", "root", "owner ", "read_only"}) {
    EXPECT_EQ(permissionsOf(role), 0u) << "'" << role << "'";
    for (Permission p : kAllPermissions) EXPECT_FALSE(allows(role, p));
  }
}

TEST(Permissions, RolesAreNested) {
  // Each role's grants are a subset of the one above it (what "may grant" relies on).
  auto subset = [](std::string_view a, std::string_view b) {
    return (permissionsOf(a) & ~permissionsOf(b)) == 0;
  };
  EXPECT_TRUE(subset("admin", "owner"));
  EXPECT_TRUE(subset("developer", "admin"));
  EXPECT_TRUE(subset("billing", "admin"));
  EXPECT_TRUE(subset("read-only", "admin"));
  EXPECT_FALSE(subset("owner", "admin"));
  EXPECT_FALSE(subset("developer", "billing"));
}

TEST(Permissions, NamesAreDistinct) {
  std::set<std::string> names;
  for (Permission p : kAllPermissions) names.insert(permissionName(p));
  EXPECT_EQ(names.size(), std::size(kAllPermissions));
  EXPECT_STREQ(permissionName(Permission::kAuditRead), "audit:read");
  EXPECT_STREQ(permissionName(Permission::kNumbersWrite), "numbers:write");
}

TEST(Ranks, OwnerAboveAdminAboveTheRestWhichAreEqual) {
  EXPECT_EQ(roleRank("owner"), 3);
  EXPECT_EQ(roleRank("admin"), 2);
  for (const char* role : {"developer", "billing", "read-only"}) EXPECT_EQ(roleRank(role), 1);
  for (const char* role : {"", "Owner", "root"}) EXPECT_EQ(roleRank(role), 0) << role;

  const char* roles[] = {"owner", "admin", "developer", "billing", "read-only"};
  const bool want[5][5] = {
      // target: owner admin developer billing read-only
      {true, true, true, true, true},    // owner
      {false, true, true, true, true},   // admin
      {false, false, true, true, true},  // developer
      {false, false, true, true, true},  // billing
      {false, false, true, true, true},  // read-only
  };
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(ranksAtLeast(roles[i], roles[j]), want[i][j]) << roles[i] << " on " << roles[j];
  // An unknown role manages nothing, and nothing is above an unknown target but nothing.
  EXPECT_FALSE(ranksAtLeast("root", "read-only"));
  EXPECT_FALSE(ranksAtLeast("", ""));
  EXPECT_TRUE(ranksAtLeast("read-only", "root"));
}

TEST(PresentedUser, OnlySidShapedUsernames) {
  const std::string ac = "AC0123456789abcdef0123456789abcdef";
  const std::string sk = "SK0123456789abcdef0123456789abcdef";
  EXPECT_EQ(presentedUser(basic(ac, "secret")), ac);
  EXPECT_EQ(presentedUser(basic(sk, "secret")), sk);
  EXPECT_EQ(presentedUser("basic " + base64Encode(ac + ":x")), ac);  // scheme is case-blind
  EXPECT_EQ(presentedUser(basic("admin", "hunter2")), "");
  EXPECT_EQ(presentedUser(basic("US0123456789abcdef0123456789abcdef", "x")), "");
  EXPECT_EQ(presentedUser("Bearer " + base64Encode(ac + ":x")), "");
  EXPECT_EQ(presentedUser("Basic " + base64Encode(ac)), "");  // no colon
  EXPECT_EQ(presentedUser("Basic !!!!"), "");
  EXPECT_EQ(presentedUser(""), "");
}

// A store in a fresh temp dir and the accounts most tests use.
class AuthenticatorTest : public testing::StoreFixture {
 protected:
  std::unique_ptr<Authenticator> authenticator(Authenticator::Options o = {}) {
    return std::make_unique<Authenticator>(store_->accounts(), store_->apiAccess(), *key_, o);
  }

  NewAccount account(std::optional<std::string> parent = std::nullopt) {
    auto a = provisioning_->createAccount("Test", parent, kNow);
    EXPECT_TRUE(a) << a.error().reason;
    return *a;
  }

  void setStatus(const std::string& sid, const std::string& status) {
    store::AccountUpdate u;
    u.status = status;
    u.updated_at = kNow + 1;
    auto r = store_->accounts().update(sid, u);
    ASSERT_TRUE(r && *r);
  }
};

TEST_F(AuthenticatorTest, AccountTokenRightAndWrong) {
  NewAccount a = account();
  auto auth = authenticator();
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(c.account_sid, a.account.sid);
  EXPECT_EQ(c.principal, a.account.sid);
  EXPECT_EQ(c.role, "owner");
  EXPECT_FALSE(c.user_sid);

  Caller bad;
  std::string wrong = a.auth_token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, wrong), &bad), AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, ""), &bad), AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token + "x"), &bad),
            AuthOutcome::kBadCredentials);
  EXPECT_TRUE(bad.account_sid.empty());  // untouched on failure
  // Still right after the failures (and from the cache).
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
}

TEST_F(AuthenticatorTest, AnotherAccountsTokenDoesNotWork) {
  NewAccount a = account(), b = account();
  auto auth = authenticator();
  Caller c;
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, b.auth_token), &c),
            AuthOutcome::kBadCredentials);
}

TEST_F(AuthenticatorTest, MissingMalformedAndUnknown) {
  NewAccount a = account();
  auto auth = authenticator();
  Caller c;
  EXPECT_EQ(auth->authenticate("", &c), AuthOutcome::kMissing);
  EXPECT_EQ(auth->authenticate("Basic", &c), AuthOutcome::kMissing);
  EXPECT_EQ(auth->authenticate("Basic !!!!", &c), AuthOutcome::kMissing);
  EXPECT_EQ(auth->authenticate("Bearer " + a.auth_token, &c), AuthOutcome::kMissing);
  EXPECT_EQ(auth->authenticate("Basic " + base64Encode(a.account.sid), &c), AuthOutcome::kMissing);
  EXPECT_EQ(auth->authenticate(basic("AC" + std::string(32, '0'), a.auth_token), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic("someone", a.auth_token), &c), AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(common::toLower(a.account.sid), a.auth_token), &c),
            AuthOutcome::kBadCredentials);
}

TEST_F(AuthenticatorTest, TokenSealedUnderAnotherMasterKeyMatchesNothing) {
  NewAccount a = account();
  auto other = MasterKey::fromHex(std::string(64, 'a'));
  ASSERT_TRUE(other);
  Authenticator auth(store_->accounts(), store_->apiAccess(), *other, {});
  Caller c;
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, a.auth_token), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, ""), &c), AuthOutcome::kBadCredentials);
}

TEST_F(AuthenticatorTest, SuspendedAccountIsInactive) {
  NewAccount a = account();
  setStatus(a.account.sid, "suspended");
  auto auth = authenticator();
  Caller c;
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kInactive);
  // A wrong token learns nothing about the status.
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, "wrong"), &c), AuthOutcome::kBadCredentials);
  NewAccount closed = account();
  setStatus(closed.account.sid, "closed");
  EXPECT_EQ(auth->authenticate(basic(closed.account.sid, closed.auth_token), &c),
            AuthOutcome::kInactive);
}

TEST_F(AuthenticatorTest, SubaccountOfASuspendedParentIsInactive) {
  NewAccount parent = account();
  NewAccount sub = account(parent.account.sid);
  auto auth = authenticator();
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(sub.account.sid, sub.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(c.account_sid, sub.account.sid);
  setStatus(parent.account.sid, "suspended");
  auth->invalidate(parent.account.sid);  // drops the subaccount's cached activity too
  EXPECT_EQ(auth->authenticate(basic(sub.account.sid, sub.auth_token), &c), AuthOutcome::kInactive);
  // A fresh authenticator (another node) sees the same.
  auto fresh = authenticator();
  EXPECT_EQ(fresh->authenticate(basic(sub.account.sid, sub.auth_token), &c),
            AuthOutcome::kInactive);
}

TEST_F(AuthenticatorTest, CachedStateHoldsUntilInvalidated) {
  NewAccount a = account();
  Authenticator::Options o;
  o.cache_ttl = 3600s;
  auto auth = authenticator(o);
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  setStatus(a.account.sid, "suspended");
  // Documented: the change takes effect within cache_ttl, or at once where it was made.
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  auth->invalidate(a.account.sid);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kInactive);

  // With no cache a change is seen on the next request.
  NewAccount b = account();
  Authenticator::Options none;
  none.cache_ttl = 0s;
  auto uncached = authenticator(none);
  ASSERT_EQ(uncached->authenticate(basic(b.account.sid, b.auth_token), &c), AuthOutcome::kOk);
  setStatus(b.account.sid, "suspended");
  EXPECT_EQ(uncached->authenticate(basic(b.account.sid, b.auth_token), &c), AuthOutcome::kInactive);
}

TEST_F(AuthenticatorTest, ApiKeyRightAndWrongSecret) {
  NewAccount a = account();
  auto made = provisioning_->createUser(a.account.sid, "dev@example.com", "developer", kNow);
  ASSERT_TRUE(made) << made.error().reason;
  const auto& [user, key] = *made;
  auto auth = authenticator();
  for (int round = 0; round < 2; ++round) {  // the second round is served from the cache
    Caller c;
    ASSERT_EQ(auth->authenticate(basic(key.key.sid, key.secret), &c), AuthOutcome::kOk)
        << "round " << round;
    EXPECT_EQ(c.account_sid, a.account.sid);
    EXPECT_EQ(c.principal, key.key.sid);
    EXPECT_EQ(c.role, "developer");
    ASSERT_TRUE(c.user_sid);
    EXPECT_EQ(*c.user_sid, user.sid);
    Caller bad;
    EXPECT_EQ(auth->authenticate(basic(key.key.sid, key.secret + "0"), &bad),
              AuthOutcome::kBadCredentials)
        << "round " << round;
    EXPECT_EQ(auth->authenticate(basic(key.key.sid, a.auth_token), &bad),
              AuthOutcome::kBadCredentials);
    EXPECT_TRUE(bad.principal.empty());
  }
  // A key SID that does not exist, and the account's token under a key SID.
  Caller c;
  EXPECT_EQ(auth->authenticate(basic("SK" + std::string(32, 'f'), key.secret), &c),
            AuthOutcome::kBadCredentials);
}

// Every comparison of a presented credential with a stored one goes through the secrets
// module's constant-time compare (secrets.h), right or wrong, cached or not: `==` would stop
// at the first differing octet and let the time of a refusal tell how much was right.
TEST_F(AuthenticatorTest, CredentialsAreComparedInConstantTime) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "developer", std::nullopt, kNow);
  ASSERT_TRUE(made) << made.error().reason;
  auto auth = authenticator();
  std::string wrong_token = a.auth_token;
  wrong_token.back() = wrong_token.back() == '0' ? '1' : '0';
  std::string wrong_secret = made->secret;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  struct Attempt {
    std::string what, authorization;
    AuthOutcome outcome;
  };
  const Attempt attempts[] = {
      {"account token", basic(a.account.sid, a.auth_token), AuthOutcome::kOk},
      {"wrong account token", basic(a.account.sid, wrong_token), AuthOutcome::kBadCredentials},
      {"key secret (stored hash)", basic(made->key.sid, made->secret), AuthOutcome::kOk},
      {"key secret (cached)", basic(made->key.sid, made->secret), AuthOutcome::kOk},
      {"wrong key secret (cached)", basic(made->key.sid, wrong_secret),
       AuthOutcome::kBadCredentials},
  };
  for (const Attempt& at : attempts) {
    const uint64_t before = constantTimeComparisons();
    Caller c;
    EXPECT_EQ(auth->authenticate(at.authorization, &c), at.outcome) << at.what;
    EXPECT_GT(constantTimeComparisons(), before)
        << at.what << " was not compared with api::constantTimeEquals";
  }
  // A fresh authenticator: a wrong secret checked against the stored hash.
  auto fresh = authenticator();
  const uint64_t before = constantTimeComparisons();
  Caller c;
  EXPECT_EQ(fresh->authenticate(basic(made->key.sid, wrong_secret), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_GT(constantTimeComparisons(), before)
      << "the stored hash was not compared in constant time";
}

TEST_F(AuthenticatorTest, KeyWithoutUserActsWithItsRole) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "read-only", std::nullopt, kNow);
  ASSERT_TRUE(made) << made.error().reason;
  auto auth = authenticator();
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(c.role, "read-only");
  EXPECT_FALSE(c.user_sid);
}

TEST_F(AuthenticatorTest, KeyOfASuspendedAccountIsInactive) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "admin", std::nullopt, kNow);
  ASSERT_TRUE(made);
  setStatus(a.account.sid, "suspended");
  auto auth = authenticator();
  Caller c;
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kInactive);
}

TEST_F(AuthenticatorTest, RemovedKeyStopsWorkingOnInvalidate) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "admin", std::nullopt, kNow);
  ASSERT_TRUE(made);
  Authenticator::Options o;
  o.cache_ttl = 3600s;
  auto auth = authenticator(o);
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  auto gone = store_->apiAccess().removeKey(a.account.sid, made->key.sid);
  ASSERT_TRUE(gone && *gone);
  auth->invalidate(made->key.sid);
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c),
            AuthOutcome::kBadCredentials);
}

// --- Key secrets: the keyed hash, keys of earlier versions, the cost of a wrong secret ------

// Counts the store reads of keys (and passes everything through): a wrong secret for a known
// SID must not cost a database read each time.
class CountingApiAccess final : public store::ApiAccess {
 public:
  explicit CountingApiAccess(store::ApiAccess& real) : real_(real) {}
  common::Result<bool> createUser(const store::User& u) override { return real_.createUser(u); }
  common::Result<bool> createUserWithKey(const store::User& u, const store::ApiKey& k) override {
    return real_.createUserWithKey(u, k);
  }
  common::Result<std::optional<store::User>> findUser(std::string_view a,
                                                      std::string_view u) override {
    return real_.findUser(a, u);
  }
  common::Result<std::vector<store::User>> listUsers(std::string_view a) override {
    return real_.listUsers(a);
  }
  common::Result<store::UserChange> removeUser(std::string_view a, std::string_view u) override {
    return real_.removeUser(a, u);
  }
  common::Result<store::UserChange> setUserRole(std::string_view a, std::string_view u,
                                                std::string_view role, int64_t at) override {
    return real_.setUserRole(a, u, role, at);
  }
  common::Result<bool> createKey(const store::ApiKey& k) override { return real_.createKey(k); }
  common::Result<std::optional<store::ApiKey>> findKey(std::string_view sid) override {
    ++finds;
    return real_.findKey(sid);
  }
  common::Result<std::vector<store::ApiKey>> listKeys(std::string_view a) override {
    return real_.listKeys(a);
  }
  common::Result<bool> removeKey(std::string_view a, std::string_view k) override {
    return real_.removeKey(a, k);
  }
  common::Result<bool> replaceKeyHash(std::string_view sid, std::string_view expected,
                                      std::string_view replacement) override {
    ++replaces;
    return real_.replaceKeyHash(sid, expected, replacement);
  }
  int finds = 0, replaces = 0;

 private:
  store::ApiAccess& real_;
};

std::string storedHash(store::Store& s, const std::string& sid) {
  auto k = s.apiAccess().findKey(sid);
  return k && *k ? (*k)->secret_hash : std::string();
}

std::string wrongOf(std::string secret) {
  secret.back() = secret.back() == '0' ? '1' : '0';
  return secret;
}

TEST_F(AuthenticatorTest, NewKeysAreStoredAndCheckedWithTheKeyedHash) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "developer", std::nullopt, kNow);
  ASSERT_TRUE(made) << made.error().reason;
  auto user = provisioning_->createUser(a.account.sid, "u@example.com", "billing", kNow);
  ASSERT_TRUE(user) << user.error().reason;
  for (const std::string& sid : {made->key.sid, user->second.key.sid}) {
    const std::string h = storedHash(*store_, sid);
    EXPECT_EQ(h, KeyHasher(*key_).hash(sid == made->key.sid ? made->secret : user->second.secret))
        << sid;
    EXPECT_EQ(h.rfind("hmac-sha256$", 0), 0u) << h;
  }
  auto auth = authenticator();
  const uint64_t slow = slowHashesRun();
  Caller c;
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, wrongOf(made->secret)), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(user->second.key.sid, user->second.secret), &c),
            AuthOutcome::kOk);
  EXPECT_EQ(c.role, "billing");
  EXPECT_EQ(slowHashesRun(), slow);  // no PBKDF2 for a key of this version, right or wrong
}

TEST_F(AuthenticatorTest, WrongSecretsForAKnownKeyReadTheStoreOnce) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "ci", "developer", std::nullopt, kNow);
  ASSERT_TRUE(made);
  CountingApiAccess counting(store_->apiAccess());
  Authenticator auth(store_->accounts(), counting, *key_, {});
  Caller c;
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(auth.authenticate(basic(made->key.sid, wrongOf(made->secret)), &c),
              AuthOutcome::kBadCredentials);
  EXPECT_EQ(counting.finds, 1);
  // The right secret right after: from the same cached row.
  EXPECT_EQ(auth.authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(counting.finds, 1);
  // A SID that does not exist is remembered as such too.
  const std::string unknown = "SK" + std::string(32, 'e');
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(auth.authenticate(basic(unknown, made->secret), &c), AuthOutcome::kBadCredentials);
  EXPECT_EQ(counting.finds, 2);
  EXPECT_EQ(auth.failures(), 0u);  // failed() is the caller's to count
}

// Counts the store reads of accounts (and passes everything through).
class CountingAccounts final : public store::Accounts {
 public:
  explicit CountingAccounts(store::Accounts& real) : real_(real) {}
  common::Result<bool> create(const store::Account& a) override { return real_.create(a); }
  common::Result<std::optional<store::Account>> find(std::string_view sid) override {
    ++finds;
    auto found = real_.find(sid);
    if (during_find) during_find(sid);  // a change committed while the row was read
    return found;
  }
  common::Result<std::vector<store::Account>> listFamily(std::string_view owner,
                                                         const store::AccountFilter& f,
                                                         int64_t offset, int64_t limit) override {
    return real_.listFamily(owner, f, offset, limit);
  }
  common::Result<int64_t> countFamily(std::string_view owner,
                                      const store::AccountFilter& f) override {
    return real_.countFamily(owner, f);
  }
  common::Result<std::optional<store::Account>> update(std::string_view sid,
                                                       const store::AccountUpdate& u) override {
    return real_.update(sid, u);
  }
  common::Result<std::optional<store::Account>> promoteSecondaryToken(std::string_view sid,
                                                                      int64_t at) override {
    return real_.promoteSecondaryToken(sid, at);
  }
  common::Result<std::optional<int64_t>> addToBalance(std::string_view sid, int64_t delta,
                                                      int64_t at) override {
    return real_.addToBalance(sid, delta, at);
  }
  int finds = 0;
  std::function<void(std::string_view)> during_find;

 private:
  store::Accounts& real_;
};

// Guesses at account SIDs cost one store read per SID within the cache's time, not one each.
TEST_F(AuthenticatorTest, UnknownAccountSidsAreRememberedAsSuch) {
  NewAccount a = account();
  CountingAccounts counting(store_->accounts());
  Authenticator auth(counting, store_->apiAccess(), *key_, {});
  Caller c;
  const std::string unknown = "AC" + std::string(32, 'e');
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(auth.authenticate(basic(unknown, a.auth_token), &c), AuthOutcome::kBadCredentials);
  EXPECT_EQ(counting.finds, 1);
  // Forgotten on invalidate (an account made here under that SID is found at once).
  auth.invalidate(unknown);
  ASSERT_EQ(auth.authenticate(basic(unknown, a.auth_token), &c), AuthOutcome::kBadCredentials);
  EXPECT_EQ(counting.finds, 2);
  // The known account still works, from one read.
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(counting.finds, 3);
}

// A row read just before a change (a token promotion, a suspension) that was invalidated
// meanwhile is used for that request only, never cached: the next request reads it again.
TEST_F(AuthenticatorTest, ARowReadAcrossAnInvalidationIsNotCached) {
  NewAccount a = account();
  CountingAccounts counting(store_->accounts());
  Authenticator auth(counting, store_->apiAccess(), *key_, {});
  counting.during_find = [&auth](std::string_view sid) { auth.invalidate(sid); };
  Caller c;
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(counting.finds, 1);
  counting.during_find = nullptr;
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(counting.finds, 2);  // read again: the first read was not kept
  EXPECT_EQ(auth.authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  EXPECT_EQ(counting.finds, 2);  // this one was
}

// Keys made by earlier versions keep working and move to the keyed hash on their first success.
TEST_F(AuthenticatorTest, LegacyKeyIsAcceptedAndRehashed) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "old", "admin", std::nullopt, kNow);
  ASSERT_TRUE(made);
  const std::string legacy = hashSecret(made->secret, 1000);
  auto put =
      store_->apiAccess().replaceKeyHash(made->key.sid, storedHash(*store_, made->key.sid), legacy);
  ASSERT_TRUE(put && *put);
  auto before = store_->apiAccess().findKey(made->key.sid);
  ASSERT_TRUE(before && *before);

  CountingApiAccess counting(store_->apiAccess());
  Authenticator auth(store_->accounts(), counting, *key_, {});
  uint64_t slow = slowHashesRun();
  Caller c;
  ASSERT_EQ(auth.authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(c.role, "admin");
  EXPECT_EQ(slowHashesRun(), slow + 1);
  EXPECT_EQ(counting.replaces, 1);
  const std::string now_stored = storedHash(*store_, made->key.sid);
  EXPECT_EQ(now_stored, KeyHasher(*key_).hash(made->secret));
  auto after = store_->apiAccess().findKey(made->key.sid);
  ASSERT_TRUE(after && *after);
  EXPECT_EQ((*after)->updated_at, (*before)->updated_at);  // the key is the same to its users

  // From now on no slow hash: here (the cached row was upgraded) and on a fresh node.
  slow = slowHashesRun();
  EXPECT_EQ(auth.authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(auth.authenticate(basic(made->key.sid, wrongOf(made->secret)), &c),
            AuthOutcome::kBadCredentials);
  auto fresh = authenticator();
  EXPECT_EQ(fresh->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(fresh->authenticate(basic(made->key.sid, wrongOf(made->secret)), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(slowHashesRun(), slow);
  EXPECT_EQ(counting.replaces, 1);

  // Another node that still holds the legacy row re-hashes to the same value: no harm.
  auto put_back = store_->apiAccess().replaceKeyHash(made->key.sid, now_stored, legacy);
  ASSERT_TRUE(put_back && *put_back);
  auto third = authenticator();
  ASSERT_EQ(third->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(storedHash(*store_, made->key.sid), now_stored);
}

// Until then a legacy key's slow check is budgeted: a flood of wrong secrets for its SID gets
// its 401s without PBKDF2 once the budget is spent.
TEST_F(AuthenticatorTest, LegacyKeyFailuresPastTheBudgetAreRefusedWithoutHashing) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "old", "developer", std::nullopt, kNow);
  ASSERT_TRUE(made);
  auto other = provisioning_->createKey(a.account.sid, "old2", "developer", std::nullopt, kNow);
  ASSERT_TRUE(other);
  for (const NewKey* k : {&*made, &*other}) {
    auto put = store_->apiAccess().replaceKeyHash(k->key.sid, storedHash(*store_, k->key.sid),
                                                  hashSecret(k->secret, 1000));
    ASSERT_TRUE(put && *put);
  }
  Authenticator::Options o;
  o.legacy_checks_per_second = 3;
  auto auth = authenticator(o);
  const uint64_t slow = slowHashesRun();
  Caller c;
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(auth->authenticate(basic(made->key.sid, wrongOf(made->secret)), &c),
              AuthOutcome::kBadCredentials);
  // The burst (3) plus what refilled meanwhile (3 per second: none in a few milliseconds).
  EXPECT_GE(slowHashesRun() - slow, 3u);
  EXPECT_LE(slowHashesRun() - slow, 4u);
  EXPECT_GE(auth->legacyChecksRefused(), 36u);
  // The right secret while the budget is spent is refused too (nothing tells it apart
  // without the hash), and unchecked.
  const uint64_t spent = slowHashesRun();
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(slowHashesRun(), spent);
  EXPECT_TRUE(isSlowHash(storedHash(*store_, made->key.sid)));
  // The budget is per key: another legacy key of the account still gets its check.
  EXPECT_EQ(auth->authenticate(basic(other->key.sid, other->secret), &c), AuthOutcome::kOk);
  EXPECT_EQ(slowHashesRun(), spent + 1);
}

TEST_F(AuthenticatorTest, LegacyKeyBudgetRefills) {
  NewAccount a = account();
  auto made = provisioning_->createKey(a.account.sid, "old", "developer", std::nullopt, kNow);
  ASSERT_TRUE(made);
  auto put = store_->apiAccess().replaceKeyHash(made->key.sid, storedHash(*store_, made->key.sid),
                                                hashSecret(made->secret, 1000));
  ASSERT_TRUE(put && *put);
  Authenticator::Options o;
  o.legacy_checks_per_second = 50;  // one check per 20 ms
  auto auth = authenticator(o);
  Caller c;
  for (int i = 0; i < 100; ++i) auth->authenticate(basic(made->key.sid, wrongOf(made->secret)), &c);
  ASSERT_GT(auth->legacyChecksRefused(), 0u);
  std::this_thread::sleep_for(100ms);  // refills at least one check
  EXPECT_EQ(auth->authenticate(basic(made->key.sid, made->secret), &c), AuthOutcome::kOk);
  EXPECT_FALSE(isSlowHash(storedHash(*store_, made->key.sid)));
}

TEST_F(AuthenticatorTest, ReachableIsItselfAndItsSubaccountsOnly) {
  NewAccount parent = account();
  NewAccount sub = account(parent.account.sid);
  NewAccount sibling = account(parent.account.sid);
  NewAccount other = account();
  auto auth = authenticator();
  Caller p;
  ASSERT_EQ(auth->authenticate(basic(parent.account.sid, parent.auth_token), &p), AuthOutcome::kOk);
  Caller s;
  ASSERT_EQ(auth->authenticate(basic(sub.account.sid, sub.auth_token), &s), AuthOutcome::kOk);

  auto self = auth->reachable(p, parent.account.sid);
  ASSERT_TRUE(self);
  ASSERT_TRUE(*self);
  EXPECT_EQ((*self)->sid, parent.account.sid);
  auto child = auth->reachable(p, sub.account.sid);
  ASSERT_TRUE(child && *child);
  EXPECT_EQ((*child)->sid, sub.account.sid);
  EXPECT_EQ((*child)->parent_sid, parent.account.sid);

  auto sub_self = auth->reachable(s, sub.account.sid);
  ASSERT_TRUE(sub_self && *sub_self);
  EXPECT_EQ((*sub_self)->sid, sub.account.sid);

  // Not upwards, not sideways, not into another family, not into nothing.
  for (const std::string& target :
       {parent.account.sid, sibling.account.sid, other.account.sid, "AC" + std::string(32, '0')}) {
    auto r = auth->reachable(s, target);
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r) << target;
  }
  auto r = auth->reachable(p, other.account.sid);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);

  // A key of the parent reaches the subaccount too.
  auto key = provisioning_->createKey(parent.account.sid, "k", "read-only", std::nullopt, kNow);
  ASSERT_TRUE(key);
  Caller k;
  ASSERT_EQ(auth->authenticate(basic(key->key.sid, key->secret), &k), AuthOutcome::kOk);
  auto via_key = auth->reachable(k, sub.account.sid);
  ASSERT_TRUE(via_key);
  EXPECT_TRUE(*via_key);
  auto other_via_key = auth->reachable(k, other.account.sid);
  ASSERT_TRUE(other_via_key);
  EXPECT_FALSE(*other_via_key);
}

TEST_F(AuthenticatorTest, SecondaryTokenWorksBesideThePrimaryUntilPromoted) {
  NewAccount a = account();
  NewAccount b = account();
  Authenticator::Options o;
  o.cache_ttl = 3600s;
  auto auth = authenticator(o);
  Caller c;
  ASSERT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  auto made = provisioning_->createSecondaryToken(a.account.sid, kNow + 1);
  ASSERT_TRUE(made && *made);
  const std::string secondary = (*made)->token;
  ASSERT_NE(secondary, a.auth_token);
  // Sealed at rest like the primary, bound to the account.
  const std::string sealed = (*made)->account.auth_token_secondary_sealed;
  EXPECT_EQ(sealed.find(secondary), std::string::npos);
  EXPECT_EQ(*key_->open(sealed, a.account.sid), secondary);
  EXPECT_FALSE(key_->open(sealed, b.account.sid));
  EXPECT_EQ(provisioning_->secondaryToken((*made)->account), secondary);

  // The cache holds the account as it was; where the change was made it is invalidated.
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, secondary), &c), AuthOutcome::kBadCredentials);
  auth->invalidate(a.account.sid);
  ASSERT_EQ(auth->authenticate(basic(a.account.sid, secondary), &c), AuthOutcome::kOk);
  EXPECT_EQ(c.role, "owner");
  EXPECT_EQ(c.account_sid, a.account.sid);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c), AuthOutcome::kOk);
  // Not another account's.
  EXPECT_EQ(auth->authenticate(basic(b.account.sid, secondary), &c), AuthOutcome::kBadCredentials);

  auto promoted = provisioning_->promoteSecondaryToken(a.account.sid, kNow + 2);
  ASSERT_TRUE(promoted && *promoted);
  EXPECT_EQ(provisioning_->authToken(**promoted), secondary);
  EXPECT_EQ(provisioning_->secondaryToken(**promoted), "");
  auth->invalidate(a.account.sid);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, a.auth_token), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, secondary), &c), AuthOutcome::kOk);

  // A deleted secondary stops working.
  auto again = provisioning_->createSecondaryToken(a.account.sid, kNow + 3);
  ASSERT_TRUE(again && *again);
  auth->invalidate(a.account.sid);
  ASSERT_EQ(auth->authenticate(basic(a.account.sid, (*again)->token), &c), AuthOutcome::kOk);
  ASSERT_TRUE(provisioning_->deleteSecondaryToken(a.account.sid, kNow + 4));
  auth->invalidate(a.account.sid);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, (*again)->token), &c),
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(auth->authenticate(basic(a.account.sid, secondary), &c), AuthOutcome::kOk);
  // No account, nothing made.
  auto none = provisioning_->createSecondaryToken("AC" + std::string(32, '0'), kNow);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(AuthenticatorTest, ReachableTellsWhetherTheTargetIsActive) {
  NewAccount parent = account();
  NewAccount sub = account(parent.account.sid);
  auto auth = authenticator();
  Caller p;
  ASSERT_EQ(auth->authenticate(basic(parent.account.sid, parent.auth_token), &p), AuthOutcome::kOk);
  bool active = false;
  auto r = auth->reachable(p, sub.account.sid, &active);
  ASSERT_TRUE(r && *r);
  EXPECT_TRUE(active);
  for (const char* status : {"suspended", "closed"}) {
    setStatus(sub.account.sid, status);
    auth->invalidate(sub.account.sid);
    active = true;
    r = auth->reachable(p, sub.account.sid, &active);
    ASSERT_TRUE(r && *r) << status;  // still reached: the parent may read it
    EXPECT_EQ((*r)->status, status);
    EXPECT_FALSE(active) << status;
  }
  // Out of reach: `active` is not touched.
  NewAccount other = account();
  setStatus(other.account.sid, "closed");
  active = true;
  r = auth->reachable(p, other.account.sid, &active);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(active);
}

TEST_F(AuthenticatorTest, FailureDelaysAreFreeThenDoubleUpToTheCap) {
  Authenticator::Options o;
  o.free_failures = 3;
  o.first_delay = 100ms;
  o.max_delay = 1000ms;
  auto auth = authenticator(o);
  const std::chrono::milliseconds expected[] = {0ms,   0ms,   0ms,    100ms,  200ms,
                                                400ms, 800ms, 1000ms, 1000ms, 1000ms};
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(auth->failed("192.0.2.1"), expected[i]) << "failure " << i + 1;
  }
  // Another address starts free.
  EXPECT_EQ(auth->failed("192.0.2.2"), 0ms);
  EXPECT_EQ(auth->failures(), std::size(expected) + 1);
  // Many more stay at the cap (no overflow of the doubling).
  for (int i = 0; i < 100; ++i) EXPECT_EQ(auth->failed("192.0.2.1"), 1000ms);
}

TEST_F(AuthenticatorTest, DefaultFailureDelays) {
  auto auth = authenticator();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(auth->failed("::1"), 0ms);
  EXPECT_EQ(auth->failed("::1"), 250ms);
  EXPECT_EQ(auth->failed("::1"), 500ms);
  EXPECT_EQ(auth->failed("::1"), 1000ms);
  EXPECT_EQ(auth->failed("::1"), 2000ms);
  EXPECT_EQ(auth->failed("::1"), 4000ms);
  EXPECT_EQ(auth->failed("::1"), 5000ms);
  EXPECT_EQ(auth->failed("::1"), 5000ms);
}

}  // namespace
}  // namespace api
