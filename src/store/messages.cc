#include "store/messages.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "store/accounts.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

// Every status isMessageStatus accepts; applyUpdates' only_if_status holds at most these.
constexpr std::array<std::string_view, 9> kStatuses = {"queued",    "sending",     "sent",
                                                       "delivered", "undelivered", "failed",
                                                       "receiving", "received",    "canceled"};

}  // namespace

bool isMessageStatus(std::string_view status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

bool isMessageDirection(std::string_view direction) {
  return direction == "inbound" || direction == "outbound-api" || direction == "outbound-call" ||
         direction == "outbound-reply";
}

namespace internal {
bool isForeignKeyViolation(const common::Error& error) {
  if (error.code != ErrorCode::kInvalidArgument) return false;
  // SQLite: "FOREIGN KEY constraint failed"; PostgreSQL: "... violates foreign key constraint".
  std::string reason = asciiLower(error.reason);
  return reason.find("foreign key") != std::string::npos;
}
}  // namespace internal

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "store: message: " + why);
}

// Every column but seq, in the order create() binds them; selects add seq at the end.
constexpr std::string_view kInsertColumns =
    "sid, account_sid, direction, from_number, to_number, body, body_purged, status,"
    " num_segments, encoding, error_code, error_message, carrier_status, status_callback,"
    " status_callback_method, trunk, attempts, parts_delivered, date_created, date_updated,"
    " date_sent";

const std::string& selectColumns() {
  static const std::string columns = std::string(kInsertColumns) + ", seq";
  return columns;
}

Message fromRow(const Row& r) {
  Message m;
  m.sid = r.text(0);
  m.account_sid = r.text(1);
  m.direction = r.text(2);
  m.from = r.text(3);
  m.to = r.text(4);
  m.body = r.text(5);
  m.body_purged = r.integer(6) != 0;
  m.status = r.text(7);
  m.num_segments = r.integer(8);
  m.encoding = r.text(9);
  m.error_code = r.optionalInteger(10);
  m.error_message = r.text(11);
  m.carrier_status = r.text(12);
  m.status_callback = r.text(13);
  m.status_callback_method = r.text(14);
  m.trunk = r.text(15);
  m.attempts = r.integer(16);
  m.parts_delivered = r.integer(17);
  m.date_created = r.integer(18);
  m.date_updated = r.integer(19);
  m.date_sent = r.optionalInteger(20);
  m.seq = r.integer(21);
  return m;
}

common::Result<std::vector<Message>> fromRows(common::Result<std::vector<Row>> rows) {
  if (!rows) return rows.error();
  std::vector<Message> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(fromRow(r));
  return out;
}

// The statuses of a comma list ("sent,delivered"), each checked; empty items are skipped.
common::Result<std::vector<std::string>> parseStatusList(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    if (!isMessageStatus(item))
      return invalid("only_if_status names '" + std::string(item) + "', not a message status");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
  }
  return out;
}

// "WHERE account_sid = ?" and the filter's conditions, with the values they bind.
std::string listWhere(std::string_view account_sid, const MessageFilter& filter, Params& params) {
  std::string where = " WHERE account_sid = ?";
  params.push_back(std::string(account_sid));
  if (filter.to) {
    where += " AND to_number = ?";
    params.push_back(*filter.to);
  }
  if (filter.from) {
    where += " AND from_number = ?";
    params.push_back(*filter.from);
  }
  if (filter.date_sent_from) {
    where += " AND date_sent >= ?";
    params.emplace_back(std::in_place_type<int64_t>, *filter.date_sent_from);
  }
  if (filter.date_sent_until) {
    where += " AND date_sent < ?";
    params.emplace_back(std::in_place_type<int64_t>, *filter.date_sent_until);
  }
  return where;
}

class SqlMessages final : public Messages {
 public:
  explicit SqlMessages(Database& db) : db_(db) {}

  common::Result<bool> create(const Message& m) override {
    if (!isSid(m.sid, "SM")) return invalid("sid '" + m.sid + "' is not SM and 32 hex digits");
    if (!isSid(m.account_sid, "AC"))
      return invalid("account sid '" + m.account_sid + "' is not AC and 32 hex digits");
    if (!isMessageStatus(m.status)) return invalid("status '" + m.status + "' is unknown");
    if (!isMessageDirection(m.direction))
      return invalid("direction '" + m.direction + "' is unknown");
    // One autocommitted statement: no read first. A taken SID changes no row; a missing
    // account is the foreign key's violation.
    static const std::string sql =
        "INSERT INTO messages (" + std::string(kInsertColumns) +
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING";
    auto n = db_.exec(sql, {m.sid,
                            m.account_sid,
                            m.direction,
                            m.from,
                            m.to,
                            m.body,
                            int64_t{m.body_purged ? 1 : 0},
                            m.status,
                            m.num_segments,
                            m.encoding,
                            nullable(m.error_code),
                            m.error_message,
                            m.carrier_status,
                            m.status_callback,
                            m.status_callback_method,
                            m.trunk,
                            m.attempts,
                            m.parts_delivered,
                            m.date_created,
                            m.date_updated,
                            nullable(m.date_sent)});
    if (!n) {
      if (internal::isForeignKeyViolation(n.error()))
        return invalid("account " + m.account_sid + " does not exist");
      return n.error();
    }
    return *n > 0;
  }

  common::Result<std::optional<Message>> find(std::string_view account_sid,
                                              std::string_view sid) override {
    static const std::string sql =
        "SELECT " + selectColumns() + " FROM messages WHERE sid = ? AND account_sid = ?";
    return one(sql, {std::string(sid), std::string(account_sid)});
  }

  common::Result<std::optional<Message>> findBySid(std::string_view sid) override {
    static const std::string sql = "SELECT " + selectColumns() + " FROM messages WHERE sid = ?";
    return one(sql, {std::string(sid)});
  }

  common::Result<std::vector<Message>> list(std::string_view account_sid,
                                            const MessageFilter& filter, int64_t offset,
                                            int64_t limit) override {
    if (auto st = internal::checkPage(offset, limit); !st) return st.error();
    Params params;
    std::string sql = "SELECT " + selectColumns() + " FROM messages" +
                      listWhere(account_sid, filter, params) +
                      " ORDER BY date_created DESC, seq DESC LIMIT ? OFFSET ?";
    params.emplace_back(std::in_place_type<int64_t>, limit);
    params.emplace_back(std::in_place_type<int64_t>, offset);
    return fromRows(db_.query(sql, params));
  }

  common::Result<int64_t> count(std::string_view account_sid,
                                const MessageFilter& filter) override {
    Params params;
    std::string sql = "SELECT COUNT(*) FROM messages" + listWhere(account_sid, filter, params);
    return db_.queryInteger(sql, params);
  }

  common::Result<std::vector<Message>> listUnfinished(int64_t after_seq, int64_t limit) override {
    if (auto st = internal::checkPage(0, limit); !st) return st.error();
    // The status condition is the partial index's own text (migration 9), so both backends
    // read the queue straight from that index in seq order.
    static const std::string sql = "SELECT " + selectColumns() +
                                   " FROM messages WHERE status IN ('queued', 'sending')"
                                   " AND seq > ? ORDER BY seq LIMIT ?";
    return fromRows(db_.query(sql, {after_seq, limit}));
  }

  common::Result<int64_t> applyUpdates(const std::vector<MessageUpdate>& updates) override {
    if (updates.empty()) return int64_t{0};
    // Everything is checked before anything is written: a bad update fails the whole batch.
    std::vector<std::vector<std::string>> only_if(updates.size());
    for (size_t i = 0; i < updates.size(); ++i) {
      const MessageUpdate& u = updates[i];
      if (!isSid(u.sid, "SM")) return invalid("update of '" + u.sid + "': not a message sid");
      if (u.status && !isMessageStatus(*u.status))
        return invalid("update of " + u.sid + ": status '" + *u.status + "' is unknown");
      auto statuses = parseStatusList(u.only_if_status);
      if (!statuses) return statuses.error();
      only_if[i] = std::move(*statuses);
    }
    // One statement text for every shape of update, so it is prepared once per connection:
    // an empty field binds NULL and COALESCE keeps the column; only_if_status fills a fixed
    // number of IN slots (repeating its first status), or the "any" flag skips the test.
    static const std::string sql =
        "UPDATE messages SET status = COALESCE(?, status), error_code = COALESCE(?, error_code),"
        " error_message = COALESCE(?, error_message),"
        " carrier_status = COALESCE(?, carrier_status), trunk = COALESCE(?, trunk),"
        " date_sent = COALESCE(?, date_sent), attempts = attempts + ?,"
        " parts_delivered = parts_delivered + ?, date_updated = COALESCE(?, date_updated)"
        " WHERE sid = ? AND (? = 1 OR status IN (?, ?, ?, ?, ?, ?, ?, ?, ?))";
    int64_t changed = 0;
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      for (size_t i = 0; i < updates.size(); ++i) {
        const MessageUpdate& u = updates[i];
        const std::vector<std::string>& statuses = only_if[i];
        Params params = {nullable(u.status),
                         nullable(u.error_code),
                         nullable(u.error_message),
                         nullable(u.carrier_status),
                         nullable(u.trunk),
                         nullable(u.date_sent),
                         u.add_attempts,
                         u.add_parts_delivered,
                         u.date_updated != 0 ? Value(u.date_updated) : Value(nullptr),
                         u.sid,
                         int64_t{statuses.empty() ? 1 : 0}};
        for (size_t k = 0; k < kStatuses.size(); ++k)
          params.push_back(statuses.empty() ? std::string(kStatuses[0])
                                            : statuses[k < statuses.size() ? k : 0]);
        auto n = tx.exec(sql, params);
        if (!n) return n.error();
        changed += *n;
      }
      return {};
    });
    if (!st) return st.error();
    return changed;
  }

  common::Status addCarrierIds(const std::vector<CarrierId>& ids) override {
    for (const CarrierId& id : ids) {
      if (id.trunk.empty() || id.carrier_message_id.empty())
        return invalid("a carrier id needs a trunk and the carrier's message id");
      if (id.part < 0) return invalid("carrier id part " + std::to_string(id.part) + " < 0");
    }
    if (ids.empty()) return {};
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      for (const CarrierId& id : ids) {
        // Carriers recycle their ids: the newest message to get one owns it.
        auto n = tx.exec(
            "INSERT INTO message_carrier_ids (trunk, carrier_message_id, message_sid, part)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (trunk, carrier_message_id) DO UPDATE SET"
            " message_sid = excluded.message_sid, part = excluded.part",
            {id.trunk, id.carrier_message_id, id.message_sid, id.part});
        if (!n) {
          if (internal::isForeignKeyViolation(n.error()))
            return invalid("carrier id " + id.carrier_message_id + ": message " + id.message_sid +
                           " does not exist");
          return n.error();
        }
      }
      return {};
    });
    return st;
  }

  common::Result<std::optional<CarrierId>> findCarrierId(
      std::string_view trunk, std::string_view carrier_message_id) override {
    auto row = db_.queryOne(
        "SELECT trunk, carrier_message_id, message_sid, part FROM message_carrier_ids"
        " WHERE trunk = ? AND carrier_message_id = ?",
        {std::string(trunk), std::string(carrier_message_id)});
    if (!row) return row.error();
    if (!*row) return std::optional<CarrierId>();
    const Row& r = **row;
    return std::optional<CarrierId>(CarrierId{r.text(0), r.text(1), r.text(2), r.integer(3)});
  }

  common::Result<bool> purgeBody(std::string_view account_sid, std::string_view sid,
                                 int64_t now) override {
    auto n = db_.exec(
        "UPDATE messages SET body = '', body_purged = 1, date_updated = ?"
        " WHERE sid = ? AND account_sid = ?",
        {now, std::string(sid), std::string(account_sid)});
    if (!n) return n.error();
    return *n > 0;
  }

  common::Result<bool> remove(std::string_view account_sid, std::string_view sid) override {
    bool removed = false;
    Params key = {std::string(sid), std::string(account_sid)};
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      // The carrier ids first (they reference the message), and only the account's own.
      auto ids = tx.exec(
          "DELETE FROM message_carrier_ids WHERE message_sid IN"
          " (SELECT sid FROM messages WHERE sid = ? AND account_sid = ?)",
          key);
      if (!ids) return ids.error();
      auto n = tx.exec("DELETE FROM messages WHERE sid = ? AND account_sid = ?", key);
      if (!n) return n.error();
      removed = *n > 0;
      return {};
    });
    if (!st) return st.error();
    return removed;
  }

 private:
  common::Result<std::optional<Message>> one(const std::string& sql, const Params& params) {
    auto row = db_.queryOne(sql, params);
    if (!row) return row.error();
    if (!*row) return std::optional<Message>();
    return std::optional<Message>(fromRow(**row));
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<Messages> makeSqlMessages(Database& db) {
  return std::make_unique<SqlMessages>(db);
}
}  // namespace internal

}  // namespace store
