#include "store/sip_auth_lists.h"

#include <algorithm>
#include <set>

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

bool isSipDomainName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t labels = 0;
  bool last_all_digits = true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    last_all_digits = true;
    for (char c : label) {
      const bool digit = c >= '0' && c <= '9';
      if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-') return false;
      last_all_digits = last_all_digits && digit;
    }
    ++labels;
    start = end + 1;
  }
  // "10.0.0.1" is an address, not a name: no top-level domain is all digits.
  return labels >= 2 && !last_all_digits;
}

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: sip auth lists: " + why);
}

// Returned by a transaction that must undo its writes because the name turned out taken
// (the outcome says kTaken; the caller does not see this error).
common::Unexpected takenRollback() {
  return makeError(ErrorCode::kInternal, "store: sip auth lists: the domain name is taken");
}

// PostgreSQL's row lock; SQLite serializes every write transaction anyway.
std::string forUpdate(Tx& tx) {
  return tx.dialect() == Dialect::kPostgres ? " FOR UPDATE" : "";
}

constexpr std::string_view kDomainColumns =
    "d.sid, d.account_sid, d.domain_name, d.friendly_name, d.voice_url, d.voice_method,"
    " d.voice_fallback_url, d.voice_fallback_method, d.voice_status_callback_url,"
    " d.voice_status_callback_method, d.sip_registration, d.created_at, d.updated_at,"
    " (SELECT COUNT(*) FROM sip_domain_list_mappings m WHERE m.domain_sid = d.sid)";

ApiSipDomain domainFromRow(const Row& r) {
  ApiSipDomain d;
  d.sid = r.text(0);
  d.account_sid = r.text(1);
  d.domain_name = r.text(2);
  d.friendly_name = r.text(3);
  d.voice_url = r.text(4);
  d.voice_method = r.text(5);
  d.voice_fallback_url = r.text(6);
  d.voice_fallback_method = r.text(7);
  d.voice_status_callback_url = r.text(8);
  d.voice_status_callback_method = r.text(9);
  d.sip_registration = r.integer(10) != 0;
  d.created_at = r.integer(11);
  d.updated_at = r.integer(12);
  d.credential_lists = r.integer(13);
  return d;
}

constexpr std::string_view kListColumns = "sid, account_sid, friendly_name, created_at, updated_at";

CredentialList listFromRow(const Row& r) {
  return CredentialList{r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4)};
}

constexpr std::string_view kCredentialColumns =
    "c.sid, c.account_sid, c.list_sid, c.username, c.password_sealed, c.created_at, c.updated_at";

ListCredential credentialFromRow(const Row& r) {
  return ListCredential{r.text(0), r.text(1),    r.text(2),   r.text(3),
                        r.text(4), r.integer(5), r.integer(6)};
}

constexpr std::string_view kMappingSelect =
    "SELECT m.domain_sid, m.list_sid, m.account_sid, l.friendly_name, m.created_at"
    " FROM sip_domain_list_mappings m JOIN sip_credential_lists l ON l.sid = m.list_sid";

DomainListMapping mappingFromRow(const Row& r) {
  return DomainListMapping{r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4)};
}

bool isHexOf(std::string_view s, size_t digits) {
  if (s.size() != digits) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

common::Status checkDomain(const ApiSipDomain& d) {
  if (!isSid(d.sid, "SD")) return invalid("sid '" + d.sid + "' is not SD and 32 hex digits");
  if (!isSipDomainName(d.domain_name))
    return invalid("'" + d.domain_name + "' is not a DNS host name");
  return {};
}

class SqlSipAuthLists final : public SipAuthLists {
 public:
  explicit SqlSipAuthLists(Database& db) : db_(db) {}

  // --- Domains -------------------------------------------------------------------------

  common::Result<SipAuthOutcome> createDomain(const ApiSipDomain& in) override {
    if (auto st = checkDomain(in); !st) return st.error();
    ApiSipDomain d = in;
    d.domain_name = internal::asciiLower(d.domain_name);
    SipAuthOutcome outcome = SipAuthOutcome::kDone;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto account = tx.queryOne("SELECT 1 FROM accounts WHERE sid = ?", {d.account_sid});
      if (!account) return account.error();
      if (!*account) return invalid("account " + d.account_sid + " does not exist");
      if (auto claimed = claimName(tx, d, outcome); !claimed || outcome == SipAuthOutcome::kTaken)
        return claimed;
      Params p = {d.sid, d.account_sid, d.domain_name};
      for (Value& v : mutableValues(d)) p.push_back(std::move(v));
      p.push_back(d.created_at);
      auto n = tx.exec(
          "INSERT INTO api_sip_domains (sid, account_sid, domain_name, friendly_name, voice_url,"
          " voice_method, voice_fallback_url, voice_fallback_method, voice_status_callback_url,"
          " voice_status_callback_method, sip_registration, updated_at, created_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          p);
      if (!n) return n.error();
      return {};
    });
    if (!st && outcome != SipAuthOutcome::kTaken) return st.error();
    return outcome;
  }

  common::Result<std::optional<ApiSipDomain>> findDomain(std::string_view account_sid,
                                                         std::string_view sid) override {
    static const std::string sql = "SELECT " + std::string(kDomainColumns) +
                                   " FROM api_sip_domains d WHERE d.account_sid = ? AND d.sid = ?";
    auto row = db_.queryOne(sql, {std::string(account_sid), std::string(sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<ApiSipDomain>();
    return std::optional<ApiSipDomain>(domainFromRow(**row));
  }

  common::Result<std::vector<ApiSipDomain>> listDomains(std::string_view account_sid,
                                                        int64_t offset, int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    static const std::string sql = "SELECT " + std::string(kDomainColumns) +
                                   " FROM api_sip_domains d WHERE d.account_sid = ?"
                                   " ORDER BY d.created_at, d.sid LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<ApiSipDomain> out;
    for (const Row& r : *rows) out.push_back(domainFromRow(r));
    return out;
  }

  common::Result<SipAuthOutcome> updateDomain(const ApiSipDomain& in,
                                              const Deriver& derive) override {
    if (auto st = checkDomain(in); !st) return st.error();
    ApiSipDomain d = in;
    d.domain_name = internal::asciiLower(d.domain_name);
    SipAuthOutcome outcome = SipAuthOutcome::kDone;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto old =
          tx.queryOne("SELECT domain_name FROM api_sip_domains WHERE account_sid = ? AND sid = ?" +
                          forUpdate(tx),
                      {d.account_sid, d.sid});
      if (!old) return old.error();
      if (!*old) {
        outcome = SipAuthOutcome::kNotFound;
        return {};
      }
      const std::string old_name = (*old)->text(0);
      const bool renamed = old_name != d.domain_name;
      if (renamed) {
        if (auto claimed = claimName(tx, d, outcome); !claimed || outcome == SipAuthOutcome::kTaken)
          return claimed;
        if (auto gone = dropDerived(tx, old_name); !gone) return gone;
      }
      Params p = mutableValues(d);
      p.push_back(d.domain_name);
      p.push_back(d.account_sid);
      p.push_back(d.sid);
      auto n = tx.exec(
          "UPDATE api_sip_domains SET friendly_name = ?, voice_url = ?, voice_method = ?,"
          " voice_fallback_url = ?, voice_fallback_method = ?, voice_status_callback_url = ?,"
          " voice_status_callback_method = ?, sip_registration = ?, updated_at = ?,"
          " domain_name = ? WHERE account_sid = ? AND sid = ?",
          p);
      if (!n) return n.error();
      if (!renamed) return {};
      auto edge = tx.exec("DELETE FROM sip_domains WHERE domain = ?", {old_name});
      if (!edge) return edge.error();
      if (auto freed = internal::releaseApiClaim(tx, old_name); !freed) return freed;
      return recompute(tx, d.sid, derive);
    });
    if (!st && outcome != SipAuthOutcome::kTaken) return st.error();
    return outcome;
  }

  common::Result<bool> removeDomain(std::string_view account_sid, std::string_view sid) override {
    bool removed = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto found =
          tx.queryOne("SELECT domain_name FROM api_sip_domains WHERE account_sid = ? AND sid = ?" +
                          forUpdate(tx),
                      {std::string(account_sid), std::string(sid)});
      if (!found) return found.error();
      if (!*found) return {};
      const std::string name = (*found)->text(0);
      for (const char* sql : {"DELETE FROM sip_domain_list_mappings WHERE domain_sid = ?",
                              "DELETE FROM api_sip_domains WHERE sid = ?"}) {
        auto n = tx.exec(sql, {std::string(sid)});
        if (!n) return n.error();
      }
      if (auto gone = dropDerived(tx, name); !gone) return gone;
      auto edge = tx.exec("DELETE FROM sip_domains WHERE domain = ?", {name});
      if (!edge) return edge.error();
      if (auto freed = internal::releaseApiClaim(tx, name); !freed) return freed;
      removed = true;
      return {};
    });
    if (!st) return st.error();
    return removed;
  }

  // --- Credential lists ----------------------------------------------------------------

  common::Status createList(const CredentialList& l) override {
    if (!isSid(l.sid, "CL")) return invalid("sid '" + l.sid + "' is not CL and 32 hex digits");
    return db_.transaction([&](Tx& tx) -> common::Status {
      auto account = tx.queryOne("SELECT 1 FROM accounts WHERE sid = ?", {l.account_sid});
      if (!account) return account.error();
      if (!*account) return invalid("account " + l.account_sid + " does not exist");
      auto n = tx.exec("INSERT INTO sip_credential_lists (" + std::string(kListColumns) +
                           ") VALUES (?, ?, ?, ?, ?)",
                       {l.sid, l.account_sid, l.friendly_name, l.created_at, l.updated_at});
      if (!n) return n.error();
      return {};
    });
  }

  common::Result<std::optional<CredentialList>> findList(std::string_view account_sid,
                                                         std::string_view sid) override {
    static const std::string sql = "SELECT " + std::string(kListColumns) +
                                   " FROM sip_credential_lists WHERE account_sid = ? AND sid = ?";
    auto row = db_.queryOne(sql, {std::string(account_sid), std::string(sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<CredentialList>();
    return std::optional<CredentialList>(listFromRow(**row));
  }

  common::Result<std::vector<CredentialList>> listLists(std::string_view account_sid,
                                                        int64_t offset, int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    static const std::string sql = "SELECT " + std::string(kListColumns) +
                                   " FROM sip_credential_lists WHERE account_sid = ?"
                                   " ORDER BY created_at, sid LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<CredentialList> out;
    for (const Row& r : *rows) out.push_back(listFromRow(r));
    return out;
  }

  common::Result<bool> renameList(std::string_view account_sid, std::string_view sid,
                                  std::string_view friendly_name, int64_t updated_at) override {
    auto n = db_.exec(
        "UPDATE sip_credential_lists SET friendly_name = ?, updated_at = ?"
        " WHERE account_sid = ? AND sid = ?",
        {std::string(friendly_name), updated_at, std::string(account_sid), std::string(sid)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<bool> removeList(std::string_view account_sid, std::string_view sid,
                                  const Deriver& derive) override {
    bool removed = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto domains = lockList(tx, account_sid, sid);
      if (!domains) return domains.error();
      if (!*domains) return {};
      for (const char* sql : {"DELETE FROM sip_domain_list_mappings WHERE list_sid = ?",
                              "DELETE FROM sip_list_credentials WHERE list_sid = ?",
                              "DELETE FROM sip_credential_lists WHERE sid = ?"}) {
        auto n = tx.exec(sql, {std::string(sid)});
        if (!n) return n.error();
      }
      removed = true;
      return recomputeAll(tx, **domains, derive);
    });
    if (!st) return st.error();
    return removed;
  }

  // --- Credentials ---------------------------------------------------------------------

  common::Result<SipAuthOutcome> createCredential(const ListCredential& c,
                                                  const Deriver& derive) override {
    if (!isSid(c.sid, "CR")) return invalid("sid '" + c.sid + "' is not CR and 32 hex digits");
    if (c.username.empty() || c.password_sealed.empty())
      return invalid("a credential needs a username and a password");
    SipAuthOutcome outcome = SipAuthOutcome::kDone;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto domains = lockList(tx, c.account_sid, c.list_sid);
      if (!domains) return domains.error();
      if (!*domains) {
        outcome = SipAuthOutcome::kNotFound;
        return {};
      }
      auto n = tx.exec(
          "INSERT INTO sip_list_credentials (sid, account_sid, list_sid, username,"
          " password_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT (list_sid, username) DO NOTHING",
          {c.sid, c.account_sid, c.list_sid, c.username, c.password_sealed, c.created_at,
           c.updated_at});
      if (!n) return n.error();
      if (*n == 0) {
        outcome = SipAuthOutcome::kTaken;
        return {};
      }
      return recomputeAll(tx, **domains, derive);
    });
    if (!st) return st.error();
    return outcome;
  }

  common::Result<std::optional<ListCredential>> findCredential(std::string_view account_sid,
                                                               std::string_view list_sid,
                                                               std::string_view sid) override {
    static const std::string sql =
        "SELECT " + std::string(kCredentialColumns) +
        " FROM sip_list_credentials c WHERE c.account_sid = ? AND c.list_sid = ? AND c.sid = ?";
    auto row =
        db_.queryOne(sql, {std::string(account_sid), std::string(list_sid), std::string(sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<ListCredential>();
    return std::optional<ListCredential>(credentialFromRow(**row));
  }

  common::Result<std::vector<ListCredential>> listCredentials(std::string_view account_sid,
                                                              std::string_view list_sid,
                                                              int64_t offset,
                                                              int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    static const std::string sql = "SELECT " + std::string(kCredentialColumns) +
                                   " FROM sip_list_credentials c"
                                   " WHERE c.account_sid = ? AND c.list_sid = ?"
                                   " ORDER BY c.created_at, c.sid LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), std::string(list_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<ListCredential> out;
    for (const Row& r : *rows) out.push_back(credentialFromRow(r));
    return out;
  }

  common::Result<bool> updatePassword(std::string_view account_sid, std::string_view list_sid,
                                      std::string_view sid, std::string_view password_sealed,
                                      int64_t updated_at, const Deriver& derive) override {
    if (password_sealed.empty()) return invalid("a credential needs a password");
    return changeCredential(account_sid, list_sid, derive,
                            "UPDATE sip_list_credentials SET password_sealed = ?, updated_at = ?"
                            " WHERE account_sid = ? AND list_sid = ? AND sid = ?",
                            {std::string(password_sealed), updated_at, std::string(account_sid),
                             std::string(list_sid), std::string(sid)});
  }

  common::Result<bool> removeCredential(std::string_view account_sid, std::string_view list_sid,
                                        std::string_view sid, const Deriver& derive) override {
    return changeCredential(
        account_sid, list_sid, derive,
        "DELETE FROM sip_list_credentials WHERE account_sid = ? AND list_sid = ? AND sid = ?",
        {std::string(account_sid), std::string(list_sid), std::string(sid)});
  }

  // --- Mappings ------------------------------------------------------------------------

  common::Result<SipAuthOutcome> createMapping(std::string_view account_sid,
                                               std::string_view domain_sid,
                                               std::string_view list_sid, int64_t created_at,
                                               const Deriver& derive) override {
    SipAuthOutcome outcome = SipAuthOutcome::kDone;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto locked = lockListAndDomain(tx, account_sid, list_sid, domain_sid);
      if (!locked) return locked.error();
      if (!*locked) {
        outcome = SipAuthOutcome::kNotFound;
        return {};
      }
      auto n = tx.exec(
          "INSERT INTO sip_domain_list_mappings (domain_sid, list_sid, account_sid, created_at)"
          " VALUES (?, ?, ?, ?) ON CONFLICT (domain_sid, list_sid) DO NOTHING",
          {std::string(domain_sid), std::string(list_sid), std::string(account_sid), created_at});
      if (!n) return n.error();
      if (*n == 0) {
        outcome = SipAuthOutcome::kTaken;
        return {};
      }
      return recompute(tx, domain_sid, derive);
    });
    if (!st) return st.error();
    return outcome;
  }

  common::Result<std::optional<DomainListMapping>> findMapping(std::string_view account_sid,
                                                               std::string_view domain_sid,
                                                               std::string_view list_sid) override {
    static const std::string sql =
        std::string(kMappingSelect) +
        " WHERE m.account_sid = ? AND m.domain_sid = ? AND m.list_sid = ?";
    auto row = db_.queryOne(
        sql, {std::string(account_sid), std::string(domain_sid), std::string(list_sid)});
    if (!row) return row.error();
    if (!*row) return std::optional<DomainListMapping>();
    return std::optional<DomainListMapping>(mappingFromRow(**row));
  }

  common::Result<std::vector<DomainListMapping>> listMappings(std::string_view account_sid,
                                                              std::string_view domain_sid,
                                                              int64_t offset,
                                                              int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    static const std::string sql = std::string(kMappingSelect) +
                                   " WHERE m.account_sid = ? AND m.domain_sid = ?"
                                   " ORDER BY m.created_at, m.list_sid LIMIT ? OFFSET ?";
    auto rows = db_.query(sql, {std::string(account_sid), std::string(domain_sid), limit, offset});
    if (!rows) return rows.error();
    std::vector<DomainListMapping> out;
    for (const Row& r : *rows) out.push_back(mappingFromRow(r));
    return out;
  }

  common::Result<bool> removeMapping(std::string_view account_sid, std::string_view domain_sid,
                                     std::string_view list_sid, const Deriver& derive) override {
    bool removed = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto locked = lockListAndDomain(tx, account_sid, list_sid, domain_sid);
      if (!locked) return locked.error();
      if (!*locked) return {};
      auto n = tx.exec("DELETE FROM sip_domain_list_mappings WHERE domain_sid = ? AND list_sid = ?",
                       {std::string(domain_sid), std::string(list_sid)});
      if (!n) return n.error();
      if (*n == 0) return {};
      removed = true;
      return recompute(tx, domain_sid, derive);
    });
    if (!st) return st.error();
    return removed;
  }

 private:
  // The columns an update replaces, in the order of updateDomain's SET.
  static Params mutableValues(const ApiSipDomain& d) {
    return {d.friendly_name,
            d.voice_url,
            d.voice_method,
            d.voice_fallback_url,
            d.voice_fallback_method,
            d.voice_status_callback_url,
            d.voice_status_callback_method,
            int64_t{d.sip_registration ? 1 : 0},
            d.updated_at};
  }

  // Takes d.domain_name for d's account: its owner must be the account (or nobody, and then
  // it becomes the account's), and the edge's row, whose primary key makes the name unique
  // even between concurrent creates, must be free. Otherwise `outcome` is kTaken, with
  // takenRollback() once something was written.
  static common::Status claimName(Tx& tx, const ApiSipDomain& d, SipAuthOutcome& outcome) {
    auto owner = internal::claimSipDomain(tx, d.domain_name, d.account_sid, "api", d.updated_at);
    if (!owner) return owner.error();
    if (*owner == ClaimOutcome::kTaken) {
      outcome = SipAuthOutcome::kTaken;
      return {};
    }
    auto edge = tx.exec(
        "INSERT INTO sip_domains (domain, realm, mode, account_sid) VALUES (?, ?, 'proxy', ?)"
        " ON CONFLICT (domain) DO NOTHING",
        {d.domain_name, d.domain_name, d.account_sid});
    if (!edge) return edge.error();
    if (*edge == 0) {
      outcome = SipAuthOutcome::kTaken;
      return *owner == ClaimOutcome::kClaimed ? common::Status(takenRollback()) : common::Status();
    }
    return {};
  }

  // Locks, in the one order every writer follows (the list, then its domains by SID), so
  // concurrent changes on PostgreSQL queue instead of deriving from what the other has not
  // committed yet. The domains the list is mapped to; nullopt when the list is not the
  // account's.
  common::Result<std::optional<std::vector<std::string>>> lockList(Tx& tx,
                                                                   std::string_view account_sid,
                                                                   std::string_view list_sid) {
    using Out = std::optional<std::vector<std::string>>;
    auto list = tx.queryOne(
        "SELECT sid FROM sip_credential_lists WHERE account_sid = ? AND sid = ?" + forUpdate(tx),
        {std::string(account_sid), std::string(list_sid)});
    if (!list) return list.error();
    if (!*list) return Out();
    auto rows = tx.query(
        "SELECT domain_sid FROM sip_domain_list_mappings WHERE list_sid = ? ORDER BY domain_sid",
        {std::string(list_sid)});
    if (!rows) return rows.error();
    std::vector<std::string> domains;
    for (const Row& r : *rows) {
      auto locked =
          tx.query("SELECT sid FROM api_sip_domains WHERE sid = ?" + forUpdate(tx), {r.text(0)});
      if (!locked) return locked.error();
      if (!locked->empty()) domains.push_back(r.text(0));
    }
    return Out(std::move(domains));
  }

  // Both of the account's, locked; false when either is not.
  common::Result<bool> lockListAndDomain(Tx& tx, std::string_view account_sid,
                                         std::string_view list_sid, std::string_view domain_sid) {
    auto list = tx.queryOne(
        "SELECT sid FROM sip_credential_lists WHERE account_sid = ? AND sid = ?" + forUpdate(tx),
        {std::string(account_sid), std::string(list_sid)});
    if (!list) return list.error();
    if (!*list) return false;
    auto domain = tx.queryOne(
        "SELECT sid FROM api_sip_domains WHERE account_sid = ? AND sid = ?" + forUpdate(tx),
        {std::string(account_sid), std::string(domain_sid)});
    if (!domain) return domain.error();
    return bool(*domain);
  }

  // An update or delete of one credential, then its list's domains recomputed.
  common::Result<bool> changeCredential(std::string_view account_sid, std::string_view list_sid,
                                        const Deriver& derive, std::string_view sql,
                                        const Params& params) {
    bool changed = false;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      auto domains = lockList(tx, account_sid, list_sid);
      if (!domains) return domains.error();
      if (!*domains) return {};
      auto n = tx.exec(sql, params);
      if (!n) return n.error();
      if (*n == 0) return {};
      changed = true;
      return recomputeAll(tx, **domains, derive);
    });
    if (!st) return st.error();
    return changed;
  }

  static common::Status dropDerived(Tx& tx, std::string_view domain) {
    auto n = tx.exec("DELETE FROM sip_credentials WHERE domain = ? AND derived_from IS NOT NULL",
                     {std::string(domain)});
    if (!n) return n.error();
    return {};
  }

  static common::Status recomputeAll(Tx& tx, const std::vector<std::string>& domains,
                                     const Deriver& derive) {
    for (const std::string& d : domains)
      if (auto st = recompute(tx, d, derive); !st) return st;
    return {};
  }

  // The derived sip_credentials rows of one domain, from scratch: every credential of every
  // list mapped to it. Two rules decide a username held twice:
  //  - an operator's row (`switchboard admin sip-user add`, derived_from NULL) wins over any
  //    list: it is never replaced nor removed here, and the list's user stays out;
  //  - between lists, the credential created first wins (then the smaller SID).
  static common::Status recompute(Tx& tx, std::string_view domain_sid, const Deriver& derive) {
    auto domain = tx.queryOne(
        "SELECT d.domain_name, d.account_sid, s.realm FROM api_sip_domains d"
        " JOIN sip_domains s ON s.domain = d.domain_name WHERE d.sid = ?",
        {std::string(domain_sid)});
    if (!domain) return domain.error();
    if (!*domain) return {};  // removed meanwhile: nothing derives from it
    const std::string name = (*domain)->text(0);
    const std::string account = (*domain)->text(1);
    std::string realm = (*domain)->text(2);
    if (realm.empty()) realm = name;
    if (auto gone = dropDerived(tx, name); !gone) return gone;

    auto operators = tx.query("SELECT username FROM sip_credentials WHERE domain = ?", {name});
    if (!operators) return operators.error();
    std::set<std::string> taken;
    for (const Row& r : *operators) taken.insert(r.text(0));

    static const std::string sql =
        "SELECT " + std::string(kCredentialColumns) +
        " FROM sip_list_credentials c JOIN sip_domain_list_mappings m ON m.list_sid = c.list_sid"
        " WHERE m.domain_sid = ? ORDER BY c.created_at, c.sid";
    auto rows = tx.query(sql, {std::string(domain_sid)});
    if (!rows) return rows.error();
    for (const Row& r : *rows) {
      ListCredential c = credentialFromRow(r);
      if (!taken.insert(c.username).second) continue;
      if (!derive) return makeError(ErrorCode::kInternal, "store: sip auth lists: no deriver");
      auto hashes = derive(name, realm, c);
      if (!hashes) return hashes.error();
      const std::string md5 = internal::asciiLower(hashes->ha1_md5);
      const std::string sha = internal::asciiLower(hashes->ha1_sha256);
      if ((!md5.empty() && !isHexOf(md5, 32)) || (!sha.empty() && !isHexOf(sha, 64)) ||
          (md5.empty() && sha.empty()))
        return makeError(ErrorCode::kInternal,
                         "store: sip auth lists: the deriver gave no valid HA1 for " + c.sid);
      auto n = tx.exec(
          "INSERT INTO sip_credentials (domain, username, ha1_md5, ha1_sha256, account_sid,"
          " created_at, derived_from) VALUES (?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT (domain, username) DO NOTHING",
          {name, c.username, md5, sha, account, c.created_at, c.sid});
      if (!n) return n.error();
    }
    return {};
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<SipAuthLists> makeSqlSipAuthLists(Database& db) {
  return std::make_unique<SqlSipAuthLists>(db);
}
}  // namespace internal

}  // namespace store
