// Twilio's 2010-04-01 formats (API_NOTES §3): RFC 2822 dates, money strings, webhook URLs,
// the error body, and the list-page envelope with its paging parameters.
#include "api/twilio_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace api {
namespace {

using nlohmann::json;

TEST(Rfc2822Date, KnownInstants) {
  EXPECT_EQ(rfc2822Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc2822Date(1763805600), "Sat, 22 Nov 2025 10:00:00 +0000");
  EXPECT_EQ(rfc2822Date(1740787199), "Fri, 28 Feb 2025 23:59:59 +0000");
  EXPECT_EQ(rfc2822Date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
  EXPECT_EQ(rfc2822Date(1234567890), "Fri, 13 Feb 2009 23:31:30 +0000");
  EXPECT_EQ(rfc2822Date(4102444800), "Fri, 01 Jan 2100 00:00:00 +0000");
}

TEST(Rfc2822Date, IsTheLibrarysShape) {
  // ddd, DD MMM YYYY HH:mm:ss [+0000]: 31 characters, fixed positions.
  for (int64_t t : {int64_t(0), int64_t(86399), int64_t(1735689599), int64_t(1763805600)}) {
    std::string d = rfc2822Date(t);
    ASSERT_EQ(d.size(), 31u) << d;
    EXPECT_EQ(d.substr(3, 2), ", ") << d;
    EXPECT_EQ(d[7], ' ');
    EXPECT_EQ(d[11], ' ');
    EXPECT_EQ(d[16], ' ');
    EXPECT_EQ(d.substr(25), " +0000");
  }
}

TEST(IsoDate, KnownInstants) {
  EXPECT_EQ(isoDate(0), "1970-01-01");
  EXPECT_EQ(isoDate(1763805600), "2025-11-22");
  EXPECT_EQ(isoDate(1735689599), "2024-12-31");
  EXPECT_EQ(isoDate(1735689600), "2025-01-01");
  EXPECT_EQ(isoDate(951782400), "2000-02-29");
}

TEST(ParseIsoDateTime, AcceptedForms) {
  auto dt = parseIsoDateTime("2025-01-02T03:04:05Z");
  ASSERT_TRUE(dt) << dt.error().reason;
  EXPECT_EQ(*dt, 1735787045);
  auto d = parseIsoDateTime("2025-01-02");
  ASSERT_TRUE(d) << d.error().reason;
  EXPECT_EQ(*d, 1735776000);
  EXPECT_EQ(*parseIsoDateTime("1970-01-01"), 0);
  EXPECT_EQ(*parseIsoDateTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parseIsoDateTime("2024-02-29"), 1709164800);  // leap year
  EXPECT_EQ(*parseIsoDateTime("2025-11-22T10:00:00Z"), 1763805600);
  EXPECT_EQ(*parseIsoDateTime("2024-12-31T23:59:59Z"), 1735689599);
  // Round trip with isoDate.
  EXPECT_EQ(isoDate(*parseIsoDateTime("2031-07-15")), "2031-07-15");
}

TEST(ParseIsoDateTime, RejectedForms) {
  for (std::string_view bad : {
           "",
           "2025",
           "2025-01",
           "2025-1-02",
           "2025-01-2",
           "25-01-02",
           "2025/01/02",
           "2025-00-10",
           "2025-13-01",
           "2025-01-00",
           "2025-01-32",
           "2025-02-29",  // not a leap year
           "2025-02-30",
           "2025-04-31",
           "2024-02-30",
           "2025-01-02T03:04:05",  // no Z
           "2025-01-02T03:04:05+00:00",
           "2025-01-02 03:04:05Z",
           "2025-01-02T3:04:05Z",
           "2025-01-02T24:00:00Z",
           "2025-01-02T23:60:00Z",
           "2025-01-02T03:04Z",
           "2025-01-02T03:04:05.000Z",
           "2025-01-02T03:04:05z",
           "2025-01-02x",
           " 2025-01-02",
           "2025-01-02 ",
           "+025-01-02",
           "2025-0a-02",
       }) {
    auto r = parseIsoDateTime(bad);
    EXPECT_FALSE(r) << "'" << bad << "' parsed to " << (r ? *r : 0);
    if (!r) {
      EXPECT_EQ(r.error().code, common::ErrorCode::kInvalidArgument);
    }
  }
}

TEST(FormatMillicents, DecimalStrings) {
  EXPECT_EQ(formatMillicents(0), "0.00");
  EXPECT_EQ(formatMillicents(1234500), "12.345");
  EXPECT_EQ(formatMillicents(-750), "-0.0075");
  EXPECT_EQ(formatMillicents(5), "0.00005");
  EXPECT_EQ(formatMillicents(100000), "1.00");
  EXPECT_EQ(formatMillicents(1234000), "12.34");
  EXPECT_EQ(formatMillicents(1230000), "12.30");
  EXPECT_EQ(formatMillicents(99999), "0.99999");
  EXPECT_EQ(formatMillicents(-100000), "-1.00");
  EXPECT_EQ(formatMillicents(-1), "-0.00001");
  EXPECT_EQ(formatMillicents(std::numeric_limits<int64_t>::max()), "92233720368547.75807");
  EXPECT_EQ(formatMillicents(std::numeric_limits<int64_t>::min()), "-92233720368547.75808");
}

TEST(IsWebhookUrl, AcceptsHttpAndHttpsWithAHost) {
  for (std::string_view ok :
       {"http://example.com", "https://example.com/voice?x=1&y=%20", "HTTPS://Example.com/a",
        "http://127.0.0.1:8080/hook", "https://[::1]:8443/x", "https://example.com/p#frag"}) {
    EXPECT_TRUE(isWebhookUrl(ok)) << ok;
  }
  std::string longest = "https://example.com/" + std::string(2048 - 20, 'a');
  ASSERT_EQ(longest.size(), 2048u);
  EXPECT_TRUE(isWebhookUrl(longest));
}

TEST(IsWebhookUrl, RejectsTheRest) {
  for (std::string_view bad :
       {"", "example.com", "ftp://example.com", "javascript:alert(1)", "http://", "https://",
        "http:///path", "https://:443/x", "http://exa mple.com", "http://example.com/a b",
        "http://example.com/\n", "http://example.com/\t", "http://example.com/\x7F", "mailto:a@b.c",
        "//example.com",
        // Credentials in a webhook URL are refused (parseWebhookUrl).
        "https://user:pw@example.com/x", "https://user@example.com/"}) {
    EXPECT_FALSE(isWebhookUrl(bad)) << "'" << bad << "'";
  }
  std::string too_long = "https://example.com/" + std::string(2049 - 20, 'a');
  EXPECT_FALSE(isWebhookUrl(too_long));
}

TEST(ErrorReply, BodyHasExactlyTheFourTwilioKeys) {
  HttpReply r = errorReply(404, 20404, "The requested resource /x was not found");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  json body = json::parse(r.body);
  ASSERT_TRUE(body.is_object());
  std::set<std::string> keys;
  for (const auto& [k, v] : body.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"code", "message", "more_info", "status"}));
  EXPECT_EQ(body["code"], 20404);
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["message"], "The requested resource /x was not found");
  EXPECT_EQ(body["more_info"], "https://www.twilio.com/docs/errors/20404");
  // RFC 9457 would turn the client's RestException into another type.
  EXPECT_FALSE(body.contains("type"));
  EXPECT_FALSE(body.contains("title"));
}

TEST(ErrorReply, FromApiErrorAndEscaping) {
  HttpReply r = errorReply(ApiError{400, 21211, "The 'To' number \"abc\"\n is not valid"});
  EXPECT_EQ(r.status, 400);
  json body = json::parse(r.body);
  EXPECT_EQ(body["code"], 21211);
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["message"], "The 'To' number \"abc\"\n is not valid");
  EXPECT_EQ(body["more_info"], "https://www.twilio.com/docs/errors/21211");
}

common::Result<PageRequest> paging(const FormParams& q, ApiError* err,
                                   const std::vector<std::string_view>& filters = {
                                       "PhoneNumber", "FriendlyName"}) {
  return parsePaging(q, filters, err);
}

TEST(ParsePaging, Defaults) {
  ApiError err;
  auto p = paging({}, &err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page, 0);
  EXPECT_EQ(p->page_size, 50);
  EXPECT_EQ(p->offset(), 0);
  EXPECT_TRUE(p->filters.empty());
}

TEST(ParsePaging, PageAndPageSize) {
  ApiError err;
  auto p = paging({{"PageSize", "20"}, {"Page", "2"}}, &err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page, 2);
  EXPECT_EQ(p->page_size, 20);
  EXPECT_EQ(p->offset(), 40);
  auto max = paging({{"PageSize", "1000"}}, &err);
  ASSERT_TRUE(max);
  EXPECT_EQ(max->page_size, 1000);
  auto one = paging({{"PageSize", "1"}, {"Page", "0"}}, &err);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->page_size, 1);
  EXPECT_EQ(one->page, 0);
}

TEST(ParsePaging, RejectsOutOfRangeValues) {
  for (const FormParams& q :
       {FormParams{{"PageSize", "0"}}, FormParams{{"PageSize", "1001"}},
        FormParams{{"PageSize", "-1"}}, FormParams{{"PageSize", ""}},
        FormParams{{"PageSize", "ten"}}, FormParams{{"Page", "-1"}}, FormParams{{"Page", "1.5"}},
        FormParams{{"Page", "99999999999999999999"}}}) {
    ApiError err;
    auto p = paging(q, &err);
    EXPECT_FALSE(p) << q[0].first << "=" << q[0].second;
    EXPECT_EQ(err.status, 400);
    EXPECT_EQ(err.code, 20001);
    EXPECT_NE(err.message.find(q[0].first), std::string::npos) << err.message;
  }
}

TEST(ParsePaging, RejectsUnknownParametersAndPageToken) {
  ApiError err;
  auto p = paging({{"PageSize", "5"}, {"Colour", "red"}}, &err);
  ASSERT_FALSE(p);
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.message.find("Colour"), std::string::npos) << err.message;
  ApiError err2;
  EXPECT_FALSE(paging({{"PageToken", "PA123"}}, &err2));
  EXPECT_EQ(err2.status, 400);
  // Filter names are case-sensitive, like Twilio's.
  ApiError err3;
  EXPECT_FALSE(paging({{"phonenumber", "+1"}}, &err3));
  // A resource without filters takes none.
  ApiError err4;
  EXPECT_FALSE(paging({{"PhoneNumber", "+1"}}, &err4, {}));
}

TEST(ParsePaging, KeepsFiltersInOrder) {
  ApiError err;
  auto p =
      paging({{"FriendlyName", "Main line"}, {"PageSize", "3"}, {"PhoneNumber", "+1555"}}, &err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->filters, (FormParams{{"FriendlyName", "Main line"}, {"PhoneNumber", "+1555"}}));
  EXPECT_EQ(p->page_size, 3);
}

constexpr std::string_view kPath =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

json page(const PageRequest& p, size_t count, bool has_more) {
  JsonWriter w;
  writePage(w, kPath, "messages", p, count, has_more, [&](JsonWriter& items) {
    for (size_t i = 0; i < count; ++i) {
      items.beginObject();
      items.key("n").integer(int64_t(p.offset() + int64_t(i)));
      items.endObject();
    }
  });
  return json::parse(w.take());
}

// The library finds the records as the one key that is not a meta key.
void expectOnlyRecordsKey(const json& j, const std::string& records_key) {
  static const std::set<std::string> kMeta = {
      "end",       "first_page_uri",    "last_page_uri", "next_page_uri", "num_pages", "page",
      "page_size", "previous_page_uri", "start",         "total",         "uri"};
  std::vector<std::string> others;
  for (const auto& [k, v] : j.items())
    if (!kMeta.count(k)) others.push_back(k);
  EXPECT_EQ(others, std::vector<std::string>{records_key});
  EXPECT_FALSE(j.contains("meta"));
}

TEST(WritePage, FirstPageWithMore) {
  PageRequest p;
  p.page_size = 2;
  json j = page(p, 2, true);
  const std::string base(kPath);
  ASSERT_TRUE(j["messages"].is_array());
  EXPECT_EQ(j["messages"].size(), 2u);
  EXPECT_EQ(j["messages"][1]["n"], 1);
  EXPECT_EQ(j["uri"], base + "?PageSize=2&Page=0");
  EXPECT_EQ(j["first_page_uri"], base + "?PageSize=2&Page=0");
  EXPECT_TRUE(j["previous_page_uri"].is_null());
  EXPECT_EQ(j["next_page_uri"], base + "?PageSize=2&Page=1");
  EXPECT_EQ(j["page"], 0);
  EXPECT_EQ(j["page_size"], 2);
  EXPECT_EQ(j["start"], 0);
  EXPECT_EQ(j["end"], 1);
  expectOnlyRecordsKey(j, "messages");
}

TEST(WritePage, LastPageHasNoNext) {
  PageRequest p;
  p.page = 2;
  p.page_size = 2;
  json j = page(p, 1, false);
  const std::string base(kPath);
  EXPECT_EQ(j["messages"].size(), 1u);
  EXPECT_EQ(j["messages"][0]["n"], 4);
  EXPECT_EQ(j["uri"], base + "?PageSize=2&Page=2");
  EXPECT_EQ(j["first_page_uri"], base + "?PageSize=2&Page=0");
  EXPECT_EQ(j["previous_page_uri"], base + "?PageSize=2&Page=1");
  ASSERT_TRUE(j.contains("next_page_uri"));
  EXPECT_TRUE(j["next_page_uri"].is_null());
  EXPECT_EQ(j["page"], 2);
  EXPECT_EQ(j["start"], 4);
  EXPECT_EQ(j["end"], 4);
  expectOnlyRecordsKey(j, "messages");
}

TEST(WritePage, EmptyListIsAnEmptyArray) {
  PageRequest p;
  json j = page(p, 0, false);
  ASSERT_TRUE(j["messages"].is_array());
  EXPECT_TRUE(j["messages"].empty());
  EXPECT_TRUE(j["next_page_uri"].is_null());
  EXPECT_TRUE(j["previous_page_uri"].is_null());
  EXPECT_EQ(j["page_size"], 50);
  EXPECT_EQ(j["start"], 0);
  expectOnlyRecordsKey(j, "messages");
}

TEST(WritePage, FiltersAreCarriedEncodedIntoEveryPageUri) {
  ApiError err;
  auto p = parsePaging({{"To", "+1555 0100"},
                        {"DateSent>", "2025-01-02T03:04:05Z"},
                        {"PageSize", "1"},
                        {"Page", "1"}},
                       {"To", "DateSent>"}, &err);
  ASSERT_TRUE(p) << err.message;
  json j = page(*p, 1, true);
  const std::string query = "?To=%2B1555%200100&DateSent%3E=2025-01-02T03%3A04%3A05Z&PageSize=1";
  const std::string base(kPath);
  EXPECT_EQ(j["uri"], base + query + "&Page=1");
  EXPECT_EQ(j["first_page_uri"], base + query + "&Page=0");
  EXPECT_EQ(j["previous_page_uri"], base + query + "&Page=0");
  EXPECT_EQ(j["next_page_uri"], base + query + "&Page=2");
  EXPECT_EQ(j["start"], 1);
  EXPECT_EQ(j["end"], 1);
}

TEST(JsonWriter, NestingAndEscaping) {
  JsonWriter w;
  w.beginObject();
  w.key("a").beginArray().integer(1).boolean(true).null().string("x").endArray();
  w.key("o").beginObject().endObject();
  w.key("s").string(std::string("q\"b\\c\n\x01", 7));
  w.key("n").stringOrNull("");
  w.key("m").optionalString(std::nullopt);
  w.key("p").optionalString(std::string("v"));
  w.key("e").beginArray().endArray();
  w.endObject();
  json j = json::parse(w.take());
  EXPECT_EQ(j["a"], json::parse(R"([1,true,null,"x"])"));
  EXPECT_TRUE(j["o"].is_object() && j["o"].empty());
  EXPECT_EQ(j["s"], std::string("q\"b\\c\n\x01", 7));
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_TRUE(j["m"].is_null());
  EXPECT_EQ(j["p"], "v");
  EXPECT_TRUE(j["e"].is_array() && j["e"].empty());
}

}  // namespace
}  // namespace api
