// Messaging configuration kept in the store: each account's SMS settings (rate limit, DLR
// level 2, the texts of the native STOP/START/HELP answers) and the SMS trunks, the carrier
// connections messages go out on (SMPP binds, or a SIP trunk for SIP MESSAGE).
//
//   auto s = store.messagingSettings().account(ac);  // defaults when never set
//   s->sms_per_second = 5;
//   store.messagingSettings().putAccount(*s);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct AccountMessagingSettings {
  std::string account_sid;
  int64_t sms_per_second = 1;  // the product's default; 1..100000
  bool dlr_level2 = false;     // carrier detail in ErrorMessage
  std::string help_text;       // "" = the built-in text
  std::string stop_text;
  std::string start_text;
  int64_t updated_at = 0;
  bool operator==(const AccountMessagingSettings&) const = default;
};

struct SmsTrunk {
  std::string name;             // [a-z0-9_-]{1,64}
  std::string kind = "smpp";    // "smpp" or "sip"
  std::string address;          // smpp: HOST:PORT; sip: the SIP trunk's name (sip_trunks)
  std::string system_id;        // smpp bind
  std::string password_sealed;  // smpp bind password, sealed by the api part's master key
  std::string system_type;
  int64_t window = 10;                // outstanding submit_sm at most
  int64_t max_per_second = 0;         // the carrier's limit; 0 = none
  std::vector<std::string> prefixes;  // destination prefixes ("+1", "+44"): "+" then 1 to 15
                                      // digits; empty = default
  int64_t created_at = 0;
  bool operator==(const SmsTrunk&) const = default;
};

class MessagingSettings {
 public:
  virtual ~MessagingSettings() = default;
  // The account's settings; the defaults (with account_sid set) when never written.
  virtual common::Result<AccountMessagingSettings> account(std::string_view account_sid) = 0;
  // kInvalidArgument: sms_per_second outside 1..100000, an account that does not exist.
  virtual common::Status putAccount(const AccountMessagingSettings& settings) = 0;
  // Creates or replaces (a replaced trunk keeps its created_at). kInvalidArgument: a bad
  // name, kind, window (1..1000), address, prefix, or max_per_second < 0.
  virtual common::Status upsertTrunk(const SmsTrunk& trunk) = 0;
  virtual common::Result<std::vector<SmsTrunk>> listTrunks() = 0;  // by name
  virtual common::Result<bool> removeTrunk(std::string_view name) = 0;
};

}  // namespace store
