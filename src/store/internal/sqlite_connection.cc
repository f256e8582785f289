// SQLite backend: one sqlite3 handle per Connection, statements prepared once per handle and
// cached by their SQL text.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "common/private_files.h"
#include "store/internal/connection.h"

namespace store::internal {
namespace {

using common::ErrorCode;
using common::makeError;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Resets a statement when a call is done with it, whatever the path out.
struct StmtReset {
  sqlite3_stmt* s;
  ~StmtReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(DbPtr db, std::string display)
      : db_(std::move(db)), display_(std::move(display)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  common::Result<int64_t> exec(std::string_view sql, const Params& params) override {
    auto rows = run(sql, params, nullptr);
    if (!rows) return rows.error();
    return int64_t{sqlite3_changes(db_.get())};
  }

  common::Result<std::vector<Row>> query(std::string_view sql, const Params& params) override {
    std::vector<Row> rows;
    auto st = run(sql, params, &rows);
    if (!st) return st.error();
    return rows;
  }

  common::Status execScript(std::string_view sql) override {
    std::string text(sql);
    char* msg = nullptr;
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      std::string reason = msg ? msg : sqlite3_errstr(rc);
      sqlite3_free(msg);
      return fail(rc, reason, sql);
    }
    return {};
  }

  // IMMEDIATE takes the write lock at BEGIN, so a transaction that reads then writes cannot
  // hit SQLITE_BUSY half-way (a deferred one can, and busy_timeout does not help there).
  common::Status begin() override { return execScript("BEGIN IMMEDIATE"); }
  common::Status commit() override { return execScript("COMMIT"); }
  common::Status rollback() override {
    if (sqlite3_get_autocommit(db_.get())) return {};  // SQLite already rolled back
    return execScript("ROLLBACK");
  }
  common::Status ensureConnected() override { return {}; }
  bool broken() const override { return false; }

 private:
  common::Error fail(int rc, const std::string& reason, std::string_view sql) {
    failed_ = true;
    int primary = rc & 0xff;
    ErrorCode code = primary == SQLITE_CONSTRAINT ? ErrorCode::kInvalidArgument : ErrorCode::kIo;
    std::string shown(sql.substr(0, 80));
    return common::Error(code, "store: " + display_ + ": " + reason + " (in: " + shown + ")");
  }

  common::Result<sqlite3_stmt*> prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                &raw, &tail);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return fail(rc, sqlite3_errmsg(db_.get()), sql);
    if (!stmt) return fail(SQLITE_MISUSE, "empty statement", sql);
    std::string_view rest(tail, size_t(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos)
      return fail(SQLITE_MISUSE, "more than one statement; use execScript", sql);
    sqlite3_stmt* s = stmt.get();
    cache_.emplace(std::string(sql), std::move(stmt));
    return s;
  }

  common::Status run(std::string_view sql, const Params& params, std::vector<Row>* out) {
    auto prepared = prepare(sql);
    if (!prepared) return prepared.error();
    sqlite3_stmt* s = *prepared;
    StmtReset reset{s};
    if (int(params.size()) != sqlite3_bind_parameter_count(s))
      return fail(SQLITE_RANGE,
                  "statement wants " + std::to_string(sqlite3_bind_parameter_count(s)) +
                      " parameters, got " + std::to_string(params.size()),
                  sql);
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = int(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return sqlite3_bind_null(s, idx);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              return sqlite3_bind_int64(s, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(s, idx, v);
            } else {
              return sqlite3_bind_text64(s, idx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) return fail(rc, sqlite3_errmsg(db_.get()), sql);
    }
    for (;;) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return fail(rc, sqlite3_errmsg(db_.get()), sql);
      if (!out) continue;
      int n = sqlite3_column_count(s);
      std::vector<Value> cells;
      cells.reserve(size_t(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(s, c)) {
          case SQLITE_INTEGER:
            cells.emplace_back(int64_t{sqlite3_column_int64(s, c)});
            break;
          case SQLITE_FLOAT:
            cells.emplace_back(sqlite3_column_double(s, c));
            break;
          case SQLITE_NULL:
            cells.emplace_back(nullptr);
            break;
          default: {  // TEXT or BLOB: bytes as they are
            const void* p = sqlite3_column_blob(s, c);
            int len = sqlite3_column_bytes(s, c);
            cells.emplace_back(p ? std::string(static_cast<const char*>(p), size_t(len))
                                 : std::string());
          }
        }
      }
      out->emplace_back(std::move(cells));
    }
  }

  DbPtr db_;
  std::string display_;
  std::map<std::string, StmtPtr, std::less<>> cache_;
};

}  // namespace

common::Result<std::unique_ptr<Connection>> openSqlite(const std::string& path,
                                                       const std::string& display,
                                                       const DatabaseOptions& options) {
  std::string prefix = "store: cannot open " + display + ": ";
  if (path.empty()) return makeError(ErrorCode::kInvalidArgument, prefix + "empty path");
  bool memory = path == ":memory:";
  if (!memory) {
    // The database holds HA1s, message bodies and the audit log: owner only. SQLite gives
    // the -wal, -shm and -journal files the mode of the main file, so creating that one 0600
    // (before SQLite would, with 0644 less the umask) covers them all.
    std::string parent = std::filesystem::path(path).parent_path().string();
    if (auto st = common::createPrivateDirectories(parent); !st)
      return makeError(ErrorCode::kIo, prefix + st.error().reason);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      if (auto st = common::checkPrivate(path + suffix, "database file"); !st)
        return makeError(ErrorCode::kInvalidArgument, prefix + st.error().reason);
    }
    if (auto st = common::createPrivateFile(path); !st)
      return makeError(ErrorCode::kIo, prefix + st.error().reason);
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: the pool gives a handle to one thread at a time, SQLite need not lock it again.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK)
    return makeError(ErrorCode::kIo, prefix + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  auto conn = std::make_unique<SqliteConnection>(std::move(db), display);
  for (const char* pragma : {"PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"}) {
    if (auto st = conn->execScript(pragma); !st)
      return makeError(ErrorCode::kIo, prefix + st.error().reason);
  }
  if (!memory) {
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    // locked" at once, without its busy handler, when another connection opening the same
    // file holds a shared lock (waiting could deadlock). Retried here within busy_timeout.
    auto mode = conn->queryOne("PRAGMA journal_mode = WAL");
    for (int waited_ms = 0; !mode && mode.error().reason.find("locked") != std::string::npos &&
                            waited_ms < int(options.busy_timeout_ms);
         waited_ms += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      mode = conn->queryOne("PRAGMA journal_mode = WAL");
    }
    if (!mode) return makeError(ErrorCode::kIo, prefix + mode.error().reason);
    if (!*mode || (*mode)->text(0) != "wal")
      return makeError(ErrorCode::kIo, prefix + "cannot switch to WAL journal mode (got " +
                                           (*mode ? (*mode)->text(0) : std::string("nothing")) +
                                           ")");
  }
  // A real read now, so a file that is not a database fails at open, not at first use.
  if (auto probe = conn->query("SELECT count(*) FROM sqlite_master", {}); !probe)
    return makeError(ErrorCode::kIo, prefix + probe.error().reason);
  conn->clearFailed();
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace store::internal
