#include "store/sip_domains.h"

#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

const char* sipDomainModeName(SipDomainMode mode) {
  return mode == SipDomainMode::kRedirect ? "redirect" : "proxy";
}

std::optional<SipDomainMode> parseSipDomainMode(std::string_view text) {
  if (text == "proxy") return SipDomainMode::kProxy;
  if (text == "redirect") return SipDomainMode::kRedirect;
  return std::nullopt;
}

namespace {

constexpr std::string_view kColumns = "domain, realm, mode, account_sid";

common::Result<SipDomain> fromRow(const Row& r) {
  auto mode = parseSipDomainMode(r.text(2));
  if (!mode)
    return makeError(ErrorCode::kInternal,
                     "store: sip domain '" + r.text(0) + "' has unknown mode '" + r.text(2) + "'");
  return SipDomain{r.text(0), r.text(1), *mode, r.optionalText(3)};
}

class SqlSipDomains final : public SipDomains {
 public:
  explicit SqlSipDomains(Database& db) : db_(db) {}

  common::Status upsert(const SipDomain& d) override {
    std::string domain = internal::asciiLower(d.domain);
    if (domain.empty()) return makeError(ErrorCode::kInvalidArgument, "store: empty sip domain");
    static const std::string sql = "INSERT INTO sip_domains (" + std::string(kColumns) +
                                   ") VALUES (?, ?, ?, ?)"
                                   " ON CONFLICT (domain) DO UPDATE SET realm = excluded.realm,"
                                   " mode = excluded.mode, account_sid = excluded.account_sid";
    std::string realm = d.realm.empty() ? domain : d.realm;
    auto n = db_.exec(
        sql, {domain, realm, std::string(sipDomainModeName(d.mode)), nullable(d.account_sid)});
    if (!n) return n.error();
    return {};
  }

  common::Result<std::optional<SipDomain>> find(std::string_view domain) override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM sip_domains WHERE domain = ?";
    auto row = db_.queryOne(sql, {internal::asciiLower(domain)});
    if (!row) return row.error();
    if (!*row) return std::optional<SipDomain>();
    auto d = fromRow(**row);
    if (!d) return d.error();
    return std::optional<SipDomain>(std::move(*d));
  }

  common::Result<std::vector<SipDomain>> list() override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM sip_domains ORDER BY domain";
    auto rows = db_.query(sql);
    if (!rows) return rows.error();
    std::vector<SipDomain> out;
    for (const Row& r : *rows) {
      auto d = fromRow(r);
      if (!d) return d.error();
      out.push_back(std::move(*d));
    }
    return out;
  }

  common::Result<bool> remove(std::string_view domain) override {
    auto n = db_.exec("DELETE FROM sip_domains WHERE domain = ?", {internal::asciiLower(domain)});
    if (!n) return n.error();
    return *n > 0;
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<SipDomains> makeSqlSipDomains(Database& db) {
  return std::make_unique<SqlSipDomains>(db);
}
}  // namespace internal

}  // namespace store
