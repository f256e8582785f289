#include "store/api_access.h"

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

bool isRole(std::string_view role) {
  return role == "owner" || role == "admin" || role == "developer" || role == "billing" ||
         role == "read-only";
}

namespace {

common::Unexpected invalid(const std::string& what, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: " + what + ": " + why);
}

constexpr std::string_view kUserColumns = "sid, account_sid, email, role, created_at, updated_at";
constexpr std::string_view kKeyColumns =
    "sid, account_sid, friendly_name, secret_hash, role, user_sid, created_at, updated_at";

User userFromRow(const Row& r) {
  return User{r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4), r.integer(5)};
}

ApiKey keyFromRow(const Row& r) {
  return ApiKey{r.text(0), r.text(1),         r.text(2),    r.text(3),
                r.text(4), r.optionalText(5), r.integer(6), r.integer(7)};
}

common::Status accountExists(Tx& tx, const std::string& what, const std::string& account_sid) {
  auto row = tx.queryOne("SELECT 1 FROM accounts WHERE sid = ?", {account_sid});
  if (!row) return row.error();
  if (!*row) return invalid(what, "account " + account_sid + " does not exist");
  return {};
}

class SqlApiAccess final : public ApiAccess {
 public:
  explicit SqlApiAccess(Database& db) : db_(db) {}

  common::Result<bool> createUser(const User& u) override {
    if (auto ok = checkUser(u); !ok) return ok.error();
    bool created = false;
    auto st = db_.transaction([&](Tx& tx) { return insertUser(tx, u, &created); });
    if (!st) return st.error();
    return created;
  }

  common::Result<bool> createUserWithKey(const User& u, const ApiKey& k) override {
    if (auto ok = checkUser(u); !ok) return ok.error();
    if (auto ok = checkKey(k); !ok) return ok.error();
    if (k.user_sid != u.sid || k.account_sid != u.account_sid)
      return invalid("api key " + k.sid, "is not for user " + u.sid);
    bool created = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      if (auto ok = insertUser(tx, u, &created); !ok || !created) return ok;
      bool key_created = false;
      if (auto ok = insertKey(tx, k, &key_created); !ok) return ok;
      if (!key_created)  // a clash of fresh random SIDs: nothing is kept
        return invalid("api key " + k.sid, "the SID exists");
      return {};
    });
    if (!st) return st.error();
    return created;
  }

  common::Result<std::optional<User>> findUser(std::string_view account_sid,
                                               std::string_view user_sid) override {
    static const std::string sql =
        "SELECT " + std::string(kUserColumns) + " FROM users WHERE account_sid = ? AND sid = ?";
    auto row = db_.queryOne(sql, {std::string(account_sid), std::string(user_sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<User>();
    return std::optional<User>(userFromRow(**row));
  }

  common::Result<std::vector<User>> listUsers(std::string_view account_sid) override {
    static const std::string sql =
        "SELECT " + std::string(kUserColumns) + " FROM users WHERE account_sid = ? ORDER BY email";
    auto rows = db_.query(sql, {std::string(account_sid)});
    if (!rows) return rows.error();
    std::vector<User> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(userFromRow(r));
    return out;
  }

  common::Result<UserChange> removeUser(std::string_view account_sid,
                                        std::string_view user_sid) override {
    return changeUser(account_sid, user_sid, std::nullopt, 0);
  }

  common::Result<UserChange> setUserRole(std::string_view account_sid, std::string_view user_sid,
                                         std::string_view role, int64_t updated_at) override {
    if (!isRole(role))
      return invalid("user " + std::string(user_sid), "unknown role '" + std::string(role) + "'");
    return changeUser(account_sid, user_sid, std::string(role), updated_at);
  }

  common::Result<bool> createKey(const ApiKey& k) override {
    if (auto ok = checkKey(k); !ok) return ok.error();
    bool created = false;
    auto st = db_.transaction([&](Tx& tx) { return insertKey(tx, k, &created); });
    if (!st) return st.error();
    return created;
  }

  common::Result<std::optional<ApiKey>> findKey(std::string_view key_sid) override {
    static const std::string sql =
        "SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE sid = ?";
    auto row = db_.queryOne(sql, {std::string(key_sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<ApiKey>();
    return std::optional<ApiKey>(keyFromRow(**row));
  }

  common::Result<std::vector<ApiKey>> listKeys(std::string_view account_sid) override {
    static const std::string sql = "SELECT " + std::string(kKeyColumns) +
                                   " FROM api_keys WHERE account_sid = ? ORDER BY created_at, sid";
    auto rows = db_.query(sql, {std::string(account_sid)});
    if (!rows) return rows.error();
    std::vector<ApiKey> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(keyFromRow(r));
    return out;
  }

  common::Result<bool> removeKey(std::string_view account_sid, std::string_view key_sid) override {
    auto n = db_.exec("DELETE FROM api_keys WHERE account_sid = ? AND sid = ?",
                      {std::string(account_sid), std::string(key_sid)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<bool> replaceKeyHash(std::string_view key_sid, std::string_view expected,
                                      std::string_view replacement) override {
    auto n = db_.exec("UPDATE api_keys SET secret_hash = ? WHERE sid = ? AND secret_hash = ?",
                      {std::string(replacement), std::string(key_sid), std::string(expected)});
    if (!n) return n.error();
    return *n > 0;
  }

 private:
  // Removes the user (no `role`) or re-roles it, with its keys. Two changes that each leave
  // one owner would leave none together, so the account's row is locked first (an UPDATE
  // locks it on PostgreSQL; SQLite's write transaction holds the whole file): they run one
  // after the other and the second sees the first's result.
  common::Result<UserChange> changeUser(std::string_view account_sid, std::string_view user_sid,
                                        const std::optional<std::string>& role,
                                        int64_t updated_at) {
    const std::string account(account_sid), user(user_sid);
    UserChange out = UserChange::kDone;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto locked = tx.exec("UPDATE accounts SET updated_at = updated_at WHERE sid = ?", {account});
      if (!locked) return locked.error();
      auto row =
          tx.queryOne("SELECT role FROM users WHERE account_sid = ? AND sid = ?", {account, user});
      if (!row) return row.error();
      if (!*row) {
        out = UserChange::kNotFound;
        return {};
      }
      if ((*row)->text(0) == "owner" && role != "owner") {
        auto owners = tx.queryOne(
            "SELECT COUNT(*) FROM users WHERE account_sid = ? AND role = 'owner'", {account});
        if (!owners) return owners.error();
        if (*owners && (**owners).integer(0) <= 1) {
          out = UserChange::kLastOwner;
          return {};
        }
      }
      if (role) {
        auto n =
            tx.exec("UPDATE users SET role = ?, updated_at = ? WHERE account_sid = ? AND sid = ?",
                    {*role, updated_at, account, user});
        if (!n) return n.error();
        n = tx.exec(
            "UPDATE api_keys SET role = ?, updated_at = ? WHERE account_sid = ? AND user_sid = ?",
            {*role, updated_at, account, user});
        if (!n) return n.error();
        return {};
      }
      auto n =
          tx.exec("DELETE FROM api_keys WHERE account_sid = ? AND user_sid = ?", {account, user});
      if (!n) return n.error();
      n = tx.exec("DELETE FROM users WHERE account_sid = ? AND sid = ?", {account, user});
      if (!n) return n.error();
      return {};
    });
    if (!st) return st.error();
    return out;
  }

  static common::Status checkUser(const User& u) {
    if (!isSid(u.sid, "US"))
      return invalid("user", "sid '" + u.sid + "' is not US and 32 hex digits");
    if (!isRole(u.role)) return invalid("user " + u.sid, "unknown role '" + u.role + "'");
    if (u.email.empty()) return invalid("user " + u.sid, "no email");
    return {};
  }

  static common::Status checkKey(const ApiKey& k) {
    if (!isSid(k.sid, "SK"))
      return invalid("api key", "sid '" + k.sid + "' is not SK and 32 hex digits");
    if (!isRole(k.role)) return invalid("api key " + k.sid, "unknown role '" + k.role + "'");
    return {};
  }

  static common::Status insertUser(Tx& tx, const User& u, bool* created) {
    if (auto ok = accountExists(tx, "user " + u.sid, u.account_sid); !ok) return ok;
    static const std::string sql = "INSERT INTO users (" + std::string(kUserColumns) +
                                   ") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    auto n = tx.exec(sql, {u.sid, u.account_sid, internal::asciiLower(u.email), u.role,
                           u.created_at, u.updated_at});
    if (!n) return n.error();
    *created = *n > 0;
    return {};
  }

  static common::Status insertKey(Tx& tx, const ApiKey& k, bool* created) {
    if (auto ok = accountExists(tx, "api key " + k.sid, k.account_sid); !ok) return ok;
    if (k.user_sid) {
      auto user = tx.queryOne("SELECT 1 FROM users WHERE sid = ? AND account_sid = ?",
                              {*k.user_sid, k.account_sid});
      if (!user) return user.error();
      if (!*user)
        return invalid("api key " + k.sid,
                       "user " + *k.user_sid + " is not a user of account " + k.account_sid);
    }
    static const std::string sql = "INSERT INTO api_keys (" + std::string(kKeyColumns) +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    auto n = tx.exec(sql, {k.sid, k.account_sid, k.friendly_name, k.secret_hash, k.role,
                           nullable(k.user_sid), k.created_at, k.updated_at});
    if (!n) return n.error();
    *created = *n > 0;
    return {};
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<ApiAccess> makeSqlApiAccess(Database& db) {
  return std::make_unique<SqlApiAccess>(db);
}
}  // namespace internal

}  // namespace store
