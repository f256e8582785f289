// SMS opt-outs: recipients who answered STOP (or its synonyms) to one of an account's
// numbers, and so receive nothing from any number of that account until they opt back in.
//
//   store.optOuts().add({.account_sid = ac, .phone_number = "+15550100", .keyword = "STOP",
//                        .created_at = now});
//   bool blocked = *store.optOuts().isOptedOut(ac, "+15550100");
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct OptOut {
  std::string account_sid;
  std::string phone_number;  // the recipient, E.164
  std::string keyword;       // what they sent: STOP, UNSUBSCRIBE ... (upper case)
  std::string via_number;    // the account's number they sent it to
  int64_t created_at = 0;
  bool operator==(const OptOut&) const = default;
};

class OptOuts {
 public:
  virtual ~OptOuts() = default;
  // false when the recipient was already opted out of this account (the row is kept).
  // kInvalidArgument: an account SID not AC+32 hex, a phone number not E.164, an account
  // that does not exist.
  virtual common::Result<bool> add(const OptOut& opt_out) = 0;
  // false when there was none.
  virtual common::Result<bool> remove(std::string_view account_sid,
                                      std::string_view phone_number) = 0;
  virtual common::Result<bool> isOptedOut(std::string_view account_sid,
                                          std::string_view phone_number) = 0;
  // Newest first (created_at descending, then phone_number ascending).
  virtual common::Result<std::vector<OptOut>> list(std::string_view account_sid, int64_t offset,
                                                   int64_t limit) = 0;
  virtual common::Result<int64_t> count(std::string_view account_sid) = 0;
};

}  // namespace store
