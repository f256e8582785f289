// Versioned schema migrations, applied in order at Store::open. Each runs in its own
// transaction together with its row in schema_migrations(version, description, applied_at),
// so a migration is applied entirely or not at all. A later part adds its tables by appending
// to builtinMigrations() (migrations.cc) with the next version; a released migration is never
// edited.
//
//   auto report = store::migrate(db, store::builtinMigrations(), now_unix_seconds);
//   if (!report) return report.error();  // e.g. the database is newer than this binary
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/db.h"

namespace store {

struct Migration {
  int version = 0;  // 1, 2, 3 ... in order, no gaps
  std::string_view description;
  std::string_view sql;            // for both dialects, unless one of the two below is given
  std::string_view sqlite = {};    // SQLite only; replaces `sql`
  std::string_view postgres = {};  // PostgreSQL only; replaces `sql`
};

// The schema this binary knows.
const std::vector<Migration>& builtinMigrations();

struct MigrationReport {
  int from_version = 0;      // the database's version before
  int to_version = 0;        // and after
  std::vector<int> applied;  // versions applied by this call (empty when up to date)
};

// Creates schema_migrations when missing, refuses (kUnsupported) a database whose version is
// newer than the last of `migrations`, then applies the missing ones. Safe when several
// processes open one PostgreSQL database at once (an advisory lock serializes them).
common::Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations,
                                        int64_t now_unix);

// The highest version recorded in schema_migrations (0 when none).
common::Result<int> schemaVersion(Database& db);

}  // namespace store
