#include "store/api_access.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

TEST(RoleTest, KnownRoles) {
  for (const char* role : {"owner", "admin", "developer", "billing", "read-only"})
    EXPECT_TRUE(isRole(role)) << role;
  for (const char* role : {"", "Owner", "readonly", "root"}) EXPECT_FALSE(isRole(role)) << role;
}

class ApiAccessTest : public BackendTest {
 protected:
  std::unique_ptr<Store> openWithAccounts() { return BackendTest::openWithAccounts({kA, kB}); }

  static User user(int n, const std::string& account, const std::string& email,
                   const std::string& role = "developer") {
    return User{sid("US", n), account, email, role, 1000 + n, 2000 + n};
  }

  const std::string kA = sid("AC", 1);
  const std::string kB = sid("AC", 2);
};

TEST_P(ApiAccessTest, UsersRoundTripAndEmailIsUniquePerAccount) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  User carol = user(3, kA, "carol@example.com", "owner");
  User alice = user(1, kA, "Alice@Example.COM", "read-only");
  for (const User& u : {carol, alice}) {
    auto created = access.createUser(u);
    ASSERT_TRUE(created) << created.error().reason;
    EXPECT_TRUE(*created);
  }
  auto found = access.findUser(kA, alice.sid);
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  User want = alice;
  want.email = "alice@example.com";  // stored lower-case
  EXPECT_EQ(**found, want);
  EXPECT_FALSE(*access.findUser(kB, alice.sid));  // scoped to the account
  EXPECT_FALSE(*access.findUser(kA, sid("US", 9)));

  // The same SID, or the same email (whatever its case) in the same account: refused.
  EXPECT_FALSE(*access.createUser(user(1, kA, "new@example.com")));
  EXPECT_FALSE(*access.createUser(user(4, kA, "CAROL@example.com")));
  EXPECT_FALSE(*access.findUser(kA, sid("US", 4)));
  // The same email in another account is another user.
  EXPECT_TRUE(*access.createUser(user(5, kB, "carol@example.com")));

  auto list = access.listUsers(kA);
  ASSERT_TRUE(list) << list.error().reason;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], want);
  EXPECT_EQ((*list)[1], carol);
  EXPECT_EQ(access.listUsers(kB)->size(), 1u);
  EXPECT_TRUE(access.listUsers(sid("AC", 9))->empty());
}

TEST_P(ApiAccessTest, UserValidation) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  struct Case {
    const char* why;
    User user;
  };
  std::vector<Case> cases = {
      {"bad sid", User{"US123", kA, "x@example.com", "admin", 1, 1}},
      {"key sid", User{sid("SK", 1), kA, "x@example.com", "admin", 1, 1}},
      {"unknown role", user(1, kA, "x@example.com", "superuser")},
      {"empty email", user(1, kA, "")},
      {"no such account", user(1, sid("AC", 9), "x@example.com")},
  };
  for (const Case& c : cases) {
    auto r = access.createUser(c.user);
    ASSERT_FALSE(r) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
    EXPECT_EQ(r.error().reason.rfind("store: ", 0), 0u) << r.error().reason;
  }
  EXPECT_TRUE(access.listUsers(kA)->empty());
}

TEST_P(ApiAccessTest, KeysRoundTripListAndRemove) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  User dev = user(1, kA, "dev@example.com");
  ASSERT_TRUE(*access.createUser(dev));

  ApiKey with_user{sid("SK", 2), kA,      "CI key", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                   "developer",  dev.sid, 500,      600};
  ApiKey standalone{sid("SK", 1), kA, "billing export", "hash-2", "billing", std::nullopt,
                    500,          700};
  ApiKey newest{sid("SK", 3), kA, "", "hash-3", "admin", std::nullopt, 900, 900};
  ApiKey other{sid("SK", 4), kB, "b", "hash-4", "owner", std::nullopt, 100, 100};
  for (const ApiKey& k : {with_user, standalone, newest, other}) {
    auto created = access.createKey(k);
    ASSERT_TRUE(created) << created.error().reason;
    EXPECT_TRUE(*created) << k.sid;
  }
  auto found = access.findKey(with_user.sid);
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, with_user);
  EXPECT_EQ(**access.findKey(standalone.sid), standalone);
  EXPECT_EQ(**access.findKey(other.sid), other);  // by SID alone, whatever the account
  EXPECT_FALSE(*access.findKey(sid("SK", 9)));

  ApiKey dup = standalone;
  dup.secret_hash = "replaced";
  EXPECT_FALSE(*access.createKey(dup));
  EXPECT_EQ((*access.findKey(standalone.sid))->secret_hash, "hash-2");

  // Oldest first; the two created at 500 by SID.
  auto list = access.listKeys(kA);
  ASSERT_TRUE(list) << list.error().reason;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], standalone);
  EXPECT_EQ((*list)[1], with_user);
  EXPECT_EQ((*list)[2], newest);

  EXPECT_FALSE(*access.removeKey(kB, standalone.sid));  // not B's key
  EXPECT_TRUE(*access.findKey(standalone.sid));
  EXPECT_TRUE(*access.removeKey(kA, standalone.sid));
  EXPECT_FALSE(*access.removeKey(kA, standalone.sid));
  EXPECT_FALSE(*access.findKey(standalone.sid));
  EXPECT_EQ(access.listKeys(kA)->size(), 2u);
  EXPECT_EQ(access.listKeys(kB)->size(), 1u);
}

TEST_P(ApiAccessTest, KeyValidation) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  User b_user = user(1, kB, "b@example.com");
  ASSERT_TRUE(*access.createUser(b_user));
  auto key = [&](std::string key_sid, std::string account, std::string role,
                 std::optional<std::string> user_sid) {
    return ApiKey{std::move(key_sid), std::move(account),  "k", "hash",
                  std::move(role),    std::move(user_sid), 1,   1};
  };
  struct Case {
    const char* why;
    ApiKey key;
  };
  std::vector<Case> cases = {
      {"bad sid", key("SK12", kA, "admin", std::nullopt)},
      {"account sid as key", key(kA, kA, "admin", std::nullopt)},
      {"unknown role", key(sid("SK", 1), kA, "god", std::nullopt)},
      {"user of another account", key(sid("SK", 1), kA, "admin", b_user.sid)},
      {"no such user", key(sid("SK", 1), kA, "admin", sid("US", 9))},
      {"no such account", key(sid("SK", 1), sid("AC", 9), "admin", std::nullopt)},
  };
  for (const Case& c : cases) {
    auto r = access.createKey(c.key);
    ASSERT_FALSE(r) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
    EXPECT_EQ(r.error().reason.rfind("store: ", 0), 0u) << r.error().reason;
  }
  EXPECT_FALSE(*access.findKey(sid("SK", 1)));
  EXPECT_TRUE(*access.createKey(key(sid("SK", 1), kB, "admin", b_user.sid)));
}

TEST_P(ApiAccessTest, RemovingAUserTakesItsKeysAndKeepsTheLastOwner) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  User owner = user(1, kA, "owner@example.com", "owner");
  User dev = user(2, kA, "dev@example.com", "developer");
  User b_owner = user(3, kB, "owner@example.com", "owner");
  for (const User& u : {owner, dev, b_owner}) ASSERT_TRUE(*access.createUser(u));
  auto key = [&](int n, const User& u) {
    return ApiKey{sid("SK", n), u.account_sid, "k", "hash", u.role, u.sid, 1, 1};
  };
  ASSERT_TRUE(*access.createKey(key(1, owner)));
  ASSERT_TRUE(*access.createKey(key(2, dev)));
  ASSERT_TRUE(*access.createKey(key(3, dev)));
  ApiKey standalone{sid("SK", 4), kA, "ci", "hash", "admin", std::nullopt, 1, 1};
  ASSERT_TRUE(*access.createKey(standalone));

  // Not A's user, or no user at all: nothing happens.
  EXPECT_EQ(*access.removeUser(kA, b_owner.sid), UserChange::kNotFound);
  EXPECT_EQ(*access.removeUser(kA, sid("US", 9)), UserChange::kNotFound);
  // The developer goes with both its keys; the owner's and the standalone key stay.
  auto gone = access.removeUser(kA, dev.sid);
  ASSERT_TRUE(gone) << gone.error().reason;
  EXPECT_EQ(*gone, UserChange::kDone);
  EXPECT_FALSE(*access.findUser(kA, dev.sid));
  EXPECT_FALSE(*access.findKey(sid("SK", 2)));
  EXPECT_FALSE(*access.findKey(sid("SK", 3)));
  EXPECT_TRUE(*access.findKey(sid("SK", 1)));
  EXPECT_TRUE(*access.findKey(standalone.sid));
  // The only owner user stays, with its key.
  EXPECT_EQ(*access.removeUser(kA, owner.sid), UserChange::kLastOwner);
  EXPECT_TRUE(*access.findUser(kA, owner.sid));
  EXPECT_TRUE(*access.findKey(sid("SK", 1)));
  // With a second owner, the first may go.
  User second = user(5, kA, "second@example.com", "owner");
  ASSERT_TRUE(*access.createUser(second));
  EXPECT_EQ(*access.removeUser(kA, owner.sid), UserChange::kDone);
  EXPECT_FALSE(*access.findKey(sid("SK", 1)));
  EXPECT_EQ(*access.removeUser(kA, second.sid), UserChange::kLastOwner);
  EXPECT_TRUE(*access.findUser(kB, b_owner.sid));  // B untouched
}

TEST_P(ApiAccessTest, SettingARoleReachesTheUsersKeysAndKeepsTheLastOwner) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& access = s->apiAccess();
  User owner = user(1, kA, "owner@example.com", "owner");
  User dev = user(2, kA, "dev@example.com", "developer");
  for (const User& u : {owner, dev}) ASSERT_TRUE(*access.createUser(u));
  ASSERT_TRUE(*access.createKey({sid("SK", 1), kA, "o", "hash", "owner", owner.sid, 1, 1}));
  ASSERT_TRUE(*access.createKey({sid("SK", 2), kA, "d", "hash", "developer", dev.sid, 1, 1}));
  ASSERT_TRUE(*access.createKey({sid("SK", 3), kA, "ci", "hash", "developer", std::nullopt, 1, 1}));

  auto changed = access.setUserRole(kA, dev.sid, "admin", 50);
  ASSERT_TRUE(changed) << changed.error().reason;
  EXPECT_EQ(*changed, UserChange::kDone);
  EXPECT_EQ((*access.findUser(kA, dev.sid))->role, "admin");
  EXPECT_EQ((*access.findUser(kA, dev.sid))->updated_at, 50);
  EXPECT_EQ((*access.findKey(sid("SK", 2)))->role, "admin");
  EXPECT_EQ((*access.findKey(sid("SK", 2)))->updated_at, 50);
  EXPECT_EQ((*access.findKey(sid("SK", 3)))->role, "developer");  // not the user's key

  // Demoting the only owner is refused; promoting another first makes it possible.
  EXPECT_EQ(*access.setUserRole(kA, owner.sid, "admin", 60), UserChange::kLastOwner);
  EXPECT_EQ((*access.findUser(kA, owner.sid))->role, "owner");
  EXPECT_EQ((*access.findKey(sid("SK", 1)))->role, "owner");
  EXPECT_EQ(*access.setUserRole(kA, owner.sid, "owner", 61), UserChange::kDone);  // no demotion
  EXPECT_EQ(*access.setUserRole(kA, dev.sid, "owner", 62), UserChange::kDone);
  EXPECT_EQ(*access.setUserRole(kA, owner.sid, "read-only", 63), UserChange::kDone);
  EXPECT_EQ((*access.findKey(sid("SK", 1)))->role, "read-only");

  EXPECT_EQ(*access.setUserRole(kB, dev.sid, "admin", 70), UserChange::kNotFound);
  auto bad = access.setUserRole(kA, dev.sid, "root", 70);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

SB_INSTANTIATE_BACKENDS(ApiAccessTest);

}  // namespace
}  // namespace store
