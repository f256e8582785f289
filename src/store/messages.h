// SMS messages (Twilio's Messages resource) and the durable send queue behind them: a message
// accepted by the API is a row with status "queued" before the API answers, and the queue is
// nothing but the rows still "queued" or "sending". Carrier message ids (one per part of a
// concatenated message) point delivery receipts back at their message.
//
//   store.messages().create(msg);                        // committed: the API may answer 201
//   auto pending = store.messages().listUnfinished(0, 1000);  // after a restart
//   store.messages().applyUpdates({{.sid = sid, .status = "sent", ...}});
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

// Twilio's statuses: queued, sending, sent, delivered, undelivered, failed (outbound);
// receiving, received (inbound); plus "canceled".
bool isMessageStatus(std::string_view status);
// Twilio's directions: inbound, outbound-api, outbound-call, outbound-reply.
bool isMessageDirection(std::string_view direction);

struct Message {
  std::string sid;  // "SM" + 32 hex
  std::string account_sid;
  std::string direction = "outbound-api";
  std::string from;  // E.164
  std::string to;    // E.164
  std::string body;  // UTF-8; "" once purged
  bool body_purged = false;
  std::string status = "queued";
  int64_t num_segments = 1;
  std::string encoding = "GSM-7";  // "GSM-7" or "UCS-2"
  std::optional<int64_t> error_code;
  std::string error_message;    // level 1 text, or the level 2 text when the account has it
  std::string carrier_status;   // the carrier's own status text (level 2 source), "" if none
  std::string status_callback;  // URL, "" = none
  std::string status_callback_method = "POST";
  std::string trunk;            // the carrier connection it went out on / came in from
  int64_t attempts = 0;         // times handed to a carrier (more than 1: a possible duplicate)
  int64_t parts_delivered = 0;  // delivery receipts counted as delivered, per part
  int64_t date_created = 0;     // unix seconds
  int64_t date_updated = 0;
  std::optional<int64_t> date_sent;  // when the carrier accepted it (inbound: received)
  int64_t seq = 0;  // set by create(): the order of arrival (queue order), read-only
  bool operator==(const Message&) const = default;
};

// List filters, as Twilio's: To, From, DateSent (a day, or the day inequalities).
struct MessageFilter {
  std::optional<std::string> to;
  std::optional<std::string> from;
  std::optional<int64_t> date_sent_from;   // inclusive, unix seconds
  std::optional<int64_t> date_sent_until;  // exclusive
};

// One change of a message's state; fields left empty are not touched.
struct MessageUpdate {
  std::string sid;
  std::optional<std::string> status;
  std::optional<int64_t> error_code;  // set (a value) ...
  std::optional<std::string> error_message;
  std::optional<std::string> carrier_status;
  std::optional<std::string> trunk;
  std::optional<int64_t> date_sent;
  int64_t add_attempts = 0;         // added to attempts
  int64_t add_parts_delivered = 0;  // added to parts_delivered
  // Only when the current status is one of these (comma list, "" = any): a late receipt
  // never turns a final state back.
  std::string only_if_status;
  int64_t date_updated = 0;  // 0 = leave date_updated as it is
};

// A carrier's id for one part of a message.
struct CarrierId {
  std::string trunk;
  std::string carrier_message_id;
  std::string message_sid;
  int64_t part = 0;  // 0-based
};

class Messages {
 public:
  virtual ~Messages() = default;
  // Inserts and commits; false when the SID exists. kInvalidArgument: bad SID, status or
  // direction, an account that does not exist. Sets nothing in `message` (seq is read back
  // by find()).
  virtual common::Result<bool> create(const Message& message) = 0;
  // Scoped to the account: another account's message is nullopt.
  virtual common::Result<std::optional<Message>> find(std::string_view account_sid,
                                                      std::string_view sid) = 0;
  virtual common::Result<std::optional<Message>> findBySid(std::string_view sid) = 0;
  // Newest first (date_created, then seq), as Twilio lists messages.
  virtual common::Result<std::vector<Message>> list(std::string_view account_sid,
                                                    const MessageFilter& filter, int64_t offset,
                                                    int64_t limit) = 0;
  virtual common::Result<int64_t> count(std::string_view account_sid,
                                        const MessageFilter& filter) = 0;
  // Every account's messages still "queued" or "sending", oldest first (seq), with seq
  // greater than `after_seq`, at most `limit` (the queue reloaded after a restart). On
  // PostgreSQL seqs are taken at insert and concurrent inserts may commit out of seq order,
  // so paging by after_seq while creates run can step over a row committed late: page this
  // way at start-up, before the API accepts messages (on SQLite writes are serialized).
  virtual common::Result<std::vector<Message>> listUnfinished(int64_t after_seq, int64_t limit) = 0;
  // Applies all updates in one transaction; returns how many rows changed (an update whose
  // SID is unknown or whose only_if_status does not match changes none and is no error).
  // kInvalidArgument, and nothing applied: a SID not SM+32 hex, an unknown status in status
  // or only_if_status.
  virtual common::Result<int64_t> applyUpdates(const std::vector<MessageUpdate>& updates) = 0;
  // Records carrier ids (one transaction). An id already known on that trunk is given to
  // the new message (carriers recycle ids). kInvalidArgument: an empty trunk or carrier id,
  // a part < 0, a message that does not exist.
  virtual common::Status addCarrierIds(const std::vector<CarrierId>& ids) = 0;
  virtual common::Result<std::optional<CarrierId>> findCarrierId(
      std::string_view trunk, std::string_view carrier_message_id) = 0;
  // Empties the body and sets body_purged, keeping the log; false when there is none.
  virtual common::Result<bool> purgeBody(std::string_view account_sid, std::string_view sid,
                                         int64_t now) = 0;
  // Deletes the message (and its carrier ids); false when there is none.
  virtual common::Result<bool> remove(std::string_view account_sid, std::string_view sid) = 0;
};

}  // namespace store
