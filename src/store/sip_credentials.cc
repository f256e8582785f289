#include "store/sip_credentials.h"

#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

bool isHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

common::Status checkHash(std::string_view name, std::string_view hex, size_t digits) {
  if (hex.empty() || (hex.size() == digits && isHex(hex))) return {};
  return makeError(ErrorCode::kInvalidArgument, "store: sip credential " + std::string(name) +
                                                    " must be " + std::to_string(digits) +
                                                    " hex digits");
}

constexpr std::string_view kColumns =
    "domain, username, ha1_md5, ha1_sha256, account_sid, created_at";

SipCredential fromRow(const Row& r) {
  return SipCredential{r.text(0), r.text(1), r.text(2), r.text(3), r.optionalText(4), r.integer(5)};
}

class SqlSipCredentials final : public SipCredentials {
 public:
  explicit SqlSipCredentials(Database& db) : db_(db) {}

  // An upsert is an operator's (admin sip-user add): over a row derived from a credential
  // list it takes the row over (derived_from NULL), and the operator's row wins from then on.
  common::Status upsert(const SipCredential& c) override {
    if (c.domain.empty() || c.username.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "store: sip credential needs a domain and a username");
    if (auto st = checkHash("ha1_md5", c.ha1_md5, 32); !st) return st;
    if (auto st = checkHash("ha1_sha256", c.ha1_sha256, 64); !st) return st;
    if (c.ha1_md5.empty() && c.ha1_sha256.empty())
      return makeError(ErrorCode::kInvalidArgument, "store: sip credential without any HA1");
    static const std::string sql = "INSERT INTO sip_credentials (" + std::string(kColumns) +
                                   ") VALUES (?, ?, ?, ?, ?, ?)"
                                   " ON CONFLICT (domain, username) DO UPDATE SET"
                                   " ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256,"
                                   " account_sid = excluded.account_sid, derived_from = NULL";
    auto n =
        db_.exec(sql, {internal::asciiLower(c.domain), c.username, internal::asciiLower(c.ha1_md5),
                       internal::asciiLower(c.ha1_sha256), nullable(c.account_sid), c.created_at});
    if (!n) return n.error();
    return {};
  }

  common::Result<std::optional<SipCredential>> find(std::string_view domain,
                                                    std::string_view username) override {
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM sip_credentials WHERE domain = ? AND username = ?";
    auto row = db_.queryOne(sql, {internal::asciiLower(domain), std::string(username)});
    if (!row) return row.error();
    if (!*row) return std::optional<SipCredential>();
    return std::optional<SipCredential>(fromRow(**row));
  }

  common::Result<std::optional<SipCredential>> findOwned(std::string_view domain,
                                                         std::string_view username) override {
    static const std::string sql =
        "SELECT c.domain, c.username, c.ha1_md5, c.ha1_sha256, c.account_sid, c.created_at"
        " FROM sip_credentials c JOIN sip_domain_owners o ON o.domain = c.domain"
        " WHERE c.domain = ? AND c.username = ?"
        " AND ((o.account_sid IS NULL AND c.account_sid IS NULL)"
        "      OR o.account_sid = c.account_sid)"
        // A suspended or closed account (or one under an inactive parent) logs nobody in.
        " AND NOT EXISTS (SELECT 1 FROM accounts a LEFT JOIN accounts p ON p.sid = a.parent_sid"
        "  WHERE a.sid = c.account_sid AND (a.status <> 'active' OR p.status <> 'active'))";
    auto row = db_.queryOne(sql, {internal::asciiLower(domain), std::string(username)});
    if (!row) return row.error();
    if (!*row) return std::optional<SipCredential>();
    return std::optional<SipCredential>(fromRow(**row));
  }

  common::Result<bool> remove(std::string_view domain, std::string_view username) override {
    auto n = db_.exec("DELETE FROM sip_credentials WHERE domain = ? AND username = ?",
                      {internal::asciiLower(domain), std::string(username)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<std::vector<SipCredential>> list(std::string_view domain) override {
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM sip_credentials WHERE domain = ? ORDER BY username";
    auto rows = db_.query(sql, {internal::asciiLower(domain)});
    if (!rows) return rows.error();
    std::vector<SipCredential> out;
    for (const Row& r : *rows) out.push_back(fromRow(r));
    return out;
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<SipCredentials> makeSqlSipCredentials(Database& db) {
  return std::make_unique<SqlSipCredentials>(db);
}
}  // namespace internal

}  // namespace store
