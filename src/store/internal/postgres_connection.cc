// PostgreSQL backend over libpq: one PGconn per Connection, statements prepared once per
// session (named sb_1, sb_2, ...) and cached by their SQL text; reconnects when the server
// dropped the session (restart, failover, pg_terminate_backend).
#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <map>

#include "store/internal/connection.h"

namespace store::internal {
namespace {

using common::ErrorCode;
using common::makeError;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// Type OIDs from pg_type.h (stable across versions; the server header is not installed).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26,
              kFloat4Oid = 700, kFloat8Oid = 701;

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string toText(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);  // shortest text that reads back exact
    return std::string(buf, r.ptr);
  }
  return std::get<std::string>(v);
}

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(ConnPtr conn, std::string display)
      : conn_(std::move(conn)), display_(std::move(display)) {
    PQsetNoticeReceiver(conn_.get(), &PostgresConnection::onNotice, this);  // kept by PQreset
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  common::Result<int64_t> exec(std::string_view sql, const Params& params) override {
    auto res = run(sql, params);
    if (!res) return res.error();
    const char* n = PQcmdTuples(res->get());
    int64_t count = 0;
    if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), count);
    return count;
  }

  common::Result<std::vector<Row>> query(std::string_view sql, const Params& params) override {
    auto res = run(sql, params);
    if (!res) return res.error();
    PGresult* r = res->get();
    int rows = PQntuples(r), cols = PQnfields(r);
    std::vector<Row> out;
    out.reserve(size_t(rows));
    for (int i = 0; i < rows; ++i) {
      std::vector<Value> cells;
      cells.reserve(size_t(cols));
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(r, i, c)) {
          cells.emplace_back(nullptr);
          continue;
        }
        const char* s = PQgetvalue(r, i, c);
        size_t len = size_t(PQgetlength(r, i, c));
        switch (PQftype(r, c)) {
          case kInt8Oid:
          case kInt2Oid:
          case kInt4Oid:
          case kOidOid: {
            int64_t v = 0;
            std::from_chars(s, s + len, v);
            cells.emplace_back(v);
            break;
          }
          case kFloat4Oid:
          case kFloat8Oid: {
            double v = 0;
            std::from_chars(s, s + len, v);
            cells.emplace_back(v);
            break;
          }
          case kBoolOid:
            cells.emplace_back(int64_t{len > 0 && s[0] == 't'});
            break;
          default:
            cells.emplace_back(std::string(s, len));
        }
      }
      out.emplace_back(std::move(cells));
    }
    return out;
  }

  common::Status execScript(std::string_view sql) override {
    std::string text(sql);
    ResultPtr res(PQexec(conn_.get(), text.c_str()));
    return check(res.get(), sql);
  }

  common::Status begin() override { return execScript("BEGIN"); }
  common::Status commit() override {
    ResultPtr res(PQexec(conn_.get(), "COMMIT"));
    if (auto st = check(res.get(), "COMMIT"); !st) return st;
    // COMMIT of a transaction that an error aborted answers ROLLBACK, not an error.
    if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
      failed_ = true;
      return makeError(ErrorCode::kIo, "store: " + display_ +
                                           ": transaction was aborted by an earlier error and "
                                           "rolled back");
    }
    return {};
  }
  common::Status rollback() override {
    if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return {};
    return execScript("ROLLBACK");
  }

  common::Status ensureConnected() override {
    // An idle session the server closed has its socket readable (a FATAL message, then EOF);
    // reading it now turns the status to CONNECTION_BAD instead of failing the next call.
    // The FATAL can come before the EOF does: it reaches onNotice (the session is idle) and
    // marks the session as closing, so it is replaced without waiting for the EOF.
    for (int i = 0; i < 4 && PQstatus(conn_.get()) == CONNECTION_OK && !server_closing_; ++i) {
      pollfd p{PQsocket(conn_.get()), POLLIN, 0};
      if (p.fd < 0 || poll(&p, 1, 0) <= 0) break;
      if (!PQconsumeInput(conn_.get())) break;
      (void)PQisBusy(conn_.get());  // parses what arrived
    }
    if (PQstatus(conn_.get()) == CONNECTION_OK && !server_closing_) {
      // A lease always ends outside a transaction; should one be left open, end it here
      // rather than run the next caller's statements inside it.
      if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) return execScript("ROLLBACK");
      return {};
    }
    PQreset(conn_.get());
    prepared_.clear();  // the new session has none of them
    server_closing_ = false;
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      return makeError(ErrorCode::kIo, "store: cannot reconnect to " + display_ + ": " +
                                           trimmed(PQerrorMessage(conn_.get())));
    return {};
  }

  bool broken() const override { return server_closing_ || PQstatus(conn_.get()) != CONNECTION_OK; }

 private:
  common::Status check(PGresult* res, std::string_view sql) {
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
    failed_ = true;
    std::string reason = res ? trimmed(PQresultErrorMessage(res)) : "";
    if (reason.empty()) reason = trimmed(PQerrorMessage(conn_.get()));
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    ErrorCode code =
        state && state[0] == '2' && state[1] == '3' ? ErrorCode::kInvalidArgument : ErrorCode::kIo;
    std::string shown(sql.substr(0, 80));
    return common::Error(code, "store: " + display_ + ": " + reason + " (in: " + shown + ")");
  }

  common::Result<ResultPtr> run(std::string_view sql, const Params& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "sb_" + std::to_string(++next_statement_);
      std::string translated = toPostgresPlaceholders(sql);
      ResultPtr prep(PQprepare(conn_.get(), name.c_str(), translated.c_str(), 0, nullptr));
      if (auto st = check(prep.get(), sql); !st) return st.error();
      it = prepared_.emplace(std::string(sql), std::move(name)).first;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::nullptr_t>(params[i])) continue;
      texts[i] = toText(params[i]);
      values[i] = texts[i].c_str();
    }
    ResultPtr res(PQexecPrepared(conn_.get(), it->second.c_str(), int(params.size()), values.data(),
                                 nullptr, nullptr, 0));
    if (auto st = check(res.get(), sql); !st) return st.error();
    return res;
  }

  // Notices and, on an idle session, errors the server sends unasked: a FATAL one (admin
  // shutdown, pg_terminate_backend, idle timeout) means it is closing the session.
  static void onNotice(void* self, const PGresult* res) {
    const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!severity) return;
    std::string_view sev(severity);
    if (sev == "FATAL" || sev == "PANIC")
      static_cast<PostgresConnection*>(self)->server_closing_ = true;
  }

  ConnPtr conn_;
  bool server_closing_ = false;
  std::string display_;
  std::map<std::string, std::string, std::less<>> prepared_;
  uint64_t next_statement_ = 0;
};

}  // namespace

common::Result<std::unique_ptr<Connection>> openPostgres(const std::string& url,
                                                         const std::string& display,
                                                         const DatabaseOptions& options) {
  // Later keywords win, so what the URL says (dbname is expanded last) overrides our defaults.
  std::string timeout = std::to_string(options.connect_timeout_s);
  const char* keys[] = {"application_name", "connect_timeout", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"switchboard", timeout.c_str(), "UTF8", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, 1));
  if (!conn) return makeError(ErrorCode::kIo, "store: cannot open " + display + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return makeError(ErrorCode::kIo,
                     "store: cannot open " + display + ": " + trimmed(PQerrorMessage(conn.get())));
  return std::unique_ptr<Connection>(
      std::make_unique<PostgresConnection>(std::move(conn), display));
}

}  // namespace store::internal
