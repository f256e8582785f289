// The append-only audit log: one entry per API request (who, with which key, what, the
// answer, from where, when). The interface has no update or delete, and the tables refuse
// UPDATE and DELETE with triggers on both backends, so a bug or a stray SQL session cannot
// rewrite history.
//
//   store.auditLog().append({{.at_ms = now_ms, .account_sid = ac, .principal = sk,
//                             .method = "GET", .path = "/2010-04-01/...", .status = 200,
//                             .source = "127.0.0.1"}});
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct AuditEntry {
  int64_t id = 0;           // assigned by append (increasing); ignored on input
  int64_t at_ms = 0;        // unix milliseconds
  std::string account_sid;  // the account acted on ("" when authentication failed)
  std::string principal;    // the AC or SK SID presented ("" when none)
  std::optional<std::string> user_sid;
  std::string method;
  std::string path;  // without the query string
  int status = 0;
  std::string source;  // the peer address
  // How many requests the entry stands for: 1, or the failed authentications from `source`
  // (an IPv6 one by its /64) against the account that were coalesced into it (the fields
  // above are the first of them; the very first of a window is an entry of its own).
  int64_t count = 1;
  bool operator==(const AuditEntry&) const = default;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // All entries in one transaction, in order.
  virtual common::Status append(const std::vector<AuditEntry>& entries) = 0;
  // One account's entries, newest first.
  virtual common::Result<std::vector<AuditEntry>> list(std::string_view account_sid, int64_t offset,
                                                       int64_t limit) = 0;
  virtual common::Result<int64_t> count(std::string_view account_sid) = 0;
};

}  // namespace store
