#include "store/db.h"

#include <charconv>
#include <condition_variable>
#include <limits>
#include <mutex>

#include "store/internal/connection.h"

namespace store {

using common::ErrorCode;
using common::makeError;

const char* dialectName(Dialect d) {
  return d == Dialect::kSqlite ? "sqlite" : "postgresql";
}

Value nullable(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}
Value nullable(const std::optional<int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

bool Row::isNull(size_t i) const {
  return std::holds_alternative<std::nullptr_t>(cells_.at(i));
}

int64_t Row::integer(size_t i) const {
  const Value& v = cells_.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) {
    // Out of range (or NaN) would be undefined behaviour: clamp.
    if (!(*d > -9.2e18)) return *d < 0 ? std::numeric_limits<int64_t>::min() : 0;
    if (*d > 9.2e18) return std::numeric_limits<int64_t>::max();
    return int64_t(*d);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double Row::real(size_t i) const {
  const Value& v = cells_.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return double(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string Row::text(size_t i) const {
  const Value& v = cells_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr);
  }
  return {};
}

std::optional<int64_t> Row::optionalInteger(size_t i) const {
  if (isNull(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::optionalText(size_t i) const {
  if (isNull(i)) return std::nullopt;
  return text(i);
}

common::Result<std::optional<Row>> Tx::queryOne(std::string_view sql, const Params& params) {
  auto rows = query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

std::string toPostgresPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or quoted identifier; a doubled quote stays inside
      size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() - 1 : end + 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// postgresql://user:secret@host/db?password=x -> postgresql://user:***@host/db?password=***
std::string redactPassword(std::string url) {
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = url.find_first_of("/?", start);
    size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at != std::string::npos && at > start) {
      size_t colon = url.find(':', start);
      if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t p = url.find("password="); p != std::string::npos; p = url.find("password=", p)) {
    p += 9;
    size_t end = url.find('&', p);
    url.replace(p, (end == std::string::npos ? url.size() : end) - p, "***");
  }
  return url;
}

// Which Database the current thread is inside a transaction of: a nested call would wait on
// itself (the SQLite write lock, or a pool drained by the caller).
thread_local const Database* tls_transaction_of = nullptr;

}  // namespace

struct Database::Pool {
  Factory factory;
  size_t max = 1;
  std::mutex mutex;
  std::condition_variable freed;
  std::vector<std::unique_ptr<internal::Connection>> idle;
  size_t open = 0;
  std::mutex write_mutex;  // SQLite only: one writer at a time in this process
};

class Database::Lease {
 public:
  Lease(Database* db, std::unique_ptr<internal::Connection> conn)
      : db_(db), conn_(std::move(conn)) {}
  Lease(Lease&& o) noexcept : db_(o.db_), conn_(std::move(o.conn_)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (conn_) db_->release(std::move(conn_));
  }
  internal::Connection& operator*() { return *conn_; }
  internal::Connection* operator->() { return conn_.get(); }

 private:
  Database* db_;
  std::unique_ptr<internal::Connection> conn_;
};

Database::Database(Dialect dialect, std::string display_url, Factory factory, size_t pool_size)
    : dialect_(dialect), display_url_(std::move(display_url)), pool_(std::make_unique<Pool>()) {
  pool_->factory = std::move(factory);
  pool_->max = std::max<size_t>(1, pool_size);
}

Database::~Database() = default;

common::Result<std::unique_ptr<Database>> Database::open(const std::string& url,
                                                         DatabaseOptions options) {
  std::unique_ptr<Database> db;
  if (startsWithNoCase(url, "sqlite:")) {
    std::string path = url.substr(7);
    if (path == ":memory:") options.pool_size = 1;  // every handle would be its own database
    db.reset(new Database(
        Dialect::kSqlite, url,
        [path, url, options] { return internal::openSqlite(path, url, options); },
        options.pool_size));
  } else if (startsWithNoCase(url, "postgresql://") || startsWithNoCase(url, "postgres://")) {
    std::string display = redactPassword(url);
    db.reset(new Database(
        Dialect::kPostgres, display,
        [url, display, options] { return internal::openPostgres(url, display, options); },
        options.pool_size));
  } else {
    return makeError(ErrorCode::kInvalidArgument,
                     "store: unsupported url '" + redactPassword(url) +
                         "': want sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB");
  }
  // One connection now: a wrong path, host or password fails at open, not at first use.
  auto lease = db->acquire();
  if (!lease) return lease.error();
  return db;
}

common::Result<Database::Lease> Database::acquire() {
  std::unique_lock lock(pool_->mutex);
  pool_->freed.wait(lock, [&] { return !pool_->idle.empty() || pool_->open < pool_->max; });
  if (!pool_->idle.empty()) {
    std::unique_ptr<internal::Connection> conn = std::move(pool_->idle.back());
    pool_->idle.pop_back();
    lock.unlock();
    Lease lease(this, std::move(conn));
    if (auto st = lease->ensureConnected(); !st) return st.error();  // lease returns it
    lease->clearFailed();
    return lease;
  }
  ++pool_->open;
  lock.unlock();
  auto conn = pool_->factory();
  if (!conn) {
    std::lock_guard relock(pool_->mutex);
    --pool_->open;
    pool_->freed.notify_one();
    return conn.error();
  }
  return Lease(this, std::move(*conn));
}

void Database::release(std::unique_ptr<internal::Connection> conn) {
  std::lock_guard lock(pool_->mutex);
  pool_->idle.push_back(std::move(conn));
  pool_->freed.notify_one();
}

common::Result<int64_t> Database::exec(std::string_view sql, const Params& params) {
  if (tls_transaction_of == this)
    return makeError(ErrorCode::kInternal, "store: Database::exec inside a transaction; use Tx");
  std::unique_lock<std::mutex> write;
  if (dialect_ == Dialect::kSqlite) write = std::unique_lock(pool_->write_mutex);
  auto lease = acquire();
  if (!lease) return lease.error();
  return (*lease)->exec(sql, params);
}

common::Result<std::vector<Row>> Database::query(std::string_view sql, const Params& params) {
  if (tls_transaction_of == this)
    return makeError(ErrorCode::kInternal, "store: Database::query inside a transaction; use Tx");
  auto lease = acquire();
  if (!lease) return lease.error();
  auto rows = (*lease)->query(sql, params);
  if (!rows && (*lease)->broken()) {  // a read is safe to run again on a new session
    if (auto st = (*lease)->ensureConnected(); !st) return st.error();
    rows = (*lease)->query(sql, params);
  }
  return rows;
}

common::Result<std::optional<Row>> Database::queryOne(std::string_view sql, const Params& params) {
  auto rows = query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

common::Result<int64_t> Database::queryInteger(std::string_view sql, const Params& params) {
  auto row = queryOne(sql, params);
  if (!row) return row.error();
  return *row ? (*row)->integer(0) : 0;
}

common::Status Database::ping() {
  auto r = query("SELECT 1");
  if (!r) return r.error();
  return {};
}

common::Status Database::transaction(const std::function<common::Status(Tx&)>& fn) {
  if (tls_transaction_of == this)
    return makeError(ErrorCode::kInternal, "store: nested transaction; use the Tx you were given");
  std::unique_lock<std::mutex> write;
  if (dialect_ == Dialect::kSqlite) write = std::unique_lock(pool_->write_mutex);
  auto lease = acquire();
  if (!lease) return lease.error();
  internal::Connection& conn = **lease;
  common::Status st = conn.begin();
  if (!st && conn.broken()) {  // nothing ran yet: safe to retry on a new session
    if (auto re = conn.ensureConnected(); !re) return re;
    st = conn.begin();
  }
  if (!st) return st;
  conn.clearFailed();

  struct Mark {  // tls_transaction_of for the duration of fn, whatever the way out
    explicit Mark(const Database* db) { tls_transaction_of = db; }
    ~Mark() { tls_transaction_of = nullptr; }
  };
  try {
    Mark mark(this);
    st = fn(conn);
  } catch (const std::exception& e) {
    st = makeError(ErrorCode::kInternal,
                   std::string("store: transaction aborted by an exception: ") + e.what());
  } catch (...) {
    st = makeError(ErrorCode::kInternal, "store: transaction aborted by an exception");
  }
  if (st && conn.failed())
    st = makeError(ErrorCode::kInternal,
                   "store: a statement failed in a transaction that then returned success; "
                   "rolled back");
  if (!st) {
    (void)conn.rollback();  // a broken session is reset at its next lease
    conn.clearFailed();
    return st;
  }
  if (auto c = conn.commit(); !c) {
    (void)conn.rollback();
    conn.clearFailed();
    return c;
  }
  return {};
}

}  // namespace store
