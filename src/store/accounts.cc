#include "store/accounts.h"

#include <limits>

#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

bool isSid(std::string_view sid, std::string_view prefix) {
  if (prefix.empty() || sid.size() != prefix.size() + 32 || sid.substr(0, prefix.size()) != prefix)
    return false;
  for (char c : sid.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool isAccountStatus(std::string_view status) {
  return status == "active" || status == "suspended" || status == "closed";
}

namespace internal {
common::Status checkPage(int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0)
    return makeError(ErrorCode::kInvalidArgument,
                     "store: a page needs offset >= 0 and limit >= 0 (got offset " +
                         std::to_string(offset) + ", limit " + std::to_string(limit) + ")");
  return {};
}
}  // namespace internal

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: account: " + why);
}

constexpr std::string_view kColumns =
    "sid, parent_sid, friendly_name, status, auth_token_sealed, balance_millicents, currency,"
    " created_at, updated_at, auth_token_secondary_sealed";

Account fromRow(const Row& r) {
  return Account{r.text(0),    r.optionalText(1), r.text(2),    r.text(3),    r.text(4),
                 r.integer(5), r.text(6),         r.integer(7), r.integer(8), r.text(9)};
}

// The family of `owner` (itself and its subaccounts) narrowed by `filter`, as a WHERE clause
// of constant text and the values it binds.
std::string familyWhere(std::string_view owner, const AccountFilter& filter, Params& params) {
  std::string where = " WHERE (sid = ? OR parent_sid = ?)";
  params.push_back(std::string(owner));
  params.push_back(std::string(owner));
  if (filter.friendly_name) {
    where += " AND friendly_name = ?";
    params.push_back(*filter.friendly_name);
  }
  if (filter.status) {
    where += " AND status = ?";
    params.push_back(*filter.status);
  }
  return where;
}

class SqlAccounts final : public Accounts {
 public:
  explicit SqlAccounts(Database& db) : db_(db) {}

  common::Result<bool> create(const Account& a) override {
    if (!isSid(a.sid, "AC")) return invalid("sid '" + a.sid + "' is not AC and 32 hex digits");
    if (!isAccountStatus(a.status))
      return invalid("status '" + a.status + "' is not active, suspended or closed");
    bool created = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      if (a.parent_sid) {
        auto parent = tx.queryOne("SELECT parent_sid FROM accounts WHERE sid = ?", {*a.parent_sid});
        if (!parent) return parent.error();
        if (!*parent) return invalid("parent account " + *a.parent_sid + " does not exist");
        if (!(*parent)->isNull(0))
          return invalid("parent account " + *a.parent_sid +
                         " is itself a subaccount (subaccounts have no subaccounts)");
      }
      static const std::string sql =
          "INSERT INTO accounts (" + std::string(kColumns) +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
      auto n = tx.exec(sql, {a.sid, nullable(a.parent_sid), a.friendly_name, a.status,
                             a.auth_token_sealed, a.balance_millicents, a.currency, a.created_at,
                             a.updated_at, a.auth_token_secondary_sealed});
      if (!n) return n.error();
      created = *n > 0;
      return {};
    });
    if (!st) return st.error();
    return created;
  }

  common::Result<std::optional<Account>> find(std::string_view sid) override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM accounts WHERE sid = ?";
    auto row = db_.queryOne(sql, {std::string(sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<Account>();
    return std::optional<Account>(fromRow(**row));
  }

  common::Result<std::vector<Account>> listFamily(std::string_view owner_sid,
                                                  const AccountFilter& filter, int64_t offset,
                                                  int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    Params params;
    std::string sql = "SELECT " + std::string(kColumns) + " FROM accounts" +
                      familyWhere(owner_sid, filter, params) +
                      " ORDER BY created_at, sid LIMIT ? OFFSET ?";
    params.emplace_back(std::in_place_type<int64_t>, limit);
    params.emplace_back(std::in_place_type<int64_t>, offset);
    auto rows = db_.query(sql, params);
    if (!rows) return rows.error();
    std::vector<Account> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(fromRow(r));
    return out;
  }

  common::Result<int64_t> countFamily(std::string_view owner_sid,
                                      const AccountFilter& filter) override {
    Params params;
    std::string sql = "SELECT COUNT(*) FROM accounts" + familyWhere(owner_sid, filter, params);
    return db_.queryInteger(sql, params);
  }

  common::Result<std::optional<Account>> update(std::string_view sid,
                                                const AccountUpdate& u) override {
    if (u.status && !isAccountStatus(*u.status))
      return invalid("status '" + *u.status + "' is not active, suspended or closed");
    // A field left empty in the update keeps its value (COALESCE with NULL).
    return updateAndRead(
        "UPDATE accounts SET friendly_name = COALESCE(?, friendly_name),"
        " status = COALESCE(?, status), auth_token_sealed = COALESCE(?, auth_token_sealed),"
        " auth_token_secondary_sealed = COALESCE(?, auth_token_secondary_sealed),"
        " updated_at = ? WHERE sid = ? AND (? = 0 OR status <> 'closed')",
        {nullable(u.friendly_name), nullable(u.status), nullable(u.auth_token_sealed),
         nullable(u.auth_token_secondary_sealed), u.updated_at, std::string(sid),
         int64_t{u.unless_closed ? 1 : 0}},
        sid);
  }

  common::Result<std::optional<Account>> promoteSecondaryToken(std::string_view sid,
                                                               int64_t updated_at) override {
    return updateAndRead(
        "UPDATE accounts SET auth_token_sealed = auth_token_secondary_sealed,"
        " auth_token_secondary_sealed = '', updated_at = ?"
        " WHERE sid = ? AND auth_token_secondary_sealed <> ''",
        {updated_at, std::string(sid)}, sid);
  }

  common::Result<std::optional<int64_t>> addToBalance(std::string_view sid,
                                                      int64_t delta_millicents,
                                                      int64_t updated_at) override {
    // The row is changed only when the sum fits in 64 bits: the bounds are computed here
    // without overflow, so neither backend ever evaluates an overflowing sum (PostgreSQL would
    // fail the statement, SQLite would turn the balance into a float).
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t low = delta_millicents < 0 ? kMin - delta_millicents : kMin;
    int64_t high = delta_millicents > 0 ? kMax - delta_millicents : kMax;
    std::optional<int64_t> balance;
    std::string key(sid);
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto n = tx.exec(
          "UPDATE accounts SET balance_millicents = balance_millicents + ?, updated_at = ?"
          " WHERE sid = ? AND balance_millicents BETWEEN ? AND ?",
          {delta_millicents, updated_at, key, low, high});
      if (!n) return n.error();
      auto row = tx.queryOne("SELECT balance_millicents FROM accounts WHERE sid = ?", {key});
      if (!row) return row.error();
      if (!*row) return {};  // no such account
      if (*n == 0)
        return invalid("adding " + std::to_string(delta_millicents) + " millicents to " + key +
                       " would overflow its balance");
      balance = (*row)->integer(0);
      return {};
    });
    if (!st) return st.error();
    return balance;
  }

 private:
  // Runs `update` (one row, by SID) and reads the row back in the same transaction: the
  // account as changed, or nullopt when the update matched no row.
  common::Result<std::optional<Account>> updateAndRead(std::string_view update,
                                                       const Params& params, std::string_view sid) {
    std::optional<Account> out;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto n = tx.exec(update, params);
      if (!n) return n.error();
      if (*n == 0) return {};
      static const std::string sql =
          "SELECT " + std::string(kColumns) + " FROM accounts WHERE sid = ?";
      auto row = tx.queryOne(sql, {std::string(sid)});
      if (!row) return row.error();
      if (*row) out = fromRow(**row);
      return {};
    });
    if (!st) return st.error();
    return out;
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<Accounts> makeSqlAccounts(Database& db) {
  return std::make_unique<SqlAccounts>(db);
}
}  // namespace internal

}  // namespace store
