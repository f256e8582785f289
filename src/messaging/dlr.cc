#include "messaging/dlr.h"

#include <cassert>

#include "common/strings.h"

namespace messaging {
namespace {

// The built-in table; config/dlr_table.example holds the same text (a test checks they parse
// to the same table).
constexpr std::string_view kDefaultTable = R"table(
# Switchboard delivery-receipt table (DLR level 2). It says which carrier status an SMPP
# delivery receipt's stat and err give, and what each carrier status means for the message:
# its status, its Twilio error code and the text shown to the customer. This file holds the
# built-in table; a copy edited to suit a carrier replaces it.
#
#   receipt STAT ERR -> CARRIER STATUS
#       STAT is the receipt's stat (any case). ERR is its err, or * for any: decimal codes
#       compare as numbers (045 = 45). A line naming the err wins over the STAT * line.
#   carrier "CARRIER STATUS" -> STATUS CODE CUSTOMER TEXT
#       STATUS: delivered, sent (the carrier has it; not final), undelivered or failed.
#       CODE: the Twilio error code, or - for none. CUSTOMER TEXT runs to the end of the line.
#
# Lines starting with '#' are comments. A receipt no line matches gets the
# "Description Unavailable" row.

carrier "Delivered to handset" -> delivered - Delivered Successfully
carrier "Message accepted by Carrier" -> sent - Delivered Successfully
carrier "Destination Address is not text enabled" -> undelivered 30006 Failed - Destination Number not SMS enabled
carrier "Spam Reject" -> undelivered 30007 Failed - Content Flagged as SPAM
carrier "Route Denied" -> undelivered 30006 Failed - Delivery Not Available to Destination Carrier
carrier "Source Not Authorized" -> failed 30004 Source Number Not SMS Enabled
carrier "Temporary Resolution Failure" -> undelivered 30003 Failed - Message was Dropped After Reattempts
carrier "ESME Receiver reject message error" -> undelivered 30004 Failed – possible reasons: a prepaid user out of money; a subscriber provisioned not to receive this type of SMS; SMS sent to an IoT device; rejected by the carrier's spam analysis
carrier "Description Unavailable" -> undelivered 30008 Failed – possible reasons: subscriber out of service area; device off for an extended period; spam reject (open a ticket with support for detail)
carrier "Message rejected" -> undelivered 30003 Failed – possible reasons: subscriber out of service area; device off for an extended period; spam reject
carrier "Unknown subscriber" -> undelivered 30005 Failed - Destination Number Unknown or No Longer in Service

# The receipt states of SMPP 3.4 (Appendix B).
receipt DELIVRD * -> Delivered to handset
receipt ACCEPTD * -> Message accepted by Carrier
receipt ENROUTE * -> Message accepted by Carrier
receipt EXPIRED * -> Temporary Resolution Failure
receipt DELETED * -> Message rejected
receipt REJECTD * -> Message rejected
receipt UNDELIV * -> Description Unavailable
receipt UNKNOWN * -> Description Unavailable

# UNDELIV: err is the GSM MAP error (3GPP TS 29.002) the network returned.
# 001 unknownSubscriber, 005 unidentifiedSubscriber
receipt UNDELIV 001 -> Unknown subscriber
receipt UNDELIV 005 -> Unknown subscriber
# 006 absentSubscriberSM, 027 absentSubscriber
receipt UNDELIV 006 -> Message rejected
receipt UNDELIV 027 -> Message rejected
# 011 teleserviceNotProvisioned
receipt UNDELIV 011 -> Destination Address is not text enabled
# 013 callBarred
receipt UNDELIV 013 -> ESME Receiver reject message error
# 021 facilityNotSupported
receipt UNDELIV 021 -> Route Denied
# 034 systemFailure
receipt UNDELIV 034 -> Temporary Resolution Failure

# REJECTD: err is the SMSC's SMPP command_status in decimal; 045 is the code this table
# takes for content refused as spam (carriers differ: adjust to yours).
# 010 ESME_RINVSRCADR
receipt REJECTD 010 -> Source Not Authorized
# 011 ESME_RINVDSTADR
receipt REJECTD 011 -> Destination Address is not text enabled
receipt REJECTD 045 -> Spam Reject
# 102 ESME_RX_R_APPN
receipt REJECTD 102 -> ESME Receiver reject message error
)table";

constexpr std::string_view kFallbackStatus = "Description Unavailable";
constexpr std::string_view kFallbackText =
    "Failed \u2013 possible reasons: subscriber out of service area; device off for an "
    "extended period; spam reject (open a ticket with support for detail)";
constexpr int64_t kUnknownErrorCode = 30008;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  }
  return out;
}

// An err as the table compares it: decimal without leading zeros, other text upper-cased.
std::string normalizeErr(std::string_view err) {
  err = common::trimLws(err);
  if (!err.empty() && err.find_first_not_of("0123456789") == std::string_view::npos) {
    size_t nz = err.find_first_not_of('0');
    return nz == std::string_view::npos ? std::string("0") : std::string(err.substr(nz));
  }
  return upper(err);
}

bool isStatToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!common::isAlpha(c) && !common::isDigit(c) && c != '_') return false;
  }
  return true;
}

// Splits off the first word (up to white space) of `s`, which is left after the spaces.
std::string_view nextWord(std::string_view& s) {
  s = common::trimLws(s);
  size_t end = 0;
  while (end < s.size() && !common::isWsp(s[end])) ++end;
  std::string_view w = s.substr(0, end);
  s = common::trimLws(s.substr(end));
  return w;
}

common::Unexpected lineError(size_t line, const std::string& why) {
  return common::makeError(common::ErrorCode::kInvalidArgument,
                           "line " + std::to_string(line) + ": " + why);
}

}  // namespace

std::string twilioErrorName(int64_t code) {
  switch (code) {
    case 30001:
      return "Queue overflow";
    case 30002:
      return "Account suspended";
    case 30003:
      return "Unreachable destination handset";
    case 30004:
      return "Message blocked";
    case 30005:
      return "Unknown destination handset";
    case 30006:
      return "Landline or unreachable carrier";
    case 30007:
      return "Message filtered";
    case 30008:
      return "Unknown error";
    case 30009:
      return "Missing segment";
    case 30010:
      return "Message price exceeds max price";
    default:
      return "";
  }
}

DlrTable DlrTable::defaults() {
  auto t = parse(kDefaultTable);
  assert(t.has_value());  // our own text: the unit tests parse it
  return t ? std::move(*t) : DlrTable();
}

common::Result<DlrTable> DlrTable::parse(std::string_view text) {
  DlrTable table;
  std::map<std::pair<std::string, std::string>, size_t> receipt_lines;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = common::trimLws(line);
    if (line.empty() || line[0] == '#') continue;

    std::string_view rest = line;
    std::string_view kind = nextWord(rest);
    if (common::iequals(kind, "receipt")) {
      std::string_view stat = nextWord(rest);
      std::string_view err = nextWord(rest);
      std::string_view arrow = nextWord(rest);
      if (!isStatToken(stat)) {
        return lineError(line_no, "receipt stat \"" + std::string(stat) + "\" is not a word");
      }
      if (err.empty() || err == "->") return lineError(line_no, "receipt without its err (or *)");
      if (arrow != "->") return lineError(line_no, "expected -> after the receipt's err");
      if (rest.empty()) return lineError(line_no, "receipt without a carrier status");
      std::pair<std::string, std::string> key{upper(stat),
                                              err == "*" ? std::string("*") : normalizeErr(err)};
      if (auto [it, fresh] = receipt_lines.emplace(key, line_no); !fresh) {
        return lineError(line_no, "receipt " + key.first + " " + std::string(err) +
                                      " already given on line " + std::to_string(it->second));
      }
      table.receipts_[key] = std::string(rest);
    } else if (common::iequals(kind, "carrier")) {
      if (rest.empty() || rest[0] != '"') {
        return lineError(line_no, "carrier status must be in double quotes");
      }
      size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) return lineError(line_no, "unterminated quote");
      std::string name(common::trimLws(rest.substr(1, close - 1)));
      if (name.empty()) return lineError(line_no, "empty carrier status");
      rest = rest.substr(close + 1);
      if (nextWord(rest) != "->") {
        return lineError(line_no, "expected -> after the carrier status");
      }
      CarrierRow row;
      std::string_view status = nextWord(rest);
      row.status = common::toLower(status);
      if (row.status != "delivered" && row.status != "sent" && row.status != "undelivered" &&
          row.status != "failed") {
        return lineError(line_no, "unknown status \"" + std::string(status) +
                                      "\" (delivered, sent, undelivered or failed)");
      }
      std::string_view code = nextWord(rest);
      if (code.empty()) return lineError(line_no, "missing error code (or -)");
      if (code != "-") {
        auto n = common::parseUint(code, 999999);
        if (!n)
          return lineError(line_no, "error code \"" + std::string(code) + "\" is not a number");
        row.error_code = int64_t(*n);
      }
      row.text = std::string(rest);
      if (!table.carriers_.emplace(name, std::move(row)).second) {
        return lineError(line_no, "carrier status \"" + name + "\" defined twice");
      }
    } else {
      return lineError(line_no, "unknown rule \"" + std::string(kind) + "\" (receipt or carrier)");
    }
  }
  for (const auto& [key, status] : table.receipts_) {
    if (table.carriers_.count(status) == 0) {
      return lineError(receipt_lines[key], "carrier status \"" + status + "\" has no carrier line");
    }
  }
  return table;
}

DlrOutcome DlrTable::outcome(const std::string& carrier_status, const CarrierRow& row) const {
  DlrOutcome o;
  o.status = row.status;
  o.final = row.status != "sent";
  o.error_code = row.error_code;
  o.carrier_status = carrier_status;
  if (row.error_code && row.status != "delivered" && row.status != "sent") {
    o.level1_message = twilioErrorName(*row.error_code);
    if (o.level1_message.empty()) o.level1_message = "Error " + std::to_string(*row.error_code);
  }
  o.level2_message = row.text;
  return o;
}

std::optional<DlrOutcome> DlrTable::carrierOutcome(std::string_view carrier_status) const {
  auto it = carriers_.find(std::string(carrier_status));
  if (it == carriers_.end()) return std::nullopt;
  return outcome(it->first, it->second);
}

DlrOutcome DlrTable::map(std::string_view stat, std::string_view err) const {
  std::string s = upper(common::trimLws(stat));
  auto it = receipts_.find({s, normalizeErr(err)});
  if (it == receipts_.end()) it = receipts_.find({s, "*"});
  if (it != receipts_.end()) {
    if (auto o = carrierOutcome(it->second)) return *o;
  }
  if (auto o = carrierOutcome(kFallbackStatus)) return *o;
  CarrierRow row{"undelivered", kUnknownErrorCode, std::string(kFallbackText)};
  return outcome(std::string(kFallbackStatus), row);
}

}  // namespace messaging
