// The phone numbers accounts own (Twilio's IncomingPhoneNumbers): where their calls and
// messages are sent (webhook URLs), what they can do, and two Switchboard fields: the porting
// state of a number being brought in from another carrier, and SMS hosting, for a number
// whose voice stays with another carrier while its messages come here.
//
//   auto created = store.phoneNumbers().create(number);  // false: the number is taken
//   auto n = store.phoneNumbers().find(account_sid, pn_sid);  // another account's: nullopt
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

// "none", "loa-received", "in-progress" or "completed".
bool isPortingStatus(std::string_view status);
// "full" (voice and messages here) or "sms-only" (voice stays with another carrier).
bool isHosting(std::string_view hosting);
// "+" then 2 to 15 digits, the first not 0.
bool isE164(std::string_view number);

struct PhoneNumber {
  std::string sid;  // "PN" + 32 hex
  std::string account_sid;
  std::string phone_number;  // E.164, unique across accounts
  std::string friendly_name;
  std::string voice_url;
  std::string voice_method = "POST";
  std::string voice_fallback_url;
  std::string voice_fallback_method = "POST";
  std::string sms_url;
  std::string sms_method = "POST";
  std::string sms_fallback_url;
  std::string sms_fallback_method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  bool voice_capable = true;
  bool sms_capable = true;
  bool mms_capable = false;
  bool fax_capable = false;
  std::string porting_status = "none";
  std::string hosting = "full";
  // Native STOP/START/HELP handling for SMS to this number: when false the keywords reach
  // the number's SmsUrl like any other message and nothing is opted out.
  bool sms_native_opt_out = true;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const PhoneNumber&) const = default;
};

struct PhoneNumberFilter {
  std::optional<std::string> phone_number;   // exact
  std::optional<std::string> friendly_name;  // exact
};

class PhoneNumbers {
 public:
  virtual ~PhoneNumbers() = default;
  // false when the number (or SID) is already provisioned. kInvalidArgument: bad SID, not
  // E.164, unknown porting status or hosting, an account that does not exist.
  virtual common::Result<bool> create(const PhoneNumber& number) = 0;
  // Scoped to the account: another account's number is nullopt.
  virtual common::Result<std::optional<PhoneNumber>> find(std::string_view account_sid,
                                                          std::string_view sid) = 0;
  // Across accounts, for routing an incoming call or message.
  virtual common::Result<std::optional<PhoneNumber>> findByNumber(std::string_view e164) = 0;
  // Oldest first (created_at, then sid).
  virtual common::Result<std::vector<PhoneNumber>> list(std::string_view account_sid,
                                                        const PhoneNumberFilter& filter,
                                                        int64_t offset, int64_t limit) = 0;
  virtual common::Result<int64_t> count(std::string_view account_sid,
                                        const PhoneNumberFilter& filter) = 0;
  // Replaces every field but sid, account_sid, phone_number and created_at of the number
  // (account_sid, sid); false when there is none. Same checks as create.
  virtual common::Result<bool> update(const PhoneNumber& number) = 0;
  virtual common::Result<bool> remove(std::string_view account_sid, std::string_view sid) = 0;
};

}  // namespace store
