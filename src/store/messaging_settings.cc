#include "store/messaging_settings.h"

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

constexpr int64_t kMaxSmsPerSecond = 100000;
constexpr int64_t kMaxWindow = 1000;

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: messaging settings: " + why);
}

bool isTrunkName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// HOST:PORT, the host a name, an IPv4 address or a bracketed IPv6 one; the port 1..65535.
bool isHostPort(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty() || !allDigits(port) || port.size() > 5) return false;
  int value = 0;
  for (char c : port) value = value * 10 + (c - '0');
  if (value < 1 || value > 65535) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  for (char c : host)
    if (c == ':' || c == '[' || c == ']' || c == ' ' || c == '/') return false;
  return true;
}

// A destination prefix: "+" then 1 to 15 digits (so never a comma: the column joins them).
bool isPrefix(std::string_view prefix) {
  return prefix.size() >= 2 && prefix.size() <= 16 && prefix[0] == '+' &&
         allDigits(prefix.substr(1));
}

common::Status checkTrunk(const SmsTrunk& t) {
  if (!isTrunkName(t.name))
    return invalid("sms trunk name '" + t.name + "' is not 1 to 64 of a-z, 0-9, '_' and '-'");
  const std::string where = "sms trunk " + t.name + ": ";
  if (t.kind != "smpp" && t.kind != "sip")
    return invalid(where + "kind '" + t.kind + "' is not smpp or sip");
  if (t.window < 1 || t.window > kMaxWindow)
    return invalid(where + "window " + std::to_string(t.window) + " is outside 1.." +
                   std::to_string(kMaxWindow));
  if (t.max_per_second < 0)
    return invalid(where + "max_per_second " + std::to_string(t.max_per_second) + " < 0");
  if (t.kind == "smpp" && !isHostPort(t.address))
    return invalid(where + "address '" + t.address + "' is not HOST:PORT");
  if (t.kind == "sip" && t.address.empty())
    return invalid(where + "a sip trunk needs the name of the SIP trunk in address");
  for (const std::string& p : t.prefixes)
    if (!isPrefix(p)) return invalid(where + "prefix '" + p + "' is not + then 1 to 15 digits");
  return {};
}

std::string joinPrefixes(const std::vector<std::string>& prefixes) {
  std::string out;
  for (const std::string& p : prefixes) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

std::vector<std::string> splitPrefixes(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    size_t comma = joined.find(',');
    out.emplace_back(joined.substr(0, comma));
    joined = comma == std::string_view::npos ? std::string_view() : joined.substr(comma + 1);
  }
  return out;
}

constexpr std::string_view kTrunkColumns =
    "name, kind, address, system_id, password_sealed, system_type, send_window, max_per_second,"
    " prefixes, created_at";

class SqlMessagingSettings final : public MessagingSettings {
 public:
  explicit SqlMessagingSettings(Database& db) : db_(db) {}

  common::Result<AccountMessagingSettings> account(std::string_view account_sid) override {
    auto row = db_.queryOne(
        "SELECT sms_per_second, dlr_level2, help_text, stop_text, start_text, updated_at"
        " FROM account_messaging_settings WHERE account_sid = ?",
        {std::string(account_sid)});
    if (!row) return row.error();
    AccountMessagingSettings s;
    s.account_sid = std::string(account_sid);
    if (!*row) return s;
    const Row& r = **row;
    s.sms_per_second = r.integer(0);
    s.dlr_level2 = r.integer(1) != 0;
    s.help_text = r.text(2);
    s.stop_text = r.text(3);
    s.start_text = r.text(4);
    s.updated_at = r.integer(5);
    return s;
  }

  common::Status putAccount(const AccountMessagingSettings& s) override {
    if (!isSid(s.account_sid, "AC"))
      return invalid("account sid '" + s.account_sid + "' is not AC and 32 hex digits");
    if (s.sms_per_second < 1 || s.sms_per_second > kMaxSmsPerSecond)
      return invalid("sms_per_second " + std::to_string(s.sms_per_second) + " is outside 1.." +
                     std::to_string(kMaxSmsPerSecond));
    auto n = db_.exec(
        "INSERT INTO account_messaging_settings (account_sid, sms_per_second, dlr_level2,"
        " help_text, stop_text, start_text, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account_sid) DO UPDATE SET sms_per_second = excluded.sms_per_second,"
        " dlr_level2 = excluded.dlr_level2, help_text = excluded.help_text,"
        " stop_text = excluded.stop_text, start_text = excluded.start_text,"
        " updated_at = excluded.updated_at",
        {s.account_sid, s.sms_per_second, int64_t{s.dlr_level2 ? 1 : 0}, s.help_text, s.stop_text,
         s.start_text, s.updated_at});
    if (!n) {
      if (internal::isForeignKeyViolation(n.error()))
        return invalid("account " + s.account_sid + " does not exist");
      return n.error();
    }
    return {};
  }

  common::Status upsertTrunk(const SmsTrunk& t) override {
    if (auto st = checkTrunk(t); !st) return st;
    // A replaced trunk keeps its creation time.
    static const std::string sql =
        "INSERT INTO sms_trunks (" + std::string(kTrunkColumns) +
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, address = excluded.address,"
        " system_id = excluded.system_id, password_sealed = excluded.password_sealed,"
        " system_type = excluded.system_type, send_window = excluded.send_window,"
        " max_per_second = excluded.max_per_second, prefixes = excluded.prefixes";
    auto n =
        db_.exec(sql, {t.name, t.kind, t.address, t.system_id, t.password_sealed, t.system_type,
                       t.window, t.max_per_second, joinPrefixes(t.prefixes), t.created_at});
    if (!n) return n.error();
    return {};
  }

  common::Result<std::vector<SmsTrunk>> listTrunks() override {
    static const std::string sql =
        "SELECT " + std::string(kTrunkColumns) + " FROM sms_trunks ORDER BY name";
    auto rows = db_.query(sql);
    if (!rows) return rows.error();
    std::vector<SmsTrunk> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) {
      SmsTrunk t;
      t.name = r.text(0);
      t.kind = r.text(1);
      t.address = r.text(2);
      t.system_id = r.text(3);
      t.password_sealed = r.text(4);
      t.system_type = r.text(5);
      t.window = r.integer(6);
      t.max_per_second = r.integer(7);
      t.prefixes = splitPrefixes(r.text(8));
      t.created_at = r.integer(9);
      out.push_back(std::move(t));
    }
    return out;
  }

  common::Result<bool> removeTrunk(std::string_view name) override {
    auto n = db_.exec("DELETE FROM sms_trunks WHERE name = ?", {std::string(name)});
    if (!n) return n.error();
    return *n > 0;
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<MessagingSettings> makeSqlMessagingSettings(Database& db) {
  return std::make_unique<SqlMessagingSettings>(db);
}
}  // namespace internal

}  // namespace store
