// Delivery-receipt mapping (DLR level 1 and level 2): an SMPP receipt's stat and err become a
// carrier status ("Delivered to handset", "Spam Reject" ...), and the carrier status becomes
// the message's Twilio status, error code and the text shown to the customer.
//
//   static const messaging::DlrTable table = messaging::DlrTable::defaults();
//   messaging::DlrOutcome o = table.map("UNDELIV", "013");
//   // o.status "undelivered", o.error_code 30004, o.carrier_status
//   // "ESME Receiver reject message error", o.level2_message "Failed – possible reasons: ..."
//
// The table is text, one rule a line; '#' starts a comment line, blank lines are skipped:
//
//   receipt STAT ERR -> CARRIER STATUS
//       A receipt whose stat is STAT (any case) and whose err is ERR shows CARRIER STATUS.
//       ERR is * for any err; decimal codes compare as numbers (045 = 45), others as
//       case-insensitive text. A line naming the err wins over the STAT * line.
//   carrier "CARRIER STATUS" -> STATUS CODE CUSTOMER TEXT
//       STATUS is delivered, sent (the carrier has it, not final), undelivered or failed;
//       CODE the Twilio error code or - for none; CUSTOMER TEXT runs to the end of the line.
//
// Every carrier status a receipt line names must have its carrier line. A receipt whose
// stat/err no line matches gets the "Description Unavailable" carrier row (undelivered, 30008
// when the table does not define that row).
//
// The default table (config/dlr_table.example holds the same text) maps:
//   DELIVRD *                -> Delivered to handset                     delivered
//   ACCEPTD *, ENROUTE *     -> Message accepted by Carrier              sent (not final)
//   EXPIRED *                -> Temporary Resolution Failure             undelivered 30003
//   DELETED *, REJECTD *     -> Message rejected                         undelivered 30003
//   UNDELIV *, UNKNOWN *     -> Description Unavailable                  undelivered 30008
//   UNDELIV err, the GSM MAP error of 3GPP TS 29.002 the network gave:
//     001 unknownSubscriber, 005 unidentifiedSubscriber -> Unknown subscriber   30005
//     006 absentSubscriberSM, 027 absentSubscriber       -> Message rejected     30003
//     011 teleserviceNotProvisioned -> Destination Address is not text enabled   30006
//     013 callBarred                -> ESME Receiver reject message error        30004
//     021 facilityNotSupported      -> Route Denied                              30006
//     034 systemFailure             -> Temporary Resolution Failure              30003
//   REJECTD err, the SMSC's SMPP command_status in decimal (and 045, taken here for content
//   refused as spam; carriers differ, so adjust to yours):
//     010 ESME_RINVSRCADR -> Source Not Authorized                    failed 30004
//     011 ESME_RINVDSTADR -> Destination Address is not text enabled  30006
//     045                 -> Spam Reject                              30007
//     102 ESME_RX_R_APPN  -> ESME Receiver reject message error       30004
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace messaging {

struct DlrOutcome {
  std::string status;  // "delivered", "undelivered", "failed", or "sent" (not final)
  bool final = true;
  // The Twilio error code of a non-delivered outcome (30003 unreachable handset, 30004
  // blocked, 30005 unknown handset, 30006 landline or unreachable carrier, 30007 filtered,
  // 30008 unknown error).
  std::optional<int64_t> error_code;
  std::string carrier_status;  // "Delivered to handset" ...
  std::string level1_message;  // the error code's short name ("Unknown error"); "" without one
  std::string level2_message;  // the customer text of the carrier status
  bool operator==(const DlrOutcome&) const = default;
};

// The short name of a Twilio messaging error code ("Unknown error" for 30008), "" when the
// code has none here.
std::string twilioErrorName(int64_t code);

class DlrTable {
 public:
  static DlrTable defaults();
  // Errors (kInvalidArgument) say the line: "line 7: unknown status \"sent2\"".
  static common::Result<DlrTable> parse(std::string_view text);

  DlrOutcome map(std::string_view stat, std::string_view err) const;
  // The outcome of one carrier status as the table defines it; nullopt when it does not.
  std::optional<DlrOutcome> carrierOutcome(std::string_view carrier_status) const;

  size_t receiptRules() const { return receipts_.size(); }
  size_t carrierRules() const { return carriers_.size(); }
  bool operator==(const DlrTable&) const = default;

 private:
  struct CarrierRow {
    std::string status;
    std::optional<int64_t> error_code;
    std::string text;
    bool operator==(const CarrierRow&) const = default;
  };
  DlrOutcome outcome(const std::string& carrier_status, const CarrierRow& row) const;

  std::map<std::pair<std::string, std::string>, std::string> receipts_;  // (STAT, err) -> status
  std::map<std::string, CarrierRow> carriers_;
};

}  // namespace messaging
