#include "store/registrations.h"

#include "common/strings.h"

#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace internal {

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

}  // namespace internal

namespace {

common::Unexpected badAor(std::string_view uri, std::string_view why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "store: bad address-of-record '" + std::string(uri) + "': " + std::string(why));
}

}  // namespace

common::Result<std::string> normalizeAor(std::string_view uri) {
  std::string_view s = uri;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (size_t lt = s.find('<'); lt != std::string_view::npos) {  // name-addr: keep the URI
    size_t gt = s.find('>', lt);
    if (gt == std::string_view::npos) return badAor(uri, "'<' without '>'");
    s = s.substr(lt + 1, gt - lt - 1);
  }
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return badAor(uri, "space or control");
  size_t colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos) return badAor(uri, "no scheme");
  std::string scheme = internal::asciiLower(s.substr(0, colon));
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return badAor(uri, "bad scheme");
  std::string_view rest = s.substr(colon + 1);
  // No '@' can appear unescaped in a parameter or header, so the first one ends the userinfo.
  std::string user;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    userinfo = userinfo.substr(0, userinfo.find(':'));  // a (deprecated) password is not identity
    for (size_t i = 0; i < userinfo.size(); ++i) {
      if (userinfo[i] != '%') {
        user += userinfo[i];
        continue;
      }
      int hi = i + 2 < userinfo.size() ? common::hexValue(userinfo[i + 1]) : -1;
      int lo = i + 2 < userinfo.size() ? common::hexValue(userinfo[i + 2]) : -1;
      if (hi < 0 || lo < 0) return badAor(uri, "bad %-escape in user");
      user += char(hi * 16 + lo);
      i += 2;
    }
    if (user.empty()) return badAor(uri, "empty user before '@'");
    rest = rest.substr(at + 1);
  }
  std::string host = internal::asciiLower(rest.substr(0, rest.find_first_of(";?")));
  if (host.empty()) return badAor(uri, "no host");
  return scheme + ":" + (user.empty() ? "" : user + "@") + host;
}

namespace {

constexpr std::string_view kColumns =
    "aor, contact, instance_id, reg_id, call_id, cseq, expires_at, q, path, flow, flow_local, "
    "flow_connection_id, user_agent, updated_at";

std::string joinPath(const std::vector<std::string>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += '\n';
    out += path[i];
  }
  return out;
}

std::vector<std::string> splitPath(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

Binding fromRow(const Row& r) {
  Binding b;
  b.aor = r.text(0);
  b.contact = r.text(1);
  b.instance_id = r.optionalText(2);
  if (auto id = r.optionalInteger(3)) b.reg_id = uint32_t(*id);
  b.call_id = r.text(4);
  b.cseq = uint32_t(r.integer(5));
  b.expires_at = r.integer(6);
  b.q = int(r.integer(7));
  b.path = splitPath(r.text(8));
  b.flow.remote = r.text(9);
  b.flow.local = r.text(10);
  b.flow.connection_id = r.integer(11);
  b.user_agent = r.text(12);
  b.updated_at = r.integer(13);
  return b;
}

common::Result<std::vector<Binding>> toBindings(common::Result<std::vector<Row>> rows) {
  if (!rows) return rows.error();
  std::vector<Binding> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(fromRow(r));
  return out;
}

constexpr std::string_view kDeleteOne =
    "DELETE FROM sip_registrations WHERE aor = ? AND contact = ?";

// One upsert on a Database (autocommit) or inside a transaction (Tx).
template <typename Exec>
common::Status upsertWith(Exec& exec, const Binding& b) {
  auto aor = normalizeAor(b.aor);
  if (!aor) return aor.error();
  if (b.contact.empty())
    return makeError(ErrorCode::kInvalidArgument, "store: binding without a contact");
  if (b.q < 0 || b.q > 1000)
    return makeError(ErrorCode::kInvalidArgument,
                     "store: binding q " + std::to_string(b.q) + " is outside 0..1000");
  for (const std::string& p : b.path)
    if (p.empty() || p.find_first_of("\r\n") != std::string::npos)
      return makeError(ErrorCode::kInvalidArgument,
                       "store: binding path entry is empty or holds CR/LF");
  static const std::string sql =
      "INSERT INTO sip_registrations (" + std::string(kColumns) +
      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (aor, contact) DO UPDATE SET"
      " instance_id = excluded.instance_id, reg_id = excluded.reg_id,"
      " call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at,"
      " q = excluded.q, path = excluded.path, flow = excluded.flow,"
      " flow_local = excluded.flow_local, flow_connection_id = excluded.flow_connection_id,"
      " user_agent = excluded.user_agent, updated_at = excluded.updated_at";
  Value reg_id = nullptr;
  if (b.reg_id) reg_id = int64_t{*b.reg_id};
  auto n =
      exec.exec(sql, {*aor, b.contact, nullable(b.instance_id), reg_id, b.call_id, int64_t{b.cseq},
                      b.expires_at, int64_t{b.q}, joinPath(b.path), b.flow.remote, b.flow.local,
                      b.flow.connection_id, b.user_agent, b.updated_at});
  if (!n) return n.error();
  return {};
}

class SqlRegistrations final : public Registrations {
 public:
  explicit SqlRegistrations(Database& db) : db_(db) {}

  common::Status upsert(const Binding& b) override { return upsertWith(db_, b); }

  common::Status apply(const std::vector<Binding>& upserts,
                       const std::vector<std::pair<std::string, std::string>>& removals) override {
    return db_.transaction([&](Tx& tx) -> common::Status {
      for (const Binding& b : upserts) {
        if (auto st = upsertWith(tx, b); !st) return st;
      }
      for (const auto& [aor, contact] : removals) {
        auto key = normalizeAor(aor);
        if (!key) return key.error();
        auto n = tx.exec(kDeleteOne, {*key, contact});
        if (!n) return n.error();
      }
      return {};
    });
  }

  common::Result<bool> remove(std::string_view aor, std::string_view contact) override {
    auto key = normalizeAor(aor);
    if (!key) return key.error();
    auto n = db_.exec(kDeleteOne, {*key, std::string(contact)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<int64_t> removeAll(std::string_view aor) override {
    auto key = normalizeAor(aor);
    if (!key) return key.error();
    return db_.exec("DELETE FROM sip_registrations WHERE aor = ?", {*key});
  }

  common::Result<std::vector<Binding>> list(std::string_view aor, int64_t now) override {
    auto key = normalizeAor(aor);
    if (!key) return key.error();
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM sip_registrations WHERE aor = ? AND expires_at > ?"
                                   " ORDER BY q DESC, updated_at ASC, contact ASC";
    return toBindings(db_.query(sql, {*key, now}));
  }

  common::Result<std::vector<Binding>> listAll(int64_t now) override {
    static const std::string sql = "SELECT " + std::string(kColumns) +
                                   " FROM sip_registrations WHERE expires_at > ?"
                                   " ORDER BY aor ASC, q DESC, updated_at ASC, contact ASC";
    return toBindings(db_.query(sql, {now}));
  }

  common::Result<int64_t> purgeExpired(int64_t now) override {
    return db_.exec("DELETE FROM sip_registrations WHERE expires_at <= ?", {now});
  }

  common::Result<int64_t> count() override {
    return db_.queryInteger("SELECT COUNT(*) FROM sip_registrations");
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<Registrations> makeSqlRegistrations(Database& db) {
  return std::make_unique<SqlRegistrations>(db);
}
}  // namespace internal

}  // namespace store
