#include "store/migrations.h"

#include <initializer_list>
#include <string>

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

// Any constant: pg_advisory_xact_lock keys are per database.
constexpr int64_t kMigrationLockKey = 0x5357424d49475254;  // "SWBMIGRT"

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

common::Status lockForMigration(Tx& tx) {
  if (tx.dialect() != Dialect::kPostgres) return {};  // SQLite: BEGIN IMMEDIATE serializes
  auto r = tx.query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey});
  if (!r) return r.error();
  return {};
}

common::Result<int> versionIn(Tx& tx) {
  auto row = tx.queryOne("SELECT MAX(version) FROM schema_migrations");
  if (!row) return row.error();
  return *row ? int((*row)->integer(0)) : 0;
}

// Migration 7: the same tables on both backends; only the audit log's id column and its
// append-only triggers are written per dialect.
constexpr std::string_view kV7Tables =
    "CREATE TABLE accounts ("
    " sid TEXT PRIMARY KEY,"
    " parent_sid TEXT REFERENCES accounts (sid),"
    " friendly_name TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),"
    " auth_token_sealed TEXT NOT NULL,"
    " balance_millicents BIGINT NOT NULL,"
    " currency TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX accounts_parent_sid ON accounts (parent_sid, created_at, sid);"
    "CREATE TABLE users ("
    " sid TEXT PRIMARY KEY,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " email TEXT NOT NULL,"
    " role TEXT NOT NULL"
    "  CHECK (role IN ('owner', 'admin', 'developer', 'billing', 'read-only')),"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " UNIQUE (sid, account_sid));"  // the parent key of api_keys (user_sid, account_sid)
    "CREATE UNIQUE INDEX users_account_sid_email ON users (account_sid, email);"
    "CREATE TABLE api_keys ("
    " sid TEXT PRIMARY KEY,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " friendly_name TEXT NOT NULL,"
    " secret_hash TEXT NOT NULL,"
    " role TEXT NOT NULL"
    "  CHECK (role IN ('owner', 'admin', 'developer', 'billing', 'read-only')),"
    " user_sid TEXT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " FOREIGN KEY (user_sid, account_sid) REFERENCES users (sid, account_sid));"
    "CREATE INDEX api_keys_account_sid ON api_keys (account_sid, created_at, sid);"
    "CREATE TABLE phone_numbers ("
    " sid TEXT PRIMARY KEY,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " phone_number TEXT NOT NULL,"
    " friendly_name TEXT NOT NULL,"
    " voice_url TEXT NOT NULL,"
    " voice_method TEXT NOT NULL,"
    " voice_fallback_url TEXT NOT NULL,"
    " voice_fallback_method TEXT NOT NULL,"
    " sms_url TEXT NOT NULL,"
    " sms_method TEXT NOT NULL,"
    " sms_fallback_url TEXT NOT NULL,"
    " sms_fallback_method TEXT NOT NULL,"
    " status_callback TEXT NOT NULL,"
    " status_callback_method TEXT NOT NULL,"
    " voice_capable INTEGER NOT NULL CHECK (voice_capable IN (0, 1)),"
    " sms_capable INTEGER NOT NULL CHECK (sms_capable IN (0, 1)),"
    " mms_capable INTEGER NOT NULL CHECK (mms_capable IN (0, 1)),"
    " fax_capable INTEGER NOT NULL CHECK (fax_capable IN (0, 1)),"
    " porting_status TEXT NOT NULL"
    "  CHECK (porting_status IN ('none', 'loa-received', 'in-progress', 'completed')),"
    " hosting TEXT NOT NULL CHECK (hosting IN ('full', 'sms-only')),"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX phone_numbers_phone_number ON phone_numbers (phone_number);"
    "CREATE INDEX phone_numbers_account_sid ON phone_numbers (account_sid, created_at, sid);";

constexpr std::string_view kV7AuditColumns =
    " at_ms BIGINT NOT NULL,"
    " account_sid TEXT NOT NULL,"
    " principal TEXT NOT NULL,"
    " user_sid TEXT,"
    " method TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " source TEXT NOT NULL);"
    "CREATE INDEX audit_log_account_sid ON audit_log (account_sid, id);";

// AUTOINCREMENT: an id is never handed out twice, even were the newest row removed (the
// triggers refuse that; the ids do not depend on them).
constexpr std::string_view kV7AuditSqlite =
    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,";
constexpr std::string_view kV7AuditTriggersSqlite =
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;";

constexpr std::string_view kV7AuditPostgres =
    "CREATE TABLE audit_log ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,";
// Statement-level, so even an UPDATE or DELETE that matches no row fails, and TRUNCATE too.
constexpr std::string_view kV7AuditTriggersPostgres =
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;"
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();"
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();";

// Migration 8: Twilio's SIP Domains and Credential Lists. The SD resource is a table of its
// own beside sip_domains (the edge's: realm and mode, also written by operators), which it
// claims by name; the edge's row holds the account. A credential keeps its password sealed
// by the api's master key: HA1 depends on the realm of each domain the list is mapped to.
// sip_credentials.derived_from is the CR sid of a row the store computed from a list (NULL
// for the rows operators provision, which are never touched by the derivation).
constexpr std::string_view kV8 =
    "CREATE TABLE api_sip_domains ("
    " sid TEXT PRIMARY KEY,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " domain_name TEXT NOT NULL REFERENCES sip_domains (domain),"
    " friendly_name TEXT NOT NULL,"
    " voice_url TEXT NOT NULL,"
    " voice_method TEXT NOT NULL,"
    " voice_fallback_url TEXT NOT NULL,"
    " voice_fallback_method TEXT NOT NULL,"
    " voice_status_callback_url TEXT NOT NULL,"
    " voice_status_callback_method TEXT NOT NULL,"
    " sip_registration INTEGER NOT NULL CHECK (sip_registration IN (0, 1)),"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX api_sip_domains_domain_name ON api_sip_domains (domain_name);"
    "CREATE INDEX api_sip_domains_account_sid ON api_sip_domains (account_sid, created_at, sid);"
    "CREATE TABLE sip_credential_lists ("
    " sid TEXT PRIMARY KEY,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " friendly_name TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX sip_credential_lists_account_sid"
    " ON sip_credential_lists (account_sid, created_at, sid);"
    "CREATE TABLE sip_list_credentials ("
    " sid TEXT PRIMARY KEY,"
    " list_sid TEXT NOT NULL REFERENCES sip_credential_lists (sid),"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " username TEXT NOT NULL,"
    " password_sealed TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " UNIQUE (list_sid, username));"
    "CREATE TABLE sip_domain_list_mappings ("
    " domain_sid TEXT NOT NULL REFERENCES api_sip_domains (sid),"
    " list_sid TEXT NOT NULL REFERENCES sip_credential_lists (sid),"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (domain_sid, list_sid));"
    "CREATE INDEX sip_domain_list_mappings_list_sid ON sip_domain_list_mappings (list_sid);"
    "ALTER TABLE sip_credentials ADD COLUMN derived_from TEXT;"
    "CREATE INDEX sip_credentials_derived_from ON sip_credentials (derived_from);";

// Migration 9: messaging. messages.seq is the arrival order, the durable queue's order: an
// AUTOINCREMENT (SQLite) or identity (PostgreSQL) column never hands a number out twice, so a
// reader paging the queue by seq never sees a new message take an old one's place. Values
// with a set of allowed values or a range (status, direction, rates, trunk kinds) are checked
// by the repositories, not by CHECK constraints: Twilio adds statuses now and then, and
// changing a CHECK is a table rebuild on SQLite. Only the 0/1 flags are checked here.
constexpr std::string_view kV9MessagesSqlite =
    "CREATE TABLE messages ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,";
constexpr std::string_view kV9MessagesPostgres =
    "CREATE TABLE messages ("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,";
constexpr std::string_view kV9Tables =
    " sid TEXT NOT NULL UNIQUE,"
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " direction TEXT NOT NULL,"
    " from_number TEXT NOT NULL,"
    " to_number TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " body_purged INTEGER NOT NULL CHECK (body_purged IN (0, 1)),"
    " status TEXT NOT NULL,"
    " num_segments BIGINT NOT NULL,"
    " encoding TEXT NOT NULL,"
    " error_code BIGINT,"
    " error_message TEXT NOT NULL,"
    " carrier_status TEXT NOT NULL,"
    " status_callback TEXT NOT NULL,"
    " status_callback_method TEXT NOT NULL,"
    " trunk TEXT NOT NULL,"
    " attempts BIGINT NOT NULL,"
    " parts_delivered BIGINT NOT NULL,"
    " date_created BIGINT NOT NULL,"
    " date_updated BIGINT NOT NULL,"
    " date_sent BIGINT);"
    // The queue: only unfinished rows are in it, already in seq order. The condition must be
    // written exactly as listUnfinished writes it, or SQLite will not use the index.
    "CREATE INDEX messages_unfinished ON messages (seq)"
    " WHERE status IN ('queued', 'sending');"
    "CREATE INDEX messages_account_list ON messages (account_sid, date_created DESC, seq DESC);"
    "CREATE INDEX messages_account_date_sent ON messages (account_sid, date_sent);"
    "CREATE TABLE message_carrier_ids ("
    " trunk TEXT NOT NULL,"
    " carrier_message_id TEXT NOT NULL,"
    " message_sid TEXT NOT NULL REFERENCES messages (sid),"
    " part BIGINT NOT NULL,"
    " PRIMARY KEY (trunk, carrier_message_id));"
    "CREATE INDEX message_carrier_ids_message_sid ON message_carrier_ids (message_sid);"
    "CREATE TABLE sms_opt_outs ("
    " account_sid TEXT NOT NULL REFERENCES accounts (sid),"
    " phone_number TEXT NOT NULL,"
    " keyword TEXT NOT NULL,"
    " via_number TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (account_sid, phone_number));"
    "CREATE INDEX sms_opt_outs_list ON sms_opt_outs (account_sid, created_at DESC, phone_number);"
    "CREATE TABLE account_messaging_settings ("
    " account_sid TEXT PRIMARY KEY REFERENCES accounts (sid),"
    " sms_per_second BIGINT NOT NULL,"
    " dlr_level2 INTEGER NOT NULL CHECK (dlr_level2 IN (0, 1)),"
    " help_text TEXT NOT NULL,"
    " stop_text TEXT NOT NULL,"
    " start_text TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    // prefixes: comma-joined ("+1,+44"); a prefix is digits after "+", never a comma.
    "CREATE TABLE sms_trunks ("
    " name TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " address TEXT NOT NULL,"
    " system_id TEXT NOT NULL,"
    " password_sealed TEXT NOT NULL,"
    " system_type TEXT NOT NULL,"
    " send_window INTEGER NOT NULL,"
    " max_per_second BIGINT NOT NULL,"
    " prefixes TEXT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "ALTER TABLE phone_numbers ADD COLUMN sms_native_opt_out INTEGER NOT NULL DEFAULT 1"
    " CHECK (sms_native_opt_out IN (0, 1));";

// Migration 10: every SIP domain name has one owner, the operator (account_sid NULL) or one
// account, and only the owner's credentials authenticate on it. The owners of an existing
// store: the operator's provisioning decides first (`admin sip-user add` rows, derived_from
// NULL: their one account, or the operator when they name none or several), then the API's
// SIP Domains and the edge's rows on the names left. So a name an account took through the
// API after the operator provisioned users in it goes back to whom the operator provisioned.
constexpr std::string_view kV10 =
    "CREATE TABLE sip_domain_owners ("
    " domain TEXT PRIMARY KEY,"
    " account_sid TEXT,"
    " claimed_at BIGINT NOT NULL,"
    " claimed_by TEXT NOT NULL);"
    "INSERT INTO sip_domain_owners (domain, account_sid, claimed_at, claimed_by)"
    " SELECT domain,"
    "  CASE WHEN COUNT(account_sid) = COUNT(*) AND MIN(account_sid) = MAX(account_sid)"
    "   THEN MIN(account_sid) END,"
    "  MIN(created_at), 'admin'"
    " FROM sip_credentials WHERE derived_from IS NULL GROUP BY domain;"
    "INSERT INTO sip_domain_owners (domain, account_sid, claimed_at, claimed_by)"
    " SELECT d.domain_name, d.account_sid, d.created_at, 'api' FROM api_sip_domains d"
    " WHERE NOT EXISTS (SELECT 1 FROM sip_domain_owners o WHERE o.domain = d.domain_name);"
    "INSERT INTO sip_domain_owners (domain, account_sid, claimed_at, claimed_by)"
    " SELECT s.domain, s.account_sid, 0, 'admin' FROM sip_domains s"
    " WHERE NOT EXISTS (SELECT 1 FROM sip_domain_owners o WHERE o.domain = s.domain);";

// Migration 12: the secondary auth token of a rotation, sealed like the primary; '' is none.
constexpr std::string_view kV12 =
    "ALTER TABLE accounts ADD COLUMN auth_token_secondary_sealed TEXT NOT NULL DEFAULT '';";

std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace

const std::vector<Migration>& builtinMigrations() {
  static const std::string kV7Sqlite =
      concat({kV7Tables, kV7AuditSqlite, kV7AuditColumns, kV7AuditTriggersSqlite});
  static const std::string kV7Postgres =
      concat({kV7Tables, kV7AuditPostgres, kV7AuditColumns, kV7AuditTriggersPostgres});
  static const std::string kV9Sqlite = concat({kV9MessagesSqlite, kV9Tables});
  static const std::string kV9Postgres = concat({kV9MessagesPostgres, kV9Tables});
  // Types that mean the same on both: TEXT, INTEGER (32-bit), BIGINT (64-bit; SQLite stores
  // any integer in one column type). Times are unix seconds in BIGINT.
  static const std::vector<Migration> kMigrations = {
      {1, "sip registrations (location service bindings)",
       "CREATE TABLE sip_registrations ("
       " aor TEXT NOT NULL,"
       " contact TEXT NOT NULL,"
       " instance_id TEXT,"
       " reg_id BIGINT,"
       " call_id TEXT NOT NULL,"
       " cseq BIGINT NOT NULL,"
       " expires_at BIGINT NOT NULL,"
       " q INTEGER NOT NULL CHECK (q BETWEEN 0 AND 1000),"
       " path TEXT NOT NULL,"
       " flow TEXT NOT NULL,"
       " flow_local TEXT NOT NULL,"
       " flow_connection_id BIGINT NOT NULL,"
       " user_agent TEXT NOT NULL,"
       " updated_at BIGINT NOT NULL,"
       " PRIMARY KEY (aor, contact));"
       "CREATE INDEX sip_registrations_expires_at ON sip_registrations (expires_at);"},
      {2, "sip credentials (digest HA1 per domain and user)",
       "CREATE TABLE sip_credentials ("
       " domain TEXT NOT NULL,"
       " username TEXT NOT NULL,"
       " ha1_md5 TEXT NOT NULL,"
       " ha1_sha256 TEXT NOT NULL,"
       " account_sid TEXT,"
       " created_at BIGINT NOT NULL,"
       " PRIMARY KEY (domain, username));"},
      {3, "sip domains (realm and proxy or redirect mode)",
       "CREATE TABLE sip_domains ("
       " domain TEXT PRIMARY KEY,"
       " realm TEXT NOT NULL,"
       " mode TEXT NOT NULL CHECK (mode IN ('proxy', 'redirect')),"
       " account_sid TEXT);"},
      {4, "sip trunks (gateway groups with ACLs) and dialled-prefix routes",
       "CREATE TABLE sip_trunks ("
       " name TEXT PRIMARY KEY,"
       " algorithm TEXT NOT NULL CHECK (algorithm IN ('round-robin', 'weighted', 'hash')),"
       " probe_interval INTEGER NOT NULL,"
       " created_at BIGINT NOT NULL);"
       "CREATE TABLE sip_trunk_gateways ("
       " trunk TEXT NOT NULL,"
       " position INTEGER NOT NULL,"
       " uri TEXT NOT NULL,"
       " weight INTEGER NOT NULL CHECK (weight BETWEEN 1 AND 1000),"
       " PRIMARY KEY (trunk, position));"
       "CREATE TABLE sip_trunk_acl ("
       " trunk TEXT NOT NULL,"
       " position INTEGER NOT NULL,"
       " cidr TEXT NOT NULL,"
       " PRIMARY KEY (trunk, position));"
       "CREATE TABLE sip_routes ("
       " prefix TEXT PRIMARY KEY,"
       " trunk TEXT NOT NULL,"
       " created_at BIGINT NOT NULL);"},
      {5, "sip blocks (sources the flood guard blocked)",
       "CREATE TABLE sip_blocks ("
       " source TEXT PRIMARY KEY,"
       " blocked_at BIGINT NOT NULL,"
       " blocked_until BIGINT NOT NULL,"
       " requests BIGINT NOT NULL);"},
      {6, "stateless sip routes",
       "ALTER TABLE sip_routes ADD COLUMN stateless INTEGER NOT NULL DEFAULT 0;"},
      {7, "accounts, users, api keys, phone numbers, audit log", {}, kV7Sqlite, kV7Postgres},
      {8, "api sip domains, credential lists and the sip credentials derived from them", kV8},
      {9, "messages, sms opt-outs, messaging settings, sms trunks", {}, kV9Sqlite, kV9Postgres},
      {10, "sip domain owners (the operator or one account per name)", kV10},
      // Coalesced failed authentications: one row counts the attempts of one source against
      // one account in a minute. An added column with a default: no row is updated, so the
      // append-only triggers do not fire.
      {11, "audit log: count of coalesced entries",
       "ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;"},
      {12, "accounts: a secondary auth token (rotation)", kV12},
  };
  return kMigrations;
}

common::Result<int> schemaVersion(Database& db) {
  auto row = db.queryOne("SELECT MAX(version) FROM schema_migrations");
  if (!row) return row.error();
  return *row ? int((*row)->integer(0)) : 0;
}

common::Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations,
                                        int64_t now_unix) {
  const std::string where = "store: migrating " + db.displayUrl() + ": ";
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != int(i) + 1)
      return makeError(ErrorCode::kInternal,
                       where + "migration versions must be 1, 2, 3 ... without gaps");
  const int known = int(migrations.size());

  MigrationReport report;
  auto st = db.transaction([&](Tx& tx) -> common::Status {
    if (auto lock = lockForMigration(tx); !lock) return lock;
    if (auto created = tx.execScript(kCreateMigrationsTable); !created) return created;
    auto v = versionIn(tx);
    if (!v) return v.error();
    report.from_version = *v;
    return {};
  });
  if (!st) return common::Error(st.error().code, where + st.error().reason);
  if (report.from_version > known)
    return makeError(ErrorCode::kUnsupported,
                     where + "the database schema is at version " +
                         std::to_string(report.from_version) + " but this build knows only up to " +
                         std::to_string(known) +
                         "; it was written by a newer switchboard: upgrade the binary");

  for (const Migration& m : migrations) {
    if (m.version <= report.from_version) continue;
    std::string_view sql = m.sql;
    if (db.dialect() == Dialect::kSqlite && !m.sqlite.empty()) sql = m.sqlite;
    if (db.dialect() == Dialect::kPostgres && !m.postgres.empty()) sql = m.postgres;
    bool applied = false;
    st = db.transaction([&](Tx& tx) -> common::Status {
      if (auto lock = lockForMigration(tx); !lock) return lock;
      // Another process may have applied it while we waited for the lock.
      auto done =
          tx.queryOne("SELECT 1 FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
      if (!done) return done.error();
      if (*done) return {};
      if (auto run = tx.execScript(sql); !run) return run;
      auto rec = tx.exec(
          "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
          {int64_t{m.version}, std::string(m.description), now_unix});
      if (!rec) return rec.error();
      applied = true;
      return {};
    });
    if (!st)
      return common::Error(st.error().code, where + "migration " + std::to_string(m.version) +
                                                " (" + std::string(m.description) +
                                                ") failed: " + st.error().reason);
    if (applied) report.applied.push_back(m.version);
  }
  auto v = schemaVersion(db);
  if (!v) return common::Error(v.error().code, where + v.error().reason);
  report.to_version = *v;
  return report;
}

}  // namespace store
