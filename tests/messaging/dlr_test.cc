#include "messaging/dlr.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using messaging::DlrOutcome;
using messaging::DlrTable;

const std::string kDescriptionUnavailable =
    "Failed \xE2\x80\x93 possible reasons: subscriber out of service area; device off for an "
    "extended period; spam reject (open a ticket with support for detail)";
const std::string kMessageRejected =
    "Failed \xE2\x80\x93 possible reasons: subscriber out of service area; device off for an "
    "extended period; spam reject";
const std::string kEsmeReject =
    "Failed \xE2\x80\x93 possible reasons: a prepaid user out of money; a subscriber "
    "provisioned not to receive this type of SMS; SMS sent to an IoT device; rejected by the "
    "carrier's spam analysis";

struct Row {
  const char* carrier;
  const char* status;
  std::optional<int64_t> code;
  std::string customer;
};

// The table of issue 6, item 6, with the status and code the default table gives each row.
const std::vector<Row>& issueRows() {
  static const std::vector<Row> rows = {
      {"Destination Address is not text enabled", "undelivered", 30006,
       "Failed - Destination Number not SMS enabled"},
      {"Spam Reject", "undelivered", 30007, "Failed - Content Flagged as SPAM"},
      {"Message accepted by Carrier", "sent", std::nullopt, "Delivered Successfully"},
      {"Delivered to handset", "delivered", std::nullopt, "Delivered Successfully"},
      {"Route Denied", "undelivered", 30006,
       "Failed - Delivery Not Available to Destination Carrier"},
      {"Source Not Authorized", "failed", 30004, "Source Number Not SMS Enabled"},
      {"Temporary Resolution Failure", "undelivered", 30003,
       "Failed - Message was Dropped After Reattempts"},
      {"ESME Receiver reject message error", "undelivered", 30004, kEsmeReject},
      {"Description Unavailable", "undelivered", 30008, kDescriptionUnavailable},
      {"Message rejected", "undelivered", 30003, kMessageRejected},
  };
  return rows;
}

TEST(DlrTable, DefaultsCoverEveryRowOfTheIssue) {
  DlrTable t = DlrTable::defaults();
  EXPECT_EQ(t.carrierRules(), 11u);  // the issue's ten and "Unknown subscriber"
  for (const Row& r : issueRows()) {
    SCOPED_TRACE(r.carrier);
    auto o = t.carrierOutcome(r.carrier);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->carrier_status, r.carrier);
    EXPECT_EQ(o->status, r.status);
    EXPECT_EQ(o->error_code, r.code);
    EXPECT_EQ(o->level2_message, r.customer);
    EXPECT_EQ(o->final, std::string(r.status) != "sent");
  }
  EXPECT_FALSE(t.carrierOutcome("No such status").has_value());
}

struct Case {
  const char* stat;
  const char* err;
  const char* carrier;
  const char* status;
  std::optional<int64_t> code;
  const char* level1;
};

TEST(DlrTable, DefaultReceiptRows) {
  const std::vector<Case> cases = {
      {"DELIVRD", "000", "Delivered to handset", "delivered", std::nullopt, ""},
      {"DELIVRD", "", "Delivered to handset", "delivered", std::nullopt, ""},
      {"ACCEPTD", "000", "Message accepted by Carrier", "sent", std::nullopt, ""},
      {"ENROUTE", "000", "Message accepted by Carrier", "sent", std::nullopt, ""},
      {"EXPIRED", "000", "Temporary Resolution Failure", "undelivered", 30003,
       "Unreachable destination handset"},
      {"DELETED", "000", "Message rejected", "undelivered", 30003,
       "Unreachable destination handset"},
      {"REJECTD", "000", "Message rejected", "undelivered", 30003,
       "Unreachable destination handset"},
      {"UNDELIV", "000", "Description Unavailable", "undelivered", 30008, "Unknown error"},
      {"UNKNOWN", "000", "Description Unavailable", "undelivered", 30008, "Unknown error"},
      {"UNDELIV", "001", "Unknown subscriber", "undelivered", 30005, "Unknown destination handset"},
      {"UNDELIV", "005", "Unknown subscriber", "undelivered", 30005, "Unknown destination handset"},
      {"UNDELIV", "006", "Message rejected", "undelivered", 30003,
       "Unreachable destination handset"},
      {"UNDELIV", "027", "Message rejected", "undelivered", 30003,
       "Unreachable destination handset"},
      {"UNDELIV", "011", "Destination Address is not text enabled", "undelivered", 30006,
       "Landline or unreachable carrier"},
      {"UNDELIV", "013", "ESME Receiver reject message error", "undelivered", 30004,
       "Message blocked"},
      {"UNDELIV", "021", "Route Denied", "undelivered", 30006, "Landline or unreachable carrier"},
      {"UNDELIV", "034", "Temporary Resolution Failure", "undelivered", 30003,
       "Unreachable destination handset"},
      {"REJECTD", "010", "Source Not Authorized", "failed", 30004, "Message blocked"},
      {"REJECTD", "011", "Destination Address is not text enabled", "undelivered", 30006,
       "Landline or unreachable carrier"},
      {"REJECTD", "045", "Spam Reject", "undelivered", 30007, "Message filtered"},
      {"REJECTD", "102", "ESME Receiver reject message error", "undelivered", 30004,
       "Message blocked"},
  };
  DlrTable t = DlrTable::defaults();
  EXPECT_EQ(t.receiptRules(), 20u);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.stat) + " " + c.err);
    DlrOutcome o = t.map(c.stat, c.err);
    EXPECT_EQ(o.carrier_status, c.carrier);
    EXPECT_EQ(o.status, c.status);
    EXPECT_EQ(o.error_code, c.code);
    EXPECT_EQ(o.level1_message, c.level1);
    EXPECT_EQ(o.final, std::string(c.status) != "sent");
    EXPECT_FALSE(o.level2_message.empty());
  }
}

TEST(DlrTable, ErrWildcardAndNormalisation) {
  DlrTable t = DlrTable::defaults();
  // Any other err falls to the STAT * line.
  EXPECT_EQ(t.map("UNDELIV", "999").carrier_status, "Description Unavailable");
  EXPECT_EQ(t.map("REJECTD", "046").carrier_status, "Message rejected");
  EXPECT_EQ(t.map("REJECTD", "abc").carrier_status, "Message rejected");
  // Decimal errs compare as numbers; stat in any case, white space around ignored.
  EXPECT_EQ(t.map("REJECTD", "45").carrier_status, "Spam Reject");
  EXPECT_EQ(t.map("rejectd", "0045").carrier_status, "Spam Reject");
  EXPECT_EQ(t.map(" Rejectd ", " 045 ").carrier_status, "Spam Reject");
  EXPECT_EQ(t.map("undeliv", "13").carrier_status, "ESME Receiver reject message error");
}

TEST(DlrTable, UnknownStatIsDescriptionUnavailable) {
  DlrTable t = DlrTable::defaults();
  for (const char* stat : {"", "FOOBAR", "DELIVERED", "ENROUTE2"}) {
    DlrOutcome o = t.map(stat, "000");
    EXPECT_EQ(o.carrier_status, "Description Unavailable") << stat;
    EXPECT_EQ(o.status, "undelivered");
    EXPECT_EQ(o.error_code, std::optional<int64_t>(30008));
    EXPECT_EQ(o.level1_message, "Unknown error");
    EXPECT_EQ(o.level2_message, kDescriptionUnavailable);
    EXPECT_TRUE(o.final);
  }
}

TEST(DlrTable, ExampleFileIsTheDefaultTable) {
  std::ifstream in(std::string(SB_SOURCE_DIR) + "/config/dlr_table.example", std::ios::binary);
  ASSERT_TRUE(in.good());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto t = DlrTable::parse(text);
  ASSERT_TRUE(t.has_value()) << t.error().reason;
  EXPECT_TRUE(*t == DlrTable::defaults());
  EXPECT_EQ(t->receiptRules(), 20u);
  EXPECT_EQ(t->carrierRules(), 11u);
}

TEST(DlrTable, CustomTable) {
  auto t = DlrTable::parse(
      "# a carrier that reports everything as ACCEPTD first\r\n"
      "\n"
      "carrier \"Handset has it\" -> DELIVERED -  Delivered Successfully\r\n"
      "carrier \"Nope\" -> undelivered 30003\n"
      "carrier \"Odd\" -> failed 12345 Something else\n"
      "receipt acceptd * -> Handset has it\n"
      "receipt UNDELIV 7 -> Nope\n"
      "receipt UNDELIV x9 -> Odd\n");
  ASSERT_TRUE(t.has_value()) << t.error().reason;
  DlrOutcome ok = t->map("ACCEPTD", "");
  EXPECT_EQ(ok.status, "delivered");
  EXPECT_TRUE(ok.final);
  EXPECT_EQ(ok.level2_message, "Delivered Successfully");
  EXPECT_EQ(ok.level1_message, "");
  DlrOutcome nope = t->map("UNDELIV", "007");
  EXPECT_EQ(nope.carrier_status, "Nope");
  EXPECT_EQ(nope.level2_message, "");
  EXPECT_EQ(nope.level1_message, "Unreachable destination handset");
  DlrOutcome odd = t->map("undeliv", "X9");
  EXPECT_EQ(odd.error_code, std::optional<int64_t>(12345));
  EXPECT_EQ(odd.level1_message, "Error 12345");
  // No "Description Unavailable" row in this table: the built-in one answers.
  DlrOutcome fallback = t->map("UNDELIV", "8");
  EXPECT_EQ(fallback.carrier_status, "Description Unavailable");
  EXPECT_EQ(fallback.status, "undelivered");
  EXPECT_EQ(fallback.error_code, std::optional<int64_t>(30008));
  EXPECT_EQ(fallback.level2_message, kDescriptionUnavailable);
  // An empty table is valid and answers the same.
  auto empty = DlrTable::parse("# nothing\n");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->map("DELIVRD", "000"), fallback);
}

TEST(DlrTable, ParseErrorsNameTheLine) {
  struct Bad {
    const char* text;
    const char* line;
    const char* what;
  };
  const std::vector<Bad> bad = {
      {"carrier \"A\" -> delivered - ok\nsender X -> A\n", "line 2:", "unknown rule"},
      {"carrier \"A\" -> sent2 - ok\n", "line 1:", "unknown status"},
      {"\n\ncarrier \"A\" -> failed 30x ok\n", "line 3:", "not a number"},
      {"carrier \"A\" -> failed\n", "line 1:", "missing error code"},
      {"carrier \"A\" delivered - ok\n", "line 1:", "expected ->"},
      {"carrier A -> delivered - ok\n", "line 1:", "double quotes"},
      {"carrier \"A -> delivered - ok\n", "line 1:", "unterminated"},
      {"carrier \"\" -> delivered - ok\n", "line 1:", "empty carrier status"},
      {"carrier \"A\" -> delivered - ok\ncarrier \"A\" -> failed - no\n", "line 2:", "twice"},
      {"carrier \"A\" -> delivered - ok\nreceipt DELIVRD * A\n", "line 2:", "expected ->"},
      {"carrier \"A\" -> delivered - ok\nreceipt DELIVRD ->\n", "line 2:", "err"},
      {"carrier \"A\" -> delivered - ok\nreceipt DELIVRD * ->\n", "line 2:", "carrier status"},
      {"carrier \"A\" -> delivered - ok\nreceipt DEL-IVRD * -> A\n", "line 2:", "not a word"},
      {"carrier \"A\" -> delivered - ok\nreceipt X 01 -> A\nreceipt x 1 -> A\n",
       "line 3:", "already given on line 2"},
      {"# c\ncarrier \"A\" -> delivered - ok\n\nreceipt X * -> B\n", "line 4:", "no carrier line"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.text);
    auto t = DlrTable::parse(b.text);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, common::ErrorCode::kInvalidArgument);
    EXPECT_EQ(t.error().reason.rfind(b.line, 0), 0u) << t.error().reason;
    EXPECT_NE(t.error().reason.find(b.what), std::string::npos) << t.error().reason;
  }
}

TEST(DlrTable, TwilioErrorNames) {
  EXPECT_EQ(messaging::twilioErrorName(30003), "Unreachable destination handset");
  EXPECT_EQ(messaging::twilioErrorName(30005), "Unknown destination handset");
  EXPECT_EQ(messaging::twilioErrorName(30006), "Landline or unreachable carrier");
  EXPECT_EQ(messaging::twilioErrorName(30007), "Message filtered");
  EXPECT_EQ(messaging::twilioErrorName(30008), "Unknown error");
  EXPECT_EQ(messaging::twilioErrorName(21610), "");
}

}  // namespace
