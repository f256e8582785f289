#include "store/migrations.h"

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

}  // namespace

const std::vector<Migration>& builtinMigrations() {
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
