#include "store/phone_numbers.h"

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

bool isPortingStatus(std::string_view status) {
  return status == "none" || status == "loa-received" || status == "in-progress" ||
         status == "completed";
}

bool isHosting(std::string_view hosting) {
  return hosting == "full" || hosting == "sms-only";
}

bool isE164(std::string_view number) {
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  for (char c : number.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: phone number: " + why);
}

// Every column; update() sets the ones after the first four and before created_at.
constexpr std::string_view kColumns =
    "sid, account_sid, phone_number, created_at, friendly_name, voice_url, voice_method,"
    " voice_fallback_url, voice_fallback_method, sms_url, sms_method, sms_fallback_url,"
    " sms_fallback_method, status_callback, status_callback_method, voice_capable, sms_capable,"
    " mms_capable, fax_capable, porting_status, hosting, sms_native_opt_out, updated_at";

PhoneNumber fromRow(const Row& r) {
  PhoneNumber n;
  n.sid = r.text(0);
  n.account_sid = r.text(1);
  n.phone_number = r.text(2);
  n.created_at = r.integer(3);
  n.friendly_name = r.text(4);
  n.voice_url = r.text(5);
  n.voice_method = r.text(6);
  n.voice_fallback_url = r.text(7);
  n.voice_fallback_method = r.text(8);
  n.sms_url = r.text(9);
  n.sms_method = r.text(10);
  n.sms_fallback_url = r.text(11);
  n.sms_fallback_method = r.text(12);
  n.status_callback = r.text(13);
  n.status_callback_method = r.text(14);
  n.voice_capable = r.integer(15) != 0;
  n.sms_capable = r.integer(16) != 0;
  n.mms_capable = r.integer(17) != 0;
  n.fax_capable = r.integer(18) != 0;
  n.porting_status = r.text(19);
  n.hosting = r.text(20);
  n.sms_native_opt_out = r.integer(21) != 0;
  n.updated_at = r.integer(22);
  return n;
}

// The values of the columns update() replaces, in kColumns' order (friendly_name ...
// updated_at).
Params mutableValues(const PhoneNumber& n) {
  auto flag = [](bool b) { return Value{int64_t{b ? 1 : 0}}; };
  return {n.friendly_name,
          n.voice_url,
          n.voice_method,
          n.voice_fallback_url,
          n.voice_fallback_method,
          n.sms_url,
          n.sms_method,
          n.sms_fallback_url,
          n.sms_fallback_method,
          n.status_callback,
          n.status_callback_method,
          flag(n.voice_capable),
          flag(n.sms_capable),
          flag(n.mms_capable),
          flag(n.fax_capable),
          n.porting_status,
          n.hosting,
          flag(n.sms_native_opt_out),
          n.updated_at};
}

common::Status check(const PhoneNumber& n) {
  if (!isSid(n.sid, "PN")) return invalid("sid '" + n.sid + "' is not PN and 32 hex digits");
  if (!isE164(n.phone_number))
    return invalid("'" + n.phone_number + "' is not E.164 (+ then 2 to 15 digits, not +0...)");
  if (!isPortingStatus(n.porting_status))
    return invalid("porting status '" + n.porting_status +
                   "' is not none, loa-received, in-progress or completed");
  if (!isHosting(n.hosting)) return invalid("hosting '" + n.hosting + "' is not full or sms-only");
  return {};
}

// "WHERE account_sid = ?" and the filter's conditions, with the values they bind.
std::string listWhere(std::string_view account_sid, const PhoneNumberFilter& filter,
                      Params& params) {
  std::string where = " WHERE account_sid = ?";
  params.push_back(std::string(account_sid));
  if (filter.phone_number) {
    where += " AND phone_number = ?";
    params.push_back(*filter.phone_number);
  }
  if (filter.friendly_name) {
    where += " AND friendly_name = ?";
    params.push_back(*filter.friendly_name);
  }
  return where;
}

class SqlPhoneNumbers final : public PhoneNumbers {
 public:
  explicit SqlPhoneNumbers(Database& db) : db_(db) {}

  common::Result<bool> create(const PhoneNumber& n) override {
    if (auto st = check(n); !st) return st.error();
    bool created = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto account = tx.queryOne("SELECT 1 FROM accounts WHERE sid = ?", {n.account_sid});
      if (!account) return account.error();
      if (!*account) return invalid("account " + n.account_sid + " does not exist");
      static const std::string sql =
          "INSERT INTO phone_numbers (" + std::string(kColumns) +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT DO NOTHING";
      Params params = {n.sid, n.account_sid, n.phone_number, n.created_at};
      for (Value& v : mutableValues(n)) params.push_back(std::move(v));
      auto inserted = tx.exec(sql, params);
      if (!inserted) return inserted.error();
      created = *inserted > 0;
      return {};
    });
    if (!st) return st.error();
    return created;
  }

  common::Result<std::optional<PhoneNumber>> find(std::string_view account_sid,
                                                  std::string_view sid) override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM phone_numbers WHERE account_sid = ? AND sid = ?";
    return one(sql, {std::string(account_sid), std::string(sid)});
  }

  common::Result<std::optional<PhoneNumber>> findByNumber(std::string_view e164) override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM phone_numbers WHERE phone_number = ?";
    return one(sql, {std::string(e164)});
  }

  common::Result<std::vector<PhoneNumber>> list(std::string_view account_sid,
                                                const PhoneNumberFilter& filter, int64_t offset,
                                                int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    Params params;
    std::string sql = "SELECT " + std::string(kColumns) + " FROM phone_numbers" +
                      listWhere(account_sid, filter, params) +
                      " ORDER BY created_at, sid LIMIT ? OFFSET ?";
    params.emplace_back(std::in_place_type<int64_t>, limit);
    params.emplace_back(std::in_place_type<int64_t>, offset);
    auto rows = db_.query(sql, params);
    if (!rows) return rows.error();
    std::vector<PhoneNumber> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(fromRow(r));
    return out;
  }

  common::Result<int64_t> count(std::string_view account_sid,
                                const PhoneNumberFilter& filter) override {
    Params params;
    std::string sql = "SELECT COUNT(*) FROM phone_numbers" + listWhere(account_sid, filter, params);
    return db_.queryInteger(sql, params);
  }

  common::Result<bool> update(const PhoneNumber& n) override {
    if (auto st = check(n); !st) return st.error();
    Params params = mutableValues(n);
    params.push_back(n.account_sid);
    params.push_back(n.sid);
    auto changed = db_.exec(
        "UPDATE phone_numbers SET friendly_name = ?, voice_url = ?, voice_method = ?,"
        " voice_fallback_url = ?, voice_fallback_method = ?, sms_url = ?, sms_method = ?,"
        " sms_fallback_url = ?, sms_fallback_method = ?, status_callback = ?,"
        " status_callback_method = ?, voice_capable = ?, sms_capable = ?, mms_capable = ?,"
        " fax_capable = ?, porting_status = ?, hosting = ?, sms_native_opt_out = ?, updated_at = ?"
        " WHERE account_sid = ? AND sid = ?",
        params);
    if (!changed) return changed.error();
    return *changed > 0;
  }

  common::Result<bool> remove(std::string_view account_sid, std::string_view sid) override {
    auto n = db_.exec("DELETE FROM phone_numbers WHERE account_sid = ? AND sid = ?",
                      {std::string(account_sid), std::string(sid)});
    if (!n) return n.error();
    return *n > 0;
  }

 private:
  common::Result<std::optional<PhoneNumber>> one(const std::string& sql, const Params& params) {
    auto row = db_.queryOne(sql, params);
    if (!row) return row.error();
    if (!*row) return std::optional<PhoneNumber>();
    return std::optional<PhoneNumber>(fromRow(**row));
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<PhoneNumbers> makeSqlPhoneNumbers(Database& db) {
  return std::make_unique<SqlPhoneNumbers>(db);
}
}  // namespace internal

}  // namespace store
