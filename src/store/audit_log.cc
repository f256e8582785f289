#include "store/audit_log.h"

#include "store/internal/sql_repositories.h"

namespace store {

namespace {

constexpr std::string_view kColumns =
    "id, at_ms, account_sid, principal, user_sid, method, path, status, source, count";

AuditEntry fromRow(const Row& r) {
  return AuditEntry{r.integer(0), r.integer(1), r.text(2),         r.text(3), r.optionalText(4),
                    r.text(5),    r.text(6),    int(r.integer(7)), r.text(8), r.integer(9)};
}

class SqlAuditLog final : public AuditLog {
 public:
  explicit SqlAuditLog(Database& db) : db_(db) {}

  common::Status append(const std::vector<AuditEntry>& entries) override {
    if (entries.empty()) return {};
    return db_.transaction([&](Tx& tx) -> common::Status {
      for (const AuditEntry& e : entries) {
        // The id is the database's: increasing in the order of the inserts.
        auto n = tx.exec(
            "INSERT INTO audit_log (at_ms, account_sid, principal, user_sid, method, path,"
            " status, source, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {e.at_ms, e.account_sid, e.principal, nullable(e.user_sid), e.method, e.path,
             int64_t{e.status}, e.source, e.count});
        if (!n) return n.error();
      }
      return {};
    });
  }

  common::Result<std::vector<AuditEntry>> list(std::string_view account_sid, int64_t offset,
                                               int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    // Newest first by id, the order of appending (at_ms comes from clocks that may step back).
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM audit_log WHERE account_sid = ?"
                                   " ORDER BY id DESC LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<AuditEntry> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(fromRow(r));
    return out;
  }

  common::Result<int64_t> count(std::string_view account_sid) override {
    return db_.queryInteger("SELECT COUNT(*) FROM audit_log WHERE account_sid = ?",
                            {std::string(account_sid)});
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<AuditLog> makeSqlAuditLog(Database& db) {
  return std::make_unique<SqlAuditLog>(db);
}
}  // namespace internal

}  // namespace store
