#include "store/sip_domain_owners.h"

#include <map>
#include <utility>

#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

constexpr std::string_view kColumns = "domain, account_sid, claimed_at, claimed_by";

SipDomainOwner fromRow(const Row& r) {
  return SipDomainOwner{r.text(0), r.optionalText(1), r.integer(2), r.text(3)};
}

common::Status checkClaim(std::string_view domain, std::string_view claimed_by) {
  if (domain.empty()) return makeError(ErrorCode::kInvalidArgument, "store: empty sip domain");
  if (claimed_by != "config" && claimed_by != "admin" && claimed_by != "api")
    return makeError(ErrorCode::kInvalidArgument,
                     "store: a sip domain is claimed by config, admin or api, not '" +
                         std::string(claimed_by) + "'");
  return {};
}

// The rows of a holder that is not the owner: credentials grouped by holder, then API SIP
// Domains. "Not the owner" is spelled out case by case: a comparison with NULL (the
// operator) is unknown, and NOT of unknown would drop the row.
constexpr std::string_view kStrayCredentials =
    "SELECT c.domain, CASE WHEN o.domain IS NULL THEN 0 ELSE 1 END, o.account_sid,"
    " c.account_sid, COUNT(*)"
    " FROM sip_credentials c LEFT JOIN sip_domain_owners o ON o.domain = c.domain"
    " WHERE o.domain IS NULL"
    "  OR (o.account_sid IS NULL AND c.account_sid IS NOT NULL)"
    "  OR (o.account_sid IS NOT NULL"
    "      AND (c.account_sid IS NULL OR c.account_sid <> o.account_sid))"
    " GROUP BY c.domain, o.domain, o.account_sid, c.account_sid";
constexpr std::string_view kStraySipDomains =
    "SELECT d.domain_name, CASE WHEN o.domain IS NULL THEN 0 ELSE 1 END, o.account_sid,"
    " d.account_sid, d.sid"
    " FROM api_sip_domains d LEFT JOIN sip_domain_owners o ON o.domain = d.domain_name"
    " WHERE o.domain IS NULL OR o.account_sid IS NULL OR o.account_sid <> d.account_sid";

class SqlSipDomainOwners final : public SipDomainOwners {
 public:
  explicit SqlSipDomainOwners(Database& db) : db_(db) {}

  common::Result<ClaimOutcome> claim(std::string_view domain,
                                     const std::optional<std::string>& account_sid,
                                     std::string_view claimed_by, int64_t now) override {
    const std::string name = internal::asciiLower(domain);
    if (auto st = checkClaim(name, claimed_by); !st) return st.error();
    ClaimOutcome outcome = ClaimOutcome::kTaken;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto got = internal::claimSipDomain(tx, name, account_sid, claimed_by, now);
      if (!got) return got.error();
      outcome = *got;
      return {};
    });
    if (!st) return st.error();
    return outcome;
  }

  common::Result<std::optional<SipDomainOwner>> find(std::string_view domain) override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM sip_domain_owners WHERE domain = ?";
    auto row = db_.queryOne(sql, {internal::asciiLower(domain)});
    if (!row) return row.error();
    if (!*row) return std::optional<SipDomainOwner>();
    return std::optional<SipDomainOwner>(fromRow(**row));
  }

  common::Result<std::vector<SipDomainOwner>> list() override {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM sip_domain_owners ORDER BY domain";
    auto rows = db_.query(sql);
    if (!rows) return rows.error();
    std::vector<SipDomainOwner> out;
    for (const Row& r : *rows) out.push_back(fromRow(r));
    return out;
  }

  common::Result<std::optional<SipDomainOwner>> assign(
      std::string_view domain, const std::optional<std::string>& account_sid,
      std::string_view claimed_by, int64_t now) override {
    const std::string name = internal::asciiLower(domain);
    if (auto st = checkClaim(name, claimed_by); !st) return st.error();
    std::optional<SipDomainOwner> previous;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      static const std::string sql =
          "SELECT " + std::string(kColumns) + " FROM sip_domain_owners WHERE domain = ?";
      auto row = tx.queryOne(sql, {name});
      if (!row) return row.error();
      if (*row) previous = fromRow(**row);
      auto n = tx.exec(
          "INSERT INTO sip_domain_owners (domain, account_sid, claimed_at, claimed_by)"
          " VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET"
          " account_sid = excluded.account_sid, claimed_at = excluded.claimed_at,"
          " claimed_by = excluded.claimed_by",
          {name, nullable(account_sid), now, std::string(claimed_by)});
      if (!n) return n.error();
      return {};
    });
    if (!st) return st.error();
    return previous;
  }

  common::Result<bool> release(std::string_view domain) override {
    auto n =
        db_.exec("DELETE FROM sip_domain_owners WHERE domain = ?", {internal::asciiLower(domain)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<std::vector<SipDomainStray>> strays() override {
    // Keyed by (name, holder) so a holder's credentials and SIP Domain make one entry; the
    // operator (no account) sorts first as the empty string.
    std::map<std::pair<std::string, std::string>, SipDomainStray> found;
    auto entry = [&](const Row& r) -> SipDomainStray& {
      std::optional<std::string> holder = r.optionalText(3);
      SipDomainStray& s = found[{r.text(0), holder.value_or("")}];
      s.domain = r.text(0);
      s.owned = r.integer(1) != 0;
      s.owner = r.optionalText(2);
      s.holder = holder;
      return s;
    };
    auto creds = db_.query(kStrayCredentials);
    if (!creds) return creds.error();
    for (const Row& r : *creds) entry(r).credentials = r.integer(4);
    auto domains = db_.query(kStraySipDomains);
    if (!domains) return domains.error();
    for (const Row& r : *domains) entry(r).sip_domain = r.text(4);
    std::vector<SipDomainStray> out;
    for (auto& [key, s] : found) out.push_back(std::move(s));
    return out;
  }

 private:
  Database& db_;
};

}  // namespace

namespace internal {

std::unique_ptr<SipDomainOwners> makeSqlSipDomainOwners(Database& db) {
  return std::make_unique<SqlSipDomainOwners>(db);
}

common::Result<ClaimOutcome> claimSipDomain(Tx& tx, const std::string& domain,
                                            const std::optional<std::string>& account_sid,
                                            std::string_view claimed_by, int64_t now) {
  auto n = tx.exec(
      "INSERT INTO sip_domain_owners (domain, account_sid, claimed_at, claimed_by)"
      " VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING",
      {domain, nullable(account_sid), now, std::string(claimed_by)});
  if (!n) return n.error();
  if (*n > 0) return ClaimOutcome::kClaimed;
  auto row = tx.queryOne("SELECT account_sid FROM sip_domain_owners WHERE domain = ?", {domain});
  if (!row) return row.error();
  // Released meanwhile by another node: taken, the safe answer; the claimant may retry.
  if (!*row) return ClaimOutcome::kTaken;
  return (*row)->optionalText(0) == account_sid ? ClaimOutcome::kOwned : ClaimOutcome::kTaken;
}

common::Status releaseApiClaim(Tx& tx, const std::string& domain) {
  auto n = tx.exec(
      "DELETE FROM sip_domain_owners WHERE domain = ? AND claimed_by = 'api'"
      " AND NOT EXISTS (SELECT 1 FROM api_sip_domains WHERE domain_name = ?)"
      " AND NOT EXISTS (SELECT 1 FROM sip_credentials WHERE domain = ?)",
      {domain, domain, domain});
  if (!n) return n.error();
  return {};
}

}  // namespace internal

}  // namespace store
