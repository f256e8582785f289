#include "store/opt_outs.h"

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"
#include "store/phone_numbers.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: sms opt-out: " + why);
}

constexpr std::string_view kColumns = "account_sid, phone_number, keyword, via_number, created_at";

class SqlOptOuts final : public OptOuts {
 public:
  explicit SqlOptOuts(Database& db) : db_(db) {}

  common::Result<bool> add(const OptOut& o) override {
    if (!isSid(o.account_sid, "AC"))
      return invalid("account sid '" + o.account_sid + "' is not AC and 32 hex digits");
    if (!isE164(o.phone_number))
      return invalid("'" + o.phone_number + "' is not E.164 (+ then 2 to 15 digits, not +0...)");
    static const std::string sql = "INSERT INTO sms_opt_outs (" + std::string(kColumns) +
                                   ") VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    auto n = db_.exec(sql, {o.account_sid, o.phone_number, o.keyword, o.via_number, o.created_at});
    if (!n) {
      if (internal::isForeignKeyViolation(n.error()))
        return invalid("account " + o.account_sid + " does not exist");
      return n.error();
    }
    return *n > 0;
  }

  common::Result<bool> remove(std::string_view account_sid,
                              std::string_view phone_number) override {
    auto n = db_.exec("DELETE FROM sms_opt_outs WHERE account_sid = ? AND phone_number = ?",
                      {std::string(account_sid), std::string(phone_number)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<bool> isOptedOut(std::string_view account_sid,
                                  std::string_view phone_number) override {
    auto row = db_.queryOne("SELECT 1 FROM sms_opt_outs WHERE account_sid = ? AND phone_number = ?",
                            {std::string(account_sid), std::string(phone_number)});
    if (!row) return row.error();
    return row->has_value();
  }

  common::Result<std::vector<OptOut>> list(std::string_view account_sid, int64_t offset,
                                           int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM sms_opt_outs WHERE account_sid = ?"
                                   " ORDER BY created_at DESC, phone_number LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<OptOut> out;
    out.reserve(rows->size());
    for (const Row& r : *rows)
      out.push_back(OptOut{r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4)});
    return out;
  }

  common::Result<int64_t> count(std::string_view account_sid) override {
    return db_.queryInteger("SELECT COUNT(*) FROM sms_opt_outs WHERE account_sid = ?",
                            {std::string(account_sid)});
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<OptOuts> makeSqlOptOuts(Database& db) {
  return std::make_unique<SqlOptOuts>(db);
}
}  // namespace internal

}  // namespace store
