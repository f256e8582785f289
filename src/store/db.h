// The database layer under every repository: one interface, two backends (SQLite, PostgreSQL).
// SQL is written once with `?` placeholders (translated to $1..$n for PostgreSQL) and always
// runs as a prepared statement with bound parameters: values never become SQL text.
//
//   auto db = store::Database::open("sqlite:./data/switchboard.db");
//   auto st = (*db)->transaction([&](store::Tx& tx) -> common::Status {
//     auto n = tx.exec("UPDATE t SET v = ? WHERE k = ?", {int64_t{1}, key});
//     if (!n) return n.error();
//     return {};
//   });
//
// Threads: a Database is safe to use from any number of threads. It keeps a small pool of
// connections (one in use by one thread at a time). On SQLite, writes (exec() and
// transactions) are serialized by a process-wide mutex, so threads of one process never meet
// SQLITE_BUSY; busy_timeout covers other processes on the same file. Reads run in parallel
// (WAL). On PostgreSQL, a pooled session the server dropped (restart, failover,
// pg_terminate_backend) is noticed when it is handed out and reconnected; a session that dies
// during a call fails that call. Every call blocks: never call it from a SIP worker (post it
// to a common::ThreadPool).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace store {

enum class Dialect { kSqlite, kPostgres };
const char* dialectName(Dialect d);

// A bound parameter or a column value. Integers are 64-bit; text is UTF-8 (or bytes).
using Value = std::variant<std::nullptr_t, int64_t, double, std::string>;
using Params = std::vector<Value>;

// An optional becomes NULL when empty.
Value nullable(const std::optional<std::string>& v);
Value nullable(const std::optional<int64_t>& v);

// One result row; columns by position, in the SELECT's order. The getters convert between
// integer and text where the backend returned the other (PostgreSQL numerics in text, ...).
class Row {
 public:
  explicit Row(std::vector<Value> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  const Value& at(size_t i) const { return cells_.at(i); }
  bool isNull(size_t i) const;
  int64_t integer(size_t i) const;  // NULL or non-numeric -> 0
  double real(size_t i) const;
  std::string text(size_t i) const;  // NULL -> ""
  std::optional<int64_t> optionalInteger(size_t i) const;
  std::optional<std::string> optionalText(size_t i) const;

 private:
  std::vector<Value> cells_;
};

// What runs statements: a transaction (inside Database::transaction) or one pooled connection.
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Dialect dialect() const = 0;
  // A statement without result rows; returns the number of rows changed.
  virtual common::Result<int64_t> exec(std::string_view sql, const Params& params = {}) = 0;
  virtual common::Result<std::vector<Row>> query(std::string_view sql,
                                                 const Params& params = {}) = 0;
  // Constant SQL that may hold several statements (migrations, DDL). No parameters, and so
  // never a value: anything that varies goes through exec() or query().
  virtual common::Status execScript(std::string_view sql) = 0;

  // The first row, or nullopt when there is none.
  common::Result<std::optional<Row>> queryOne(std::string_view sql, const Params& params = {});
};

struct DatabaseOptions {
  size_t pool_size = 4;        // connections opened at most (lazily)
  int busy_timeout_ms = 5000;  // SQLite: wait for another process's write lock
  int connect_timeout_s = 10;  // PostgreSQL: applied when the URL does not say
};

namespace internal {
class Connection;
}

class Database {
 public:
  // "sqlite:PATH" (the parent folder is created) or "postgresql://USER:PASSWORD@HOST:PORT/DB"
  // (also "postgres://"). Opens one connection now, so a bad URL fails here.
  static common::Result<std::unique_ptr<Database>> open(const std::string& url,
                                                        DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return dialect_; }
  // The URL with any password replaced by "***", for logs and error messages.
  const std::string& displayUrl() const { return display_url_; }

  // Autocommit statements on a pooled connection. query() is retried once on a fresh
  // connection when PostgreSQL dropped the old one; exec() is not (it may have run).
  common::Result<int64_t> exec(std::string_view sql, const Params& params = {});
  common::Result<std::vector<Row>> query(std::string_view sql, const Params& params = {});
  common::Result<std::optional<Row>> queryOne(std::string_view sql, const Params& params = {});
  // The first column of the first row as an integer (COUNT(*), SUM), 0 when there is no row.
  common::Result<int64_t> queryInteger(std::string_view sql, const Params& params = {});

  // A round trip to the database (health checks): reconnects a dropped PostgreSQL session.
  common::Status ping();

  // Runs `fn` in one transaction on one connection: commits when it returns success, rolls
  // back when it returns an error, throws (the exception becomes an error), or let a statement
  // fail even though it then returned success. Do not nest: use the Tx you are given.
  common::Status transaction(const std::function<common::Status(Tx&)>& fn);

 private:
  class Lease;
  using Factory = std::function<common::Result<std::unique_ptr<internal::Connection>>()>;
  Database(Dialect dialect, std::string display_url, Factory factory, size_t pool_size);
  common::Result<Lease> acquire();
  void release(std::unique_ptr<internal::Connection> conn);

  struct Pool;
  const Dialect dialect_;
  const std::string display_url_;
  std::unique_ptr<Pool> pool_;
};

// `?` placeholders to PostgreSQL's $1..$n; a `?` inside a '...' literal, a "..." identifier
// or a comment is left alone. Exposed for tests.
std::string toPostgresPlaceholders(std::string_view sql);

}  // namespace store
