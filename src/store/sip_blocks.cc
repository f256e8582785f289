#include "store/sip_blocks.h"

#include "store/internal/sql_repositories.h"

namespace store {
namespace {

class SqlSipBlocks final : public SipBlocks {
 public:
  explicit SqlSipBlocks(Database& db) : db_(db) {}

  common::Status record(const SipBlock& b) override {
    if (b.source.empty())
      return common::makeError(common::ErrorCode::kInvalidArgument, "store: empty block source");
    auto n = db_.exec(
        "INSERT INTO sip_blocks (source, blocked_at, blocked_until, requests) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET blocked_at = excluded.blocked_at,"
        " blocked_until = excluded.blocked_until, requests = excluded.requests",
        {b.source, b.blocked_at, b.until, b.requests});
    if (!n) return n.error();
    return {};
  }

  common::Result<std::vector<SipBlock>> listActive(int64_t now) override {
    auto rows = db_.query(
        "SELECT source, blocked_at, blocked_until, requests FROM sip_blocks WHERE blocked_until > ?"
        " ORDER BY source",
        {now});
    if (!rows) return rows.error();
    std::vector<SipBlock> out;
    for (const Row& r : *rows) out.push_back({r.text(0), r.integer(1), r.integer(2), r.integer(3)});
    return out;
  }

  common::Result<bool> remove(std::string_view source) override {
    auto n = db_.exec("DELETE FROM sip_blocks WHERE source = ?", {std::string(source)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<int64_t> purgeExpired(int64_t now) override {
    return db_.exec("DELETE FROM sip_blocks WHERE blocked_until <= ?", {now});
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<SipBlocks> makeSqlSipBlocks(Database& db) {
  return std::make_unique<SqlSipBlocks>(db);
}
}  // namespace internal

}  // namespace store
