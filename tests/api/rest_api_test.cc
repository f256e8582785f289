// The REST API as Twilio's client meets it (API_NOTES §2-3), driven through
// RestApi::handle with a real store on a fresh SQLite file: authentication, the account
// scope (subaccounts, other accounts), roles, the resources and the audit log.
#include "api/rest_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/form.h"
#include "api/provisioning.h"
#include "api/secrets.h"
#include "api/twilio_format.h"
#include "common/ids.h"
#include "common/strings.h"
#include "messaging/service.h"
#include "store/store.h"
#include "store_fixture.h"

namespace api {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1763805600;  // Sat, 22 Nov 2025 10:00:00 +0000
constexpr std::string_view kNowRfc = "Sat, 22 Nov 2025 10:00:00 +0000";
constexpr std::string_view kForm = "application/x-www-form-urlencoded";
constexpr std::string_view kPeer = "127.0.0.1";

// The IncomingPhoneNumber fields the official library reads (API_NOTES §3).
const std::vector<std::string> kNumberFields = {"sid",
                                                "account_sid",
                                                "phone_number",
                                                "friendly_name",
                                                "voice_url",
                                                "voice_method",
                                                "voice_fallback_url",
                                                "voice_fallback_method",
                                                "voice_caller_id_lookup",
                                                "voice_application_sid",
                                                "voice_receive_mode",
                                                "sms_url",
                                                "sms_method",
                                                "sms_fallback_url",
                                                "sms_fallback_method",
                                                "sms_application_sid",
                                                "status_callback",
                                                "status_callback_method",
                                                "capabilities",
                                                "date_created",
                                                "date_updated",
                                                "api_version",
                                                "beta",
                                                "origin",
                                                "status",
                                                "type",
                                                "trunk_sid",
                                                "address_sid",
                                                "address_requirements",
                                                "identity_sid",
                                                "bundle_sid",
                                                "emergency_status",
                                                "emergency_address_sid",
                                                "emergency_address_status",
                                                "uri",
                                                "subresource_uris"};

const std::vector<std::string> kAccountFields = {
    "sid",        "friendly_name", "status",       "type", "owner_account_sid",
    "auth_token", "date_created",  "date_updated", "uri",  "subresource_uris"};

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64Encode(std::string(user) + ":" + std::string(password));
}

std::string accountPath(std::string_view sid) {
  return "/2010-04-01/Accounts/" + std::string(sid);
}

std::string numbersPath(std::string_view sid) {
  return accountPath(sid) + "/IncomingPhoneNumbers.json";
}

std::string numberPath(std::string_view account, std::string_view pn) {
  return accountPath(account) + "/IncomingPhoneNumbers/" + std::string(pn) + ".json";
}

bool isSidOf(const json& v, std::string_view prefix) {
  if (!v.is_string()) return false;
  std::string s = v.get<std::string>();
  if (s.size() != 34 || s.substr(0, 2) != prefix) return false;
  for (char c : s.substr(2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

const std::string* header(const HttpReply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (common::iequals(k, name)) return &v;
  return nullptr;
}

// A reply with its body parsed (null when empty or not JSON).
struct Reply {
  HttpReply raw;
  json body;
  int status() const { return raw.status; }
};

class RestApiTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    RestApi::Options o;
    o.now = [this] { return now_.load(); };
    rest_ = std::make_unique<RestApi>(*store_, *key_, o);
  }
  void TearDown() override {
    rest_.reset();
    StoreFixture::TearDown();
  }

  NewAccount account(std::string_view name = "Acme") {
    auto a = provisioning_->createAccount(name, std::nullopt, now_);
    EXPECT_TRUE(a) << a.error().reason;
    return *a;
  }
  static std::string ownerAuth(const NewAccount& a) { return basic(a.account.sid, a.auth_token); }
  std::string userKeyAuth(const NewAccount& a, std::string_view email, std::string_view role,
                          std::string* key_sid = nullptr) {
    auto made = provisioning_->createUser(a.account.sid, email, role, now_);
    EXPECT_TRUE(made) << made.error().reason;
    if (!made) return "";
    if (key_sid) *key_sid = made->second.key.sid;
    return basic(made->second.key.sid, made->second.secret);
  }

  Reply call(std::string method, std::string target, std::string authorization,
             std::string body = "", std::string content_type = std::string(kForm),
             std::string peer = std::string(kPeer)) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.authorization = std::move(authorization);
    req.body = std::move(body);
    req.content_type = std::move(content_type);
    req.peer = std::move(peer);
    Reply r{rest_->handle(req), nullptr};
    if (!r.raw.body.empty()) {
      r.body = json::parse(r.raw.body, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(r.body.is_discarded()) << "not JSON: " << r.raw.body;
    }
    return r;
  }
  Reply get(const std::string& target, const std::string& auth) {
    return call("GET", target, auth, "", "");
  }
  Reply post(const std::string& target, const std::string& auth, const FormParams& form) {
    return call("POST", target, auth, encodeForm(form));
  }
  Reply del(const std::string& target, const std::string& auth) {
    return call("DELETE", target, auth, "", "");
  }

  // Creates a number and returns its JSON (a failed test when it is not a 201).
  json createNumber(const std::string& account_sid, const std::string& auth,
                    const std::string& number, FormParams extra = {}) {
    extra.insert(extra.begin(), {"PhoneNumber", number});
    Reply r = post(numbersPath(account_sid), auth, extra);
    EXPECT_EQ(r.status(), 201) << r.raw.body;
    return r.body;
  }

  // The records of every page of a list, following next_page_uri from `first`.
  std::vector<json> pages(std::string first, const std::string& auth) {
    std::vector<json> out;
    std::string target = std::move(first);
    for (int guard = 0; guard < 100; ++guard) {
      Reply r = get(target, auth);
      EXPECT_EQ(r.status(), 200) << target << ": " << r.raw.body;
      if (r.status() != 200) break;
      out.push_back(r.body);
      const json& next = r.body["next_page_uri"];
      if (next.is_null() || (next.is_string() && next.get<std::string>().empty())) break;
      target = next.get<std::string>();
    }
    return out;
  }

  // Expects Twilio's error body with this HTTP status and code.
  static void expectError(const Reply& r, int status, int code) {
    EXPECT_EQ(r.status(), status) << r.raw.body;
    ASSERT_TRUE(r.body.is_object()) << r.raw.body;
    EXPECT_EQ(r.body.value("code", 0), code) << r.raw.body;
    EXPECT_EQ(r.body.value("status", 0), status) << r.raw.body;
    EXPECT_TRUE(r.body.contains("message"));
    EXPECT_EQ(r.body.value("more_info", ""),
              "https://www.twilio.com/docs/errors/" + std::to_string(code));
  }

  std::unique_ptr<RestApi> rest_;
  std::atomic<int64_t> now_{kNow};
};

// --- Accounts and authentication ---------------------------------------------------------

TEST_F(RestApiTest, OwnerFetchesItsAccount) {
  NewAccount a = account("Acme Corp");
  Reply r = get(accountPath(a.account.sid) + ".json", ownerAuth(a));
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  EXPECT_EQ(r.raw.content_type, "application/json; charset=utf-8");
  for (const auto& f : kAccountFields) EXPECT_TRUE(r.body.contains(f)) << f;
  EXPECT_EQ(r.body["sid"], a.account.sid);
  EXPECT_EQ(r.body["friendly_name"], "Acme Corp");
  EXPECT_EQ(r.body["status"], "active");
  EXPECT_EQ(r.body["owner_account_sid"], a.account.sid);
  EXPECT_EQ(r.body["auth_token"], a.auth_token);  // the owner sees the token
  EXPECT_EQ(r.body["date_created"], kNowRfc);
  EXPECT_EQ(r.body["date_updated"], kNowRfc);
  EXPECT_EQ(r.body["uri"], accountPath(a.account.sid) + ".json");
  EXPECT_EQ(r.body["subresource_uris"]["incoming_phone_numbers"], numbersPath(a.account.sid));
  EXPECT_EQ(r.body["subresource_uris"]["balance"], accountPath(a.account.sid) + "/Balance.json");
}

TEST_F(RestApiTest, WrongCredentialsAre401WithChallenge) {
  NewAccount a = account();
  std::string wrong = a.auth_token;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  for (const std::string& auth :
       {basic(a.account.sid, wrong), basic(a.account.sid, ""),
        basic("AC" + std::string(32, '1'), a.auth_token), basic("user", "pass"),
        basic("SK" + std::string(32, '2'), a.auth_token)}) {
    Reply r = get(numbersPath(a.account.sid), auth);
    expectError(r, 401, 20003);
    ASSERT_NE(header(r.raw, "WWW-Authenticate"), nullptr);
    EXPECT_EQ(header(r.raw, "WWW-Authenticate")->rfind("Basic", 0), 0u);
  }
}

TEST_F(RestApiTest, NoAuthorizationIs401) {
  NewAccount a = account();
  for (const std::string& auth : {std::string(), std::string("Bearer abc"), std::string("Basic"),
                                  std::string("Basic %%%%")}) {
    Reply r = get(accountPath(a.account.sid) + ".json", auth);
    expectError(r, 401, 20003);
    EXPECT_NE(header(r.raw, "WWW-Authenticate"), nullptr);
  }
}

TEST_F(RestApiTest, RepeatedFailuresFromOneAddressAreSlowedDown) {
  NewAccount a = account();
  const std::string bad = basic(a.account.sid, "nope");
  for (int i = 0; i < 5; ++i) {
    Reply r = call("GET", numbersPath(a.account.sid), bad, "", "", "198.51.100.7");
    EXPECT_EQ(r.status(), 401);
    EXPECT_EQ(r.raw.delay, 0ms) << i;
  }
  Reply slowed = call("GET", numbersPath(a.account.sid), bad, "", "", "198.51.100.7");
  EXPECT_EQ(slowed.status(), 401);
  EXPECT_EQ(slowed.raw.delay, 250ms);
  // The right credentials from another address are answered at once.
  Reply ok = call("GET", numbersPath(a.account.sid), ownerAuth(a), "", "", "198.51.100.8");
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.raw.delay, 0ms);
  EXPECT_EQ(rest_->stats().auth_failures, 6u);
}

TEST_F(RestApiTest, AccountUpdateChangesNameAndDate) {
  NewAccount a = account();
  now_ = kNow + 60;
  Reply r = post(accountPath(a.account.sid) + ".json", ownerAuth(a), {{"FriendlyName", "Renamed"}});
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  EXPECT_EQ(r.body["friendly_name"], "Renamed");
  EXPECT_EQ(r.body["date_created"], kNowRfc);
  EXPECT_EQ(r.body["date_updated"], rfc2822Date(kNow + 60));
  Reply again = get(accountPath(a.account.sid) + ".json", ownerAuth(a));
  EXPECT_EQ(again.body["friendly_name"], "Renamed");
  // An account does not suspend itself.
  Reply self = post(accountPath(a.account.sid) + ".json", ownerAuth(a), {{"Status", "suspended"}});
  expectError(self, 403, 20403);
  Reply bad = post(accountPath(a.account.sid) + ".json", ownerAuth(a), {{"Colour", "red"}});
  expectError(bad, 400, 20001);
}

// --- IncomingPhoneNumbers ----------------------------------------------------------------

TEST_F(RestApiTest, CreateNumberHasEveryFieldAndEchoesUrls) {
  NewAccount a = account();
  Reply r = post(numbersPath(a.account.sid), ownerAuth(a),
                 {{"SmsUrl", "https://example.com/sms?x=1&y=2"},
                  {"VoiceUrl", "https://example.com/voice"},
                  {"PhoneNumber", "+15551230001"},
                  {"VoiceMethod", "get"},
                  {"StatusCallback", "http://hooks.example.com:9000/status"}});
  ASSERT_EQ(r.status(), 201) << r.raw.body;
  EXPECT_EQ(r.raw.content_type, "application/json; charset=utf-8");
  const json& n = r.body;
  for (const auto& f : kNumberFields) EXPECT_TRUE(n.contains(f)) << "missing " << f;
  EXPECT_TRUE(isSidOf(n["sid"], "PN")) << n["sid"];
  EXPECT_EQ(n["account_sid"], a.account.sid);
  EXPECT_EQ(n["phone_number"], "+15551230001");
  EXPECT_EQ(n["friendly_name"], "+15551230001");  // defaults to the number
  EXPECT_EQ(n["voice_url"], "https://example.com/voice");
  EXPECT_EQ(n["voice_method"], "GET");
  EXPECT_EQ(n["sms_url"], "https://example.com/sms?x=1&y=2");
  EXPECT_EQ(n["sms_method"], "POST");
  EXPECT_EQ(n["status_callback"], "http://hooks.example.com:9000/status");
  EXPECT_EQ(n["capabilities"]["voice"], true);
  EXPECT_EQ(n["capabilities"]["sms"], true);
  EXPECT_TRUE(n["capabilities"].contains("mms"));
  EXPECT_TRUE(n["capabilities"].contains("fax"));
  EXPECT_EQ(n["date_created"], kNowRfc);
  EXPECT_EQ(n["date_updated"], kNowRfc);
  EXPECT_EQ(n["api_version"], "2010-04-01");
  EXPECT_EQ(n["uri"], numberPath(a.account.sid, n["sid"].get<std::string>()));
  EXPECT_TRUE(n["subresource_uris"].is_object());
  EXPECT_EQ(rest_->stats().requests, 1u);
}

// Every webhook URL field refuses a local, private or metadata host (issue 23, finding 2);
// webhooks.allow (Options::webhook_targets) admits its ranges.
TEST_F(RestApiTest, WebhookUrlsToLocalAddressesAreRefusedUnlessAllowed) {
  NewAccount a = account();
  Reply made = post(numbersPath(a.account.sid), ownerAuth(a), {{"PhoneNumber", "+15551230002"}});
  ASSERT_EQ(made.status(), 201) << made.raw.body;
  const std::string path = numberPath(a.account.sid, made.body["sid"].get<std::string>());
  for (const char* field :
       {"VoiceUrl", "VoiceFallbackUrl", "SmsUrl", "SmsFallbackUrl", "StatusCallback"}) {
    for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://localhost:6379/",
                            "http://[::1]:8080/admin", "http://2130706433/",
                            "http://metadata.google.internal/computeMetadata/v1/"}) {
      Reply r = post(path, ownerAuth(a), {{field, url}});
      expectError(r, 400, 21205);
      const std::string message = r.body.value("message", "");
      EXPECT_NE(message.find(field), std::string::npos) << message;
      EXPECT_NE(message.find("webhooks.allow"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(post(path, ownerAuth(a), {{"VoiceUrl", "https://hooks.example.com/voice"}}).status(),
            200);

  rest_.reset();
  RestApi::Options o;
  o.now = [this] { return now_.load(); };
  o.webhook_targets = *WebhookTargetPolicy::create({"127.0.0.0/8"});
  rest_ = std::make_unique<RestApi>(*store_, *key_, o);
  Reply allowed = post(path, ownerAuth(a), {{"VoiceUrl", "http://localhost:8080/voice"}});
  ASSERT_EQ(allowed.status(), 200) << allowed.raw.body;
  EXPECT_EQ(allowed.body["voice_url"], "http://localhost:8080/voice");
  EXPECT_EQ(post(path, ownerAuth(a), {{"VoiceUrl", "http://127.0.0.1:22/"}}).status(), 200);
  expectError(post(path, ownerAuth(a), {{"VoiceUrl", "http://[::1]:8080/"}}), 400, 21205);
  expectError(post(path, ownerAuth(a), {{"VoiceUrl", "http://metadata/"}}), 400, 21205);
}

TEST_F(RestApiTest, FormWithPlusForSpaceAndUtf8) {
  NewAccount a = account();
  // As other clients send it: '+' for a space, UTF-8 escaped; charset in the Content-Type.
  Reply r = call("POST", numbersPath(a.account.sid), ownerAuth(a),
                 "PhoneNumber=%2B15551230002&FriendlyName=Caf%C3%A9+line",
                 std::string(kForm) + "; charset=UTF-8");
  ASSERT_EQ(r.status(), 201) << r.raw.body;
  EXPECT_EQ(r.body["friendly_name"], "Caf\xC3\xA9 line");
  EXPECT_EQ(r.body["phone_number"], "+15551230002");
}

TEST_F(RestApiTest, ListFollowsNextPageUriAcrossPages) {
  NewAccount a = account();
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) {
    json n = createNumber(a.account.sid, ownerAuth(a), "+1555123100" + std::to_string(i));
    created.insert(n["sid"].get<std::string>());
  }
  ASSERT_EQ(created.size(), 7u);
  std::vector<json> got = pages(numbersPath(a.account.sid) + "?PageSize=3", ownerAuth(a));
  ASSERT_EQ(got.size(), 3u);
  std::multiset<std::string> seen;
  for (size_t p = 0; p < got.size(); ++p) {
    const json& page = got[p];
    EXPECT_EQ(page["page"], p);
    EXPECT_EQ(page["page_size"], 3);
    EXPECT_EQ(page["start"], 3 * p);
    EXPECT_EQ(page["uri"], numbersPath(a.account.sid) + "?PageSize=3&Page=" + std::to_string(p));
    EXPECT_EQ(page["first_page_uri"], numbersPath(a.account.sid) + "?PageSize=3&Page=0");
    if (p == 0) {
      EXPECT_TRUE(page["previous_page_uri"].is_null());
    } else {
      EXPECT_EQ(page["previous_page_uri"],
                numbersPath(a.account.sid) + "?PageSize=3&Page=" + std::to_string(p - 1));
    }
    const json& records = page["incoming_phone_numbers"];
    ASSERT_TRUE(records.is_array());
    EXPECT_EQ(records.size(), p < 2 ? 3u : 1u);
    EXPECT_EQ(page["end"], 3 * p + records.size() - 1);
    for (const json& n : records) seen.insert(n["sid"].get<std::string>());
    // The records are the only non-meta key.
    for (const auto& [k, v] : page.items()) {
      static const std::set<std::string> kMeta = {
          "end",       "first_page_uri",    "last_page_uri", "next_page_uri", "num_pages", "page",
          "page_size", "previous_page_uri", "start",         "total",         "uri"};
      if (!kMeta.count(k)) {
        EXPECT_EQ(k, "incoming_phone_numbers");
      }
    }
  }
  EXPECT_TRUE(got.back()["next_page_uri"].is_null());
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
  for (const auto& sid : created) EXPECT_EQ(seen.count(sid), 1u) << sid;
}

TEST_F(RestApiTest, ListDefaultsAndFilters) {
  NewAccount a = account();
  createNumber(a.account.sid, ownerAuth(a), "+15551232001", {{"FriendlyName", "Sales"}});
  createNumber(a.account.sid, ownerAuth(a), "+15551232002", {{"FriendlyName", "Support"}});
  Reply all = get(numbersPath(a.account.sid), ownerAuth(a));
  ASSERT_EQ(all.status(), 200) << all.raw.body;
  EXPECT_EQ(all.body["page"], 0);
  EXPECT_EQ(all.body["page_size"], 50);
  EXPECT_EQ(all.body["incoming_phone_numbers"].size(), 2u);
  EXPECT_TRUE(all.body["next_page_uri"].is_null());

  Reply by_number = get(numbersPath(a.account.sid) + "?PhoneNumber=%2B15551232002", ownerAuth(a));
  ASSERT_EQ(by_number.status(), 200);
  ASSERT_EQ(by_number.body["incoming_phone_numbers"].size(), 1u);
  EXPECT_EQ(by_number.body["incoming_phone_numbers"][0]["friendly_name"], "Support");
  EXPECT_EQ(by_number.body["uri"],
            numbersPath(a.account.sid) + "?PhoneNumber=%2B15551232002&PageSize=50&Page=0");

  Reply by_name = get(numbersPath(a.account.sid) + "?FriendlyName=Sales", ownerAuth(a));
  ASSERT_EQ(by_name.body["incoming_phone_numbers"].size(), 1u);
  EXPECT_EQ(by_name.body["incoming_phone_numbers"][0]["phone_number"], "+15551232001");

  expectError(get(numbersPath(a.account.sid) + "?PageSize=0", ownerAuth(a)), 400, 20001);
  expectError(get(numbersPath(a.account.sid) + "?PageSize=1001", ownerAuth(a)), 400, 20001);
  expectError(get(numbersPath(a.account.sid) + "?Beta=true&Colour=red", ownerAuth(a)), 400, 20001);
}

TEST_F(RestApiTest, FetchUpdateDeleteNumber) {
  NewAccount a = account();
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551233001",
                        {{"VoiceUrl", "https://example.com/v1"}});
  const std::string sid = n["sid"].get<std::string>();
  const std::string path = numberPath(a.account.sid, sid);

  Reply fetched = get(path, ownerAuth(a));
  ASSERT_EQ(fetched.status(), 200) << fetched.raw.body;
  EXPECT_EQ(fetched.body, n);

  now_ = kNow + 3600;
  Reply updated = post(path, ownerAuth(a),
                       {{"VoiceUrl", "https://example.com/v2"},
                        {"FriendlyName", "Front desk"},
                        {"SmsMethod", "GET"}});
  ASSERT_EQ(updated.status(), 200) << updated.raw.body;
  EXPECT_EQ(updated.body["sid"], sid);
  EXPECT_EQ(updated.body["voice_url"], "https://example.com/v2");
  EXPECT_EQ(updated.body["friendly_name"], "Front desk");
  EXPECT_EQ(updated.body["sms_method"], "GET");
  EXPECT_EQ(updated.body["phone_number"], "+15551233001");
  EXPECT_EQ(updated.body["date_created"], kNowRfc);
  EXPECT_EQ(updated.body["date_updated"], rfc2822Date(kNow + 3600));
  Reply refetched = get(path, ownerAuth(a));
  EXPECT_EQ(refetched.body, updated.body);  // stored, not only echoed

  Reply gone = del(path, ownerAuth(a));
  EXPECT_EQ(gone.status(), 204);
  EXPECT_TRUE(gone.raw.body.empty());
  expectError(get(path, ownerAuth(a)), 404, 20404);
  expectError(del(path, ownerAuth(a)), 404, 20404);
  expectError(post(path, ownerAuth(a), {{"FriendlyName", "x"}}), 404, 20404);
  Reply list = get(numbersPath(a.account.sid), ownerAuth(a));
  EXPECT_TRUE(list.body["incoming_phone_numbers"].empty());
}

TEST_F(RestApiTest, InvalidPhoneNumberIs21421) {
  NewAccount a = account();
  for (const char* bad : {"5551234567", "+", "+0123456", "+1555abc4567", "", "+1234567890123456",
                          "+1 555 123 4567"}) {
    Reply r = post(numbersPath(a.account.sid), ownerAuth(a), {{"PhoneNumber", bad}});
    expectError(r, 400, 21421);
  }
  expectError(post(numbersPath(a.account.sid), ownerAuth(a), {{"FriendlyName", "no number"}}), 400,
              21421);
  Reply list = get(numbersPath(a.account.sid), ownerAuth(a));
  EXPECT_TRUE(list.body["incoming_phone_numbers"].empty());
}

TEST_F(RestApiTest, DuplicateNumberIs21422EvenInAnotherAccount) {
  NewAccount a = account(), b = account("Other");
  createNumber(a.account.sid, ownerAuth(a), "+15551234001");
  expectError(post(numbersPath(a.account.sid), ownerAuth(a), {{"PhoneNumber", "+15551234001"}}),
              400, 21422);
  expectError(post(numbersPath(b.account.sid), ownerAuth(b), {{"PhoneNumber", "+15551234001"}}),
              400, 21422);
}

TEST_F(RestApiTest, UnknownParameterIs400) {
  NewAccount a = account();
  Reply r = post(numbersPath(a.account.sid), ownerAuth(a),
                 {{"PhoneNumber", "+15551235001"}, {"Colour", "red"}});
  expectError(r, 400, 20001);
  EXPECT_NE(r.body.value("message", "").find("Colour"), std::string::npos);
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551235002");
  const std::string path = numberPath(a.account.sid, n["sid"].get<std::string>());
  expectError(post(path, ownerAuth(a), {{"PhoneNumber", "+15551235003"}}), 400, 20001);
  expectError(get(path + "?Colour=red", ownerAuth(a)), 400, 20001);
  // Nothing was created by the refused request.
  Reply list = get(numbersPath(a.account.sid), ownerAuth(a));
  EXPECT_EQ(list.body["incoming_phone_numbers"].size(), 1u);
}

TEST_F(RestApiTest, MalformedFormIs400) {
  NewAccount a = account();
  for (std::string body : {"PhoneNumber=%2B1555123600%", "PhoneNumber=%2", "Phone%Number=1",
                           "PhoneNumber=%2B15551236001&FriendlyName=%FF"}) {
    Reply r = call("POST", numbersPath(a.account.sid), ownerAuth(a), body);
    expectError(r, 400, 20001);
  }
  expectError(get(numbersPath(a.account.sid) + "?PageSize=%3", ownerAuth(a)), 400, 20001);
}

TEST_F(RestApiTest, BadUrlIs21205) {
  NewAccount a = account();
  for (const char* field : {"VoiceUrl", "SmsUrl", "VoiceFallbackUrl", "StatusCallback"}) {
    for (const char* url : {"ftp://example.com/x", "example.com/voice", "http://", "https://a b"}) {
      Reply r = post(numbersPath(a.account.sid), ownerAuth(a),
                     {{"PhoneNumber", "+15551237001"}, {field, url}});
      expectError(r, 400, 21205);
    }
  }
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551237001",
                        {{"VoiceUrl", "https://example.com/ok"}});
  const std::string path = numberPath(a.account.sid, n["sid"].get<std::string>());
  expectError(post(path, ownerAuth(a), {{"VoiceUrl", "javascript:alert(1)"}}), 400, 21205);
  EXPECT_EQ(get(path, ownerAuth(a)).body["voice_url"], "https://example.com/ok");
  expectError(post(path, ownerAuth(a), {{"VoiceMethod", "PUT"}}), 400, 20001);
}

TEST_F(RestApiTest, FriendlyNameLimit) {
  NewAccount a = account();
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551237101",
                        {{"FriendlyName", std::string(64, 'n')}});
  EXPECT_EQ(n["friendly_name"], std::string(64, 'n'));
  expectError(post(numbersPath(a.account.sid), ownerAuth(a),
                   {{"PhoneNumber", "+15551237102"}, {"FriendlyName", std::string(65, 'n')}}),
              400, 20001);
}

TEST_F(RestApiTest, SqlShapedNameIsStoredVerbatim) {
  NewAccount a = account();
  const std::string evil = "x'); DROP TABLE phone_numbers;--";
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551238001", {{"FriendlyName", evil}});
  EXPECT_EQ(n["friendly_name"], evil);
  const std::string path = numberPath(a.account.sid, n["sid"].get<std::string>());
  Reply fetched = get(path, ownerAuth(a));
  ASSERT_EQ(fetched.status(), 200);
  EXPECT_EQ(fetched.body["friendly_name"], evil);
  // As a filter too, and the table is still there.
  Reply filtered = get(
      numbersPath(a.account.sid) + "?FriendlyName=" +
          [&] {
            std::string q;
            appendPercentEncoded(q, evil);
            return q;
          }(),
      ownerAuth(a));
  ASSERT_EQ(filtered.status(), 200) << filtered.raw.body;
  ASSERT_EQ(filtered.body["incoming_phone_numbers"].size(), 1u);
  EXPECT_EQ(filtered.body["incoming_phone_numbers"][0]["friendly_name"], evil);
  createNumber(a.account.sid, ownerAuth(a), "+15551238002");
  auto count = store_->phoneNumbers().count(a.account.sid, {});
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2);
}

TEST_F(RestApiTest, NonFormContentTypeIs415) {
  NewAccount a = account();
  for (std::string type :
       {"application/json", "text/plain", "multipart/form-data; boundary=x", ""}) {
    Reply r = call("POST", numbersPath(a.account.sid), ownerAuth(a),
                   R"({"PhoneNumber":"+15551239001"})", type);
    EXPECT_EQ(r.status(), 415) << "'" << type << "': " << r.raw.body;
    EXPECT_EQ(r.body.value("status", 0), 415);
  }
  Reply list = get(numbersPath(a.account.sid), ownerAuth(a));
  EXPECT_TRUE(list.body["incoming_phone_numbers"].empty());
}

TEST_F(RestApiTest, OtherMethodsAndPaths) {
  NewAccount a = account();
  Reply put = call("PUT", numbersPath(a.account.sid), ownerAuth(a), "PhoneNumber=%2B1555");
  EXPECT_EQ(put.status(), 405);
  ASSERT_NE(header(put.raw, "Allow"), nullptr);
  Reply del_list = del(numbersPath(a.account.sid), ownerAuth(a));
  EXPECT_EQ(del_list.status(), 405);
  expectError(get("/2010-04-01/Accounts/" + a.account.sid + "/Nothing.json", ownerAuth(a)), 404,
              20404);
  expectError(get("/2010-04-01/Nothing.json", ownerAuth(a)), 404, 20404);
  expectError(get("/2099-01-01/Accounts.json", ownerAuth(a)), 404, 20404);
  expectError(get(numberPath(a.account.sid, "PNnot-a-sid"), ownerAuth(a)), 404, 20404);
  expectError(get(numberPath(a.account.sid, "PN" + std::string(32, '0')), ownerAuth(a)), 404,
              20404);
  expectError(get(accountPath(a.account.sid) + "/", ownerAuth(a)), 404, 20404);
}

// --- Scope: other accounts and subaccounts -------------------------------------------------

TEST_F(RestApiTest, AnotherAccountsNumberIs404NotForbidden) {
  NewAccount a = account("A"), b = account("B");
  json theirs = createNumber(b.account.sid, ownerAuth(b), "+15551240001",
                             {{"VoiceUrl", "https://b.example.com/v"}});
  const std::string their_sid = theirs["sid"].get<std::string>();
  // B's number under A's path, with A's credentials.
  expectError(get(numberPath(a.account.sid, their_sid), ownerAuth(a)), 404, 20404);
  expectError(post(numberPath(a.account.sid, their_sid), ownerAuth(a),
                   {{"VoiceUrl", "https://a.example.com/steal"}}),
              404, 20404);
  expectError(del(numberPath(a.account.sid, their_sid), ownerAuth(a)), 404, 20404);
  // B's account in the path, with A's credentials: not 403, which would confirm it exists.
  expectError(get(numbersPath(b.account.sid), ownerAuth(a)), 404, 20404);
  expectError(get(numberPath(b.account.sid, their_sid), ownerAuth(a)), 404, 20404);
  expectError(get(accountPath(b.account.sid) + ".json", ownerAuth(a)), 404, 20404);
  expectError(post(numbersPath(b.account.sid), ownerAuth(a), {{"PhoneNumber", "+15551240002"}}),
              404, 20404);
  expectError(get(accountPath(b.account.sid) + "/Balance.json", ownerAuth(a)), 404, 20404);
  // B's number is untouched.
  Reply still = get(numberPath(b.account.sid, their_sid), ownerAuth(b));
  ASSERT_EQ(still.status(), 200);
  EXPECT_EQ(still.body["voice_url"], "https://b.example.com/v");
  // A's own list does not show it.
  EXPECT_TRUE(get(numbersPath(a.account.sid), ownerAuth(a)).body["incoming_phone_numbers"].empty());
}

TEST_F(RestApiTest, SubaccountScope) {
  NewAccount parent = account("Parent");
  Reply made = post("/2010-04-01/Accounts.json", ownerAuth(parent), {{"FriendlyName", "Sub one"}});
  ASSERT_EQ(made.status(), 201) << made.raw.body;
  for (const auto& f : kAccountFields) EXPECT_TRUE(made.body.contains(f)) << f;
  EXPECT_TRUE(isSidOf(made.body["sid"], "AC"));
  EXPECT_EQ(made.body["friendly_name"], "Sub one");
  EXPECT_EQ(made.body["owner_account_sid"], parent.account.sid);
  EXPECT_EQ(made.body["status"], "active");
  ASSERT_TRUE(made.body["auth_token"].is_string());
  const std::string sub_sid = made.body["sid"].get<std::string>();
  const std::string sub_auth = basic(sub_sid, made.body["auth_token"].get<std::string>());

  // The parent's credentials reach the subaccount's numbers.
  json n = createNumber(sub_sid, ownerAuth(parent), "+15551250001");
  EXPECT_EQ(n["account_sid"], sub_sid);
  Reply listed = get(numbersPath(sub_sid), ownerAuth(parent));
  ASSERT_EQ(listed.status(), 200);
  ASSERT_EQ(listed.body["incoming_phone_numbers"].size(), 1u);
  Reply fetched = get(numberPath(sub_sid, n["sid"].get<std::string>()), ownerAuth(parent));
  EXPECT_EQ(fetched.status(), 200);
  // The subaccount reaches its own numbers ...
  Reply own = get(numbersPath(sub_sid), sub_auth);
  ASSERT_EQ(own.status(), 200) << own.raw.body;
  EXPECT_EQ(own.body["incoming_phone_numbers"].size(), 1u);
  // ... but not its parent's.
  createNumber(parent.account.sid, ownerAuth(parent), "+15551250002");
  expectError(get(numbersPath(parent.account.sid), sub_auth), 404, 20404);
  expectError(get(accountPath(parent.account.sid) + ".json", sub_auth), 404, 20404);
  expectError(post(numbersPath(parent.account.sid), sub_auth, {{"PhoneNumber", "+15551250003"}}),
              404, 20404);
  // A subaccount neither makes subaccounts nor changes its own status.
  expectError(post("/2010-04-01/Accounts.json", sub_auth, {{"FriendlyName", "grandchild"}}), 403,
              20403);
  expectError(post(accountPath(sub_sid) + ".json", sub_auth, {{"Status", "active"}}), 403, 20403);

  // The family list: the parent sees both, the subaccount itself alone.
  Reply family = get("/2010-04-01/Accounts.json", ownerAuth(parent));
  ASSERT_EQ(family.status(), 200) << family.raw.body;
  std::set<std::string> sids;
  for (const json& acc : family.body["accounts"]) sids.insert(acc["sid"].get<std::string>());
  EXPECT_EQ(sids, (std::set<std::string>{parent.account.sid, sub_sid}));
  Reply sub_family = get("/2010-04-01/Accounts.json", sub_auth);
  ASSERT_EQ(sub_family.body["accounts"].size(), 1u);
  EXPECT_EQ(sub_family.body["accounts"][0]["sid"], sub_sid);

  // Suspending it (by the parent) locks its own credentials out at once.
  Reply suspended =
      post(accountPath(sub_sid) + ".json", ownerAuth(parent), {{"Status", "suspended"}});
  ASSERT_EQ(suspended.status(), 200) << suspended.raw.body;
  EXPECT_EQ(suspended.body["status"], "suspended");
  expectError(get(numbersPath(sub_sid), sub_auth), 401, 20005);
  expectError(get(accountPath(sub_sid) + ".json", sub_auth), 401, 20005);
  // The parent still manages it, and reactivating lets it back in.
  Reply parent_view = get(accountPath(sub_sid) + ".json", ownerAuth(parent));
  EXPECT_EQ(parent_view.body["status"], "suspended");
  ASSERT_EQ(
      post(accountPath(sub_sid) + ".json", ownerAuth(parent), {{"Status", "active"}}).status(),
      200);
  EXPECT_EQ(get(numbersPath(sub_sid), sub_auth).status(), 200);
  expectError(post(accountPath(sub_sid) + ".json", ownerAuth(parent), {{"Status", "frozen"}}), 400,
              20001);
  // Closed is final: the closed account is only read (issue 23, finding 5).
  ASSERT_EQ(
      post(accountPath(sub_sid) + ".json", ownerAuth(parent), {{"Status", "closed"}}).status(),
      200);
  expectError(post(accountPath(sub_sid) + ".json", ownerAuth(parent), {{"Status", "active"}}), 403,
              20005);
}

// Issue 23, finding 5: a parent reaches its suspended or closed subaccounts, but only to read
// them and to change a suspended one's status; every other request is 403 with code 20005.
TEST_F(RestApiTest, InactiveSubaccountIsReadOnlyThroughItsParent) {
  NewAccount parent = account("Parent");
  const std::string owner = ownerAuth(parent);
  const std::string admin = userKeyAuth(parent, "admin@example.com", "admin");
  for (const char* status : {"suspended", "closed"}) {
    SCOPED_TRACE(status);
    auto sub = provisioning_->createAccount(status, parent.account.sid, now_);
    ASSERT_TRUE(sub);
    const std::string sid = sub->account.sid;
    const std::string base = accountPath(sid);
    const std::string number = std::string("+1555127000") + (status[0] == 's' ? "1" : "2");
    json n = createNumber(sid, owner, number);
    std::string dev_sk;
    userKeyAuth(*sub, std::string("dev-") + status + "@example.com", "developer", &dev_sk);
    ASSERT_EQ(post(base + ".json", owner, {{"Status", status}}).status(), 200);

    const std::string number_path = numberPath(sid, n["sid"].get<std::string>());
    struct Write {
      std::string what, method, path;
      FormParams form;
    };
    const std::vector<Write> writes = {
        {"add a number", "POST", numbersPath(sid), {{"PhoneNumber", "+15551279999"}}},
        {"update a number", "POST", number_path, {{"FriendlyName", "x"}}},
        {"delete a number", "DELETE", number_path, {}},
        {"send a message",
         "POST",
         base + "/Messages.json",
         {{"From", number}, {"To", "+15551230000"}, {"Body", "hi"}}},
        {"create a key", "POST", base + "/Keys.json", {{"FriendlyName", "k"}}},
        {"delete a key", "DELETE", base + "/Keys/" + dev_sk + ".json", {}},
        {"create a user",
         "POST",
         base + "/Users.json",
         {{"Email", "n@example.com"}, {"Role", "admin"}}},
        {"create a SIP credential list",
         "POST",
         base + "/SIP/CredentialLists.json",
         {{"FriendlyName", "l"}}},
        {"create a SIP domain",
         "POST",
         base + "/SIP/Domains.json",
         {{"DomainName", std::string(status) + ".sip.example.com"}}},
        {"create a call",
         "POST",
         base + "/Calls.json",
         {{"From", number}, {"To", "+15551230000"}, {"Url", "https://example.com/v"}}},
        {"rename it", "POST", base + ".json", {{"FriendlyName", "renamed"}}},
        {"rename it with a status",
         "POST",
         base + ".json",
         {{"Status", "active"}, {"FriendlyName", "renamed"}}},
    };
    for (const std::string& auth : {owner, admin}) {
      for (const Write& w : writes) {
        Reply r = call(w.method, w.path, auth, w.method == "POST" ? encodeForm(w.form) : "");
        EXPECT_EQ(r.status(), 403) << w.what << ": " << r.raw.body;
        expectError(r, 403, 20005);
        EXPECT_NE(r.body.value("message", "").find(status), std::string::npos) << r.raw.body;
      }
    }
    // Nothing changed, and every read works.
    Reply numbers = get(numbersPath(sid), owner);
    ASSERT_EQ(numbers.status(), 200) << numbers.raw.body;
    ASSERT_EQ(numbers.body["incoming_phone_numbers"].size(), 1u);
    EXPECT_EQ(numbers.body["incoming_phone_numbers"][0]["friendly_name"], number);
    EXPECT_EQ(get(number_path, admin).status(), 200);
    EXPECT_EQ(get(base + ".json", owner).body["friendly_name"], status);
    EXPECT_EQ(get(base + "/Keys.json", owner).body["keys"].size(), 1u);
    EXPECT_EQ(get(base + "/Users.json", owner).body["users"].size(), 1u);
    EXPECT_EQ(get(base + "/Messages.json", owner).status(), 200);
    EXPECT_EQ(get(base + "/Balance.json", owner).status(), 200);
    EXPECT_EQ(get(base + "/SIP/CredentialLists.json", owner).status(), 200);
    EXPECT_EQ(get(base + "/AuditEvents.json", owner).status(), 200);
  }
  // The parent re-activates a suspended one (closed: see SubaccountScope), and writes work again.
  auto sub = provisioning_->createAccount("again", parent.account.sid, now_);
  ASSERT_TRUE(sub);
  const std::string base = accountPath(sub->account.sid);
  ASSERT_EQ(post(base + ".json", owner, {{"Status", "suspended"}}).status(), 200);
  expectError(post(numbersPath(sub->account.sid), owner, {{"PhoneNumber", "+15551271000"}}), 403,
              20005);
  Reply closed = post(base + ".json", admin, {{"Status", "closed"}});  // suspended -> closed
  ASSERT_EQ(closed.status(), 200) << closed.raw.body;
  expectError(post(base + ".json", owner, {{"Status", "suspended"}}), 403, 20005);
  auto other = provisioning_->createAccount("other", parent.account.sid, now_);
  ASSERT_TRUE(other);
  const std::string other_base = accountPath(other->account.sid);
  ASSERT_EQ(post(other_base + ".json", owner, {{"Status", "suspended"}}).status(), 200);
  Reply back = post(other_base + ".json", owner, {{"Status", "active"}});
  ASSERT_EQ(back.status(), 200) << back.raw.body;
  EXPECT_EQ(back.body["status"], "active");
  EXPECT_EQ(
      post(numbersPath(other->account.sid), owner, {{"PhoneNumber", "+15551271001"}}).status(),
      201);
}

TEST_F(RestApiTest, SubaccountOfASuspendedParentIsLockedOut) {
  NewAccount parent = account("Parent");
  auto sub = provisioning_->createAccount("Sub", parent.account.sid, now_);
  ASSERT_TRUE(sub);
  const std::string sub_auth = basic(sub->account.sid, sub->auth_token);
  ASSERT_EQ(get(numbersPath(sub->account.sid), sub_auth).status(), 200);
  store::AccountUpdate u;
  u.status = "suspended";
  u.updated_at = now_;
  ASSERT_TRUE(store_->accounts().update(parent.account.sid, u));
  // Another node's change: seen within the cache's lifetime. A fresh RestApi has no cache.
  rest_.reset();
  RestApi::Options o;
  o.now = [this] { return now_.load(); };
  rest_ = std::make_unique<RestApi>(*store_, *key_, o);
  expectError(get(numbersPath(sub->account.sid), sub_auth), 401, 20005);
  expectError(get(numbersPath(parent.account.sid), ownerAuth(parent)), 401, 20005);
}

// --- Users, keys and roles -----------------------------------------------------------------

TEST_F(RestApiTest, ReadOnlyUserKeyReadsButCannotWrite) {
  NewAccount a = account();
  json n = createNumber(a.account.sid, ownerAuth(a), "+15551260001");
  Reply made = post(accountPath(a.account.sid) + "/Users.json", ownerAuth(a),
                    {{"Email", "viewer@example.com"}, {"Role", "read-only"}});
  ASSERT_EQ(made.status(), 201) << made.raw.body;
  EXPECT_TRUE(isSidOf(made.body["user"]["sid"], "US"));
  EXPECT_EQ(made.body["user"]["role"], "read-only");
  EXPECT_EQ(made.body["user"]["email"], "viewer@example.com");
  EXPECT_TRUE(isSidOf(made.body["key"]["sid"], "SK"));
  EXPECT_EQ(made.body["key"]["role"], "read-only");
  EXPECT_EQ(made.body["key"]["user_sid"], made.body["user"]["sid"]);
  ASSERT_TRUE(made.body["key"]["secret"].is_string());
  const std::string ro = basic(made.body["key"]["sid"].get<std::string>(),
                               made.body["key"]["secret"].get<std::string>());

  Reply list = get(numbersPath(a.account.sid), ro);
  ASSERT_EQ(list.status(), 200) << list.raw.body;
  EXPECT_EQ(list.body["incoming_phone_numbers"].size(), 1u);
  const std::string path = numberPath(a.account.sid, n["sid"].get<std::string>());
  EXPECT_EQ(get(path, ro).status(), 200);
  Reply account_view = get(accountPath(a.account.sid) + ".json", ro);
  ASSERT_EQ(account_view.status(), 200);
  EXPECT_TRUE(account_view.body["auth_token"].is_null());  // not for a read-only user

  expectError(post(numbersPath(a.account.sid), ro, {{"PhoneNumber", "+15551260002"}}), 403, 20403);
  expectError(post(path, ro, {{"FriendlyName", "mine now"}}), 403, 20403);
  expectError(del(path, ro), 403, 20403);
  expectError(get(accountPath(a.account.sid) + "/Keys.json", ro), 403, 20403);
  expectError(get(accountPath(a.account.sid) + "/Users.json", ro), 403, 20403);
  expectError(post("/2010-04-01/Accounts.json", ro, {{"FriendlyName", "sub"}}), 403, 20403);
  // Nothing changed.
  EXPECT_EQ(get(path, ownerAuth(a)).body["friendly_name"], "+15551260001");
  EXPECT_EQ(get(numbersPath(a.account.sid), ownerAuth(a)).body["incoming_phone_numbers"].size(),
            1u);
}

// Keys and Users ask for their write permission to create or delete, not their read one.
// No built-in role has one without the other, so a table where read-only also reads keys
// and users (RoleTable, a test seam) tells the two apart.
TEST_F(RestApiTest, ReadingKeysAndUsersDoesNotAllowWritingThem) {
  static const RoleGrant kRoles[] = {
      {"owner", permissionsOf("owner")},
      {"read-only", permissionsOf("read-only") | uint32_t(Permission::kKeysRead) |
                        uint32_t(Permission::kUsersRead)},
  };
  RestApi::Options o;
  o.now = [this] { return now_.load(); };
  o.roles = kRoles;
  rest_ = std::make_unique<RestApi>(*store_, *key_, o);

  NewAccount a = account();
  std::string sk;
  const std::string ro = userKeyAuth(a, "viewer@example.com", "read-only", &sk);
  const std::string keys = accountPath(a.account.sid) + "/Keys.json";
  const std::string users = accountPath(a.account.sid) + "/Users.json";
  const std::string key_path = accountPath(a.account.sid) + "/Keys/" + sk + ".json";
  // Reading is what the table grants.
  Reply listed = get(keys, ro);
  ASSERT_EQ(listed.status(), 200) << listed.raw.body;
  EXPECT_EQ(listed.body["keys"].size(), 1u);
  EXPECT_EQ(get(key_path, ro).status(), 200);
  EXPECT_EQ(get(users, ro).status(), 200);
  // Writing is not.
  Reply made = post(keys, ro, {{"FriendlyName", "mine"}, {"Role", "read-only"}});
  EXPECT_EQ(made.status(), 403) << "keys:read created a key: " << made.raw.body;
  expectError(made, 403, 20403);
  Reply deleted = del(key_path, ro);
  EXPECT_EQ(deleted.status(), 403) << "keys:read deleted a key: " << deleted.raw.body;
  expectError(deleted, 403, 20403);
  Reply user = post(users, ro, {{"Email", "new@example.com"}, {"Role", "read-only"}});
  EXPECT_EQ(user.status(), 403) << "users:read created a user: " << user.raw.body;
  expectError(user, 403, 20403);
  // Nothing changed: one key (the viewer's), one user.
  EXPECT_EQ(get(keys, ownerAuth(a)).body["keys"].size(), 1u);
  EXPECT_EQ(get(users, ownerAuth(a)).body["users"].size(), 1u);
  EXPECT_EQ(get(key_path, ownerAuth(a)).status(), 200);
  // The owner still writes both under this table.
  EXPECT_EQ(post(keys, ownerAuth(a), {{"Role", "read-only"}}).status(), 201);
}

TEST_F(RestApiTest, ReadOnlyKeyFromProvisioningCannotWrite) {
  NewAccount a = account();
  const std::string ro = userKeyAuth(a, "ro@example.com", "read-only");
  EXPECT_EQ(get(numbersPath(a.account.sid), ro).status(), 200);
  expectError(post(numbersPath(a.account.sid), ro, {{"PhoneNumber", "+15551261001"}}), 403, 20403);
}

TEST_F(RestApiTest, DeveloperCannotReadTheAuditLogButTheOwnerCan) {
  NewAccount a = account();
  const std::string dev = userKeyAuth(a, "dev@example.com", "developer");
  const std::string events = accountPath(a.account.sid) + "/AuditEvents.json";
  expectError(get(events, dev), 403, 20403);
  // A developer builds: numbers yes.
  createNumber(a.account.sid, dev, "+15551262001");
  Reply owner = get(events, ownerAuth(a));
  ASSERT_EQ(owner.status(), 200) << owner.raw.body;
  EXPECT_TRUE(owner.body["audit_events"].is_array());
  const std::string admin = userKeyAuth(a, "admin@example.com", "admin");
  expectError(get(events, admin), 403, 20403);
}

TEST_F(RestApiTest, AdminCannotCreateAnOwnerKey) {
  NewAccount a = account();
  const std::string admin = userKeyAuth(a, "admin@example.com", "admin");
  const std::string keys = accountPath(a.account.sid) + "/Keys.json";
  expectError(post(keys, admin, {{"Role", "owner"}, {"FriendlyName", "escalate"}}), 403, 20403);
  expectError(post(accountPath(a.account.sid) + "/Users.json", admin,
                   {{"Email", "boss@example.com"}, {"Role", "owner"}}),
              403, 20403);
  // A role it holds itself is fine, and the new key works with that role.
  Reply dev = post(keys, admin, {{"Role", "developer"}, {"FriendlyName", "ci"}});
  ASSERT_EQ(dev.status(), 201) << dev.raw.body;
  EXPECT_EQ(dev.body["role"], "developer");
  EXPECT_EQ(dev.body["friendly_name"], "ci");
  const std::string ci =
      basic(dev.body["sid"].get<std::string>(), dev.body["secret"].get<std::string>());
  EXPECT_EQ(get(numbersPath(a.account.sid), ci).status(), 200);
  expectError(get(keys, ci), 403, 20403);
  // The owner may make an owner key.
  Reply owner_key = post(keys, ownerAuth(a), {{"Role", "owner"}});
  EXPECT_EQ(owner_key.status(), 201) << owner_key.raw.body;
  // Listing keys shows no secrets.
  Reply listed = get(keys, ownerAuth(a));
  ASSERT_EQ(listed.status(), 200);
  EXPECT_EQ(listed.body["keys"].size(), 3u);  // admin's, ci, owner key
  for (const json& k : listed.body["keys"]) EXPECT_FALSE(k.contains("secret"));
}

TEST_F(RestApiTest, AdminDoesNotSeeTheOwnersAuthToken) {
  // The auth token acts as the owner (audit:read included), which an admin may not hand
  // itself: showing it to an admin would undo "an admin cannot create an owner key".
  NewAccount a = account();
  const std::string admin = userKeyAuth(a, "admin@example.com", "admin");
  Reply r = get(accountPath(a.account.sid) + ".json", admin);
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  EXPECT_TRUE(r.body["auth_token"].is_null()) << "admin was shown the owner's auth token";
}

TEST_F(RestApiTest, DeletedKeyStopsWorking) {
  NewAccount a = account();
  std::string sk;
  const std::string dev = userKeyAuth(a, "dev@example.com", "developer", &sk);
  ASSERT_EQ(get(numbersPath(a.account.sid), dev).status(), 200);
  const std::string key_path = accountPath(a.account.sid) + "/Keys/" + sk + ".json";
  Reply fetched = get(key_path, ownerAuth(a));
  ASSERT_EQ(fetched.status(), 200) << fetched.raw.body;
  EXPECT_EQ(fetched.body["sid"], sk);
  EXPECT_FALSE(fetched.body.contains("secret"));
  Reply gone = del(key_path, ownerAuth(a));
  EXPECT_EQ(gone.status(), 204);
  expectError(get(numbersPath(a.account.sid), dev), 401, 20003);
  expectError(get(key_path, ownerAuth(a)), 404, 20404);
  // Another account's key is not found through this account.
  NewAccount b = account("B");
  std::string b_sk;
  userKeyAuth(b, "x@example.com", "developer", &b_sk);
  expectError(get(accountPath(a.account.sid) + "/Keys/" + b_sk + ".json", ownerAuth(a)), 404,
              20404);
  expectError(del(accountPath(a.account.sid) + "/Keys/" + b_sk + ".json", ownerAuth(a)), 404,
              20404);
}

// Issue 23: keys and users are managed by rank (owner > admin > developer = billing =
// read-only); an admin no longer deletes the owner's keys.
TEST_F(RestApiTest, KeysAreDeletedOnlyAtOrBelowTheCallersRank) {
  NewAccount a = account();
  std::string owner_sk, admin_sk, admin2_sk, dev_sk;
  const std::string owner_key = userKeyAuth(a, "owner@example.com", "owner", &owner_sk);
  const std::string admin = userKeyAuth(a, "admin@example.com", "admin", &admin_sk);
  userKeyAuth(a, "admin2@example.com", "admin", &admin2_sk);
  const std::string dev = userKeyAuth(a, "dev@example.com", "developer", &dev_sk);
  auto keyPath = [&](const std::string& sk) {
    return accountPath(a.account.sid) + "/Keys/" + sk + ".json";
  };
  Reply refused = del(keyPath(owner_sk), admin);
  expectError(refused, 403, 20403);
  EXPECT_NE(refused.body.value("message", "").find("'owner'"), std::string::npos);
  EXPECT_EQ(get(numbersPath(a.account.sid), owner_key).status(), 200);  // still works
  // An owner key made by the account's token, also out of the admin's reach.
  Reply made = post(accountPath(a.account.sid) + "/Keys.json", ownerAuth(a), {{"Role", "owner"}});
  ASSERT_EQ(made.status(), 201);
  expectError(del(keyPath(made.body["sid"].get<std::string>()), admin), 403, 20403);
  // Its own rank and below: yes.
  EXPECT_EQ(del(keyPath(admin2_sk), admin).status(), 204);
  EXPECT_EQ(del(keyPath(dev_sk), admin).status(), 204);
  expectError(get(numbersPath(a.account.sid), dev), 401, 20003);
  // The owner deletes an admin's key, and an owner key (the token is always the owner).
  EXPECT_EQ(del(keyPath(admin_sk), owner_key).status(), 204);
  EXPECT_EQ(del(keyPath(owner_sk), ownerAuth(a)).status(), 204);
  EXPECT_EQ(get(accountPath(a.account.sid) + "/Keys.json", ownerAuth(a)).body["keys"].size(), 1u);
}

TEST_F(RestApiTest, UsersAreFetchedReRoledAndDeletedByRank) {
  NewAccount a = account();
  auto made = [&](std::string_view email, std::string_view role) {
    auto u = provisioning_->createUser(a.account.sid, email, role, now_);
    EXPECT_TRUE(u) << u.error().reason;
    return *u;
  };
  auto owner = made("owner@example.com", "owner");
  auto admin = made("admin@example.com", "admin");
  auto dev = made("dev@example.com", "developer");
  auto auth = [](const std::pair<store::User, NewKey>& u) {
    return basic(u.second.key.sid, u.second.secret);
  };
  auto userPath = [&](const store::User& u) {
    return accountPath(a.account.sid) + "/Users/" + u.sid + ".json";
  };

  Reply fetched = get(userPath(dev.first), auth(admin));
  ASSERT_EQ(fetched.status(), 200) << fetched.raw.body;
  EXPECT_EQ(fetched.body["sid"], dev.first.sid);
  EXPECT_EQ(fetched.body["role"], "developer");
  EXPECT_EQ(fetched.body["email"], "dev@example.com");
  expectError(
      get(accountPath(a.account.sid) + "/Users/US" + std::string(32, '0') + ".json", auth(admin)),
      404, 20404);
  expectError(get(accountPath(a.account.sid) + "/Users/nope.json", auth(admin)), 404, 20404);
  expectError(get(userPath(dev.first), auth(dev)), 403, 20403);  // no users:read

  // Above the admin's rank: refused, whatever is asked.
  expectError(del(userPath(owner.first), auth(admin)), 403, 20403);
  expectError(post(userPath(owner.first), auth(admin), {{"Role", "read-only"}}), 403, 20403);
  // Raising above itself: refused.
  expectError(post(userPath(dev.first), auth(admin), {{"Role", "owner"}}), 403, 20403);
  expectError(post(userPath(dev.first), auth(admin), {{"Role", "root"}}), 400, 20001);
  expectError(post(userPath(dev.first), auth(admin), {{"Role", "admin"}, {"Email", "x@y.z"}}), 400,
              20001);
  EXPECT_EQ(get(userPath(dev.first), ownerAuth(a)).body["role"], "developer");

  // Re-roling reaches the user's key at once.
  EXPECT_EQ(post(numbersPath(a.account.sid), auth(dev), {{"PhoneNumber", "+15551280001"}}).status(),
            201);
  now_ += 60;
  Reply rerole = post(userPath(dev.first), auth(admin), {{"Role", "read-only"}});
  ASSERT_EQ(rerole.status(), 200) << rerole.raw.body;
  EXPECT_EQ(rerole.body["role"], "read-only");
  EXPECT_EQ(rerole.body["date_updated"], rfc2822Date(now_));
  expectError(post(numbersPath(a.account.sid), auth(dev), {{"PhoneNumber", "+15551280002"}}), 403,
              20403);
  Reply key =
      get(accountPath(a.account.sid) + "/Keys/" + dev.second.key.sid + ".json", ownerAuth(a));
  EXPECT_EQ(key.body["role"], "read-only");

  // Deleting a user takes its keys along.
  EXPECT_EQ(del(userPath(dev.first), auth(admin)).status(), 204);
  expectError(get(numbersPath(a.account.sid), auth(dev)), 401, 20003);
  expectError(get(userPath(dev.first), ownerAuth(a)), 404, 20404);
  expectError(del(userPath(dev.first), ownerAuth(a)), 404, 20404);

  // The last owner user stays, even for the account's token; a second owner lets it go.
  Reply last = del(userPath(owner.first), ownerAuth(a));
  expectError(last, 400, 20001);
  EXPECT_NE(last.body.value("message", "").find("last owner"), std::string::npos);
  expectError(post(userPath(owner.first), auth(owner), {{"Role", "admin"}}), 400, 20001);
  EXPECT_EQ(get(numbersPath(a.account.sid), auth(owner)).status(), 200);
  ASSERT_EQ(post(userPath(admin.first), auth(owner), {{"Role", "owner"}}).status(), 200);
  EXPECT_EQ(get(accountPath(a.account.sid) + "/AuditEvents.json", auth(admin)).status(), 200);
  Reply demoted = post(userPath(owner.first), auth(admin), {{"Role", "developer"}});
  ASSERT_EQ(demoted.status(), 200) << demoted.raw.body;
  expectError(get(accountPath(a.account.sid) + "/Users.json", auth(owner)), 403, 20403);
  EXPECT_EQ(del(userPath(owner.first), auth(admin)).status(), 204);
  expectError(del(userPath(admin.first), auth(admin)), 400, 20001);  // now the last owner
  Reply users = get(accountPath(a.account.sid) + "/Users.json", ownerAuth(a));
  ASSERT_EQ(users.body["users"].size(), 1u);
  EXPECT_EQ(users.body["users"][0]["sid"], admin.first.sid);
  expectError(call("PUT", userPath(admin.first), ownerAuth(a)), 405, 20004);
}

// Auth-token rotation, as Twilio's /v1/AuthTokens: owners only, the secondary works beside
// the primary, promotion retires the old primary at once.
TEST_F(RestApiTest, AuthTokenRotation) {
  NewAccount a = account();
  NewAccount b = account("B");
  const std::string admin = userKeyAuth(a, "admin@example.com", "admin");
  const std::string owner_key = userKeyAuth(a, "owner@example.com", "owner");
  const std::string home = accountPath(a.account.sid) + ".json";
  ASSERT_EQ(get(home, ownerAuth(a)).status(), 200);  // cached now

  expectError(post("/v1/AuthTokens/Secondary", admin, {}), 403, 20403);
  expectError(post("/v1/AuthTokens/Promote", admin, {}), 403, 20403);
  expectError(call("POST", "/v1/AuthTokens/Secondary", ""), 401, 20003);
  expectError(post("/v1/AuthTokens/Promote", ownerAuth(a), {}), 404, 20404);  // nothing yet
  expectError(get("/v1/AuthTokens/Secondary", ownerAuth(a)), 405, 20004);
  expectError(post("/v1/AuthTokens/Other", ownerAuth(a), {}), 404, 20404);
  expectError(post("/v1/AuthTokens/Secondary", ownerAuth(a), {{"Force", "true"}}), 400, 20001);
  expectError(post("/v1/Accounts", ownerAuth(a), {}), 404, 20404);

  Reply made = post("/v1/AuthTokens/Secondary", owner_key, {});
  ASSERT_EQ(made.status(), 201) << made.raw.body;
  EXPECT_EQ(made.body["account_sid"], a.account.sid);
  EXPECT_EQ(made.body["url"], "/v1/AuthTokens/Secondary");
  EXPECT_EQ(made.body["date_created"], "2025-11-22T10:00:00Z");
  EXPECT_EQ(made.body["date_updated"], "2025-11-22T10:00:00Z");
  const std::string secondary = made.body["secondary_auth_token"].get<std::string>();
  EXPECT_EQ(secondary.size(), a.auth_token.size());
  EXPECT_NE(secondary, a.auth_token);
  // Sealed in the store, not in clear.
  auto row = store_->accounts().find(a.account.sid);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->auth_token_secondary_sealed.find(secondary), std::string::npos);
  EXPECT_EQ(provisioning_->secondaryToken(**row), secondary);

  EXPECT_EQ(get(home, basic(a.account.sid, secondary)).status(), 200);
  EXPECT_EQ(get(home, ownerAuth(a)).status(), 200);
  expectError(get(accountPath(b.account.sid) + ".json", basic(b.account.sid, secondary)), 401,
              20003);

  now_ += 3600;
  Reply promoted = post("/v1/AuthTokens/Promote", basic(a.account.sid, secondary), {});
  ASSERT_EQ(promoted.status(), 200) << promoted.raw.body;
  EXPECT_EQ(promoted.body["account_sid"], a.account.sid);
  EXPECT_EQ(promoted.body["auth_token"], secondary);
  EXPECT_EQ(promoted.body["url"], "/v1/AuthTokens/Promote");
  EXPECT_EQ(promoted.body["date_updated"], "2025-11-22T11:00:00Z");
  expectError(get(home, ownerAuth(a)), 401, 20003);  // the old primary, at once
  const std::string now_auth = basic(a.account.sid, secondary);
  Reply shown = get(home, now_auth);
  ASSERT_EQ(shown.status(), 200);
  EXPECT_EQ(shown.body["auth_token"], secondary);
  expectError(post("/v1/AuthTokens/Promote", now_auth, {}), 404, 20404);  // used up

  // A secondary can be dropped again.
  Reply again = post("/v1/AuthTokens/Secondary", now_auth, {});
  ASSERT_EQ(again.status(), 201);
  const std::string dropped = again.body["secondary_auth_token"].get<std::string>();
  EXPECT_EQ(get(home, basic(a.account.sid, dropped)).status(), 200);
  EXPECT_EQ(del("/v1/AuthTokens/Secondary", now_auth).status(), 204);
  expectError(get(home, basic(a.account.sid, dropped)), 401, 20003);
  EXPECT_EQ(get(home, now_auth).status(), 200);

  // Audited like every request, in the account's log.
  rest_->flushAudit();
  auto log = store_->auditLog().list(a.account.sid, 0, 100);
  ASSERT_TRUE(log) << log.error().reason;
  std::vector<std::string> rotations;
  for (const store::AuditEntry& e : *log)
    if (e.path.rfind("/v1/AuthTokens/", 0) == 0 && e.status < 300)
      rotations.push_back(e.method + " " + e.path + " " + std::to_string(e.status));
  EXPECT_EQ(rotations,
            (std::vector<std::string>{
                "DELETE /v1/AuthTokens/Secondary 204", "POST /v1/AuthTokens/Secondary 201",
                "POST /v1/AuthTokens/Promote 200", "POST /v1/AuthTokens/Secondary 201"}));
}

TEST_F(RestApiTest, UsersValidation) {
  NewAccount a = account();
  const std::string users = accountPath(a.account.sid) + "/Users.json";
  expectError(post(users, ownerAuth(a), {{"Email", "no-at-sign"}, {"Role", "developer"}}), 400,
              20001);
  expectError(post(users, ownerAuth(a), {{"Email", "a@example.com"}, {"Role", "god"}}), 400, 20001);
  expectError(post(users, ownerAuth(a), {{"Role", "developer"}}), 400, 20001);
  ASSERT_EQ(post(users, ownerAuth(a), {{"Email", "a@example.com"}, {"Role", "billing"}}).status(),
            201);
  expectError(post(users, ownerAuth(a), {{"Email", "a@example.com"}, {"Role", "developer"}}), 400,
              20001);
  Reply listed = get(users, ownerAuth(a));
  ASSERT_EQ(listed.status(), 200);
  ASSERT_EQ(listed.body["users"].size(), 1u);
  EXPECT_EQ(listed.body["users"][0]["role"], "billing");
}

TEST_F(RestApiTest, CreatedUserIsAnsweredAsStored) {
  // Emails are stored lower-case; the create reply should show the stored user.
  NewAccount a = account();
  const std::string users = accountPath(a.account.sid) + "/Users.json";
  Reply made = post(users, ownerAuth(a), {{"Email", "Dev@Example.COM"}, {"Role", "developer"}});
  ASSERT_EQ(made.status(), 201) << made.raw.body;
  Reply listed = get(users, ownerAuth(a));
  ASSERT_EQ(listed.body["users"].size(), 1u);
  EXPECT_EQ(listed.body["users"][0]["email"], "dev@example.com");
  EXPECT_EQ(made.body["user"]["email"], listed.body["users"][0]["email"]);
}

// --- Balance and usage ---------------------------------------------------------------------

TEST_F(RestApiTest, BalanceShape) {
  NewAccount a = account();
  Reply r = get(accountPath(a.account.sid) + "/Balance.json", ownerAuth(a));
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  EXPECT_EQ(r.body,
            json({{"account_sid", a.account.sid}, {"balance", "0.00"}, {"currency", "USD"}}));
  auto added = store_->accounts().addToBalance(a.account.sid, 1234500, now_);
  ASSERT_TRUE(added && *added);
  Reply after = get(accountPath(a.account.sid) + "/Balance.json", ownerAuth(a));
  EXPECT_EQ(after.body["balance"], "12.345");
  // Billing sees money, not a write.
  const std::string billing = userKeyAuth(a, "bill@example.com", "billing");
  EXPECT_EQ(get(accountPath(a.account.sid) + "/Balance.json", billing).status(), 200);
  expectError(post(accountPath(a.account.sid) + "/Balance.json", ownerAuth(a), {}), 405, 20004);
  expectError(get(accountPath(a.account.sid) + "/Balance.json?x=1", ownerAuth(a)), 400, 20001);
}

TEST_F(RestApiTest, UsageRecordsCountTheNumbersHeld) {
  NewAccount a = account();
  for (int i = 0; i < 3; ++i)
    createNumber(a.account.sid, ownerAuth(a), "+1555127000" + std::to_string(i));
  now_ = kNow + 2 * 86400;
  Reply r = get(accountPath(a.account.sid) + "/Usage/Records.json", ownerAuth(a));
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  ASSERT_TRUE(r.body["usage_records"].is_array());
  const json* numbers = nullptr;
  for (const json& rec : r.body["usage_records"])
    if (rec["category"] == "phonenumbers") numbers = &rec;
  ASSERT_NE(numbers, nullptr) << r.raw.body;
  EXPECT_EQ((*numbers)["count"], "3");
  EXPECT_EQ((*numbers)["usage"], "3");
  EXPECT_EQ((*numbers)["account_sid"], a.account.sid);
  EXPECT_EQ((*numbers)["start_date"], "2025-11-22");
  EXPECT_EQ((*numbers)["end_date"], "2025-11-24");
  for (const char* f : {"account_sid", "api_version", "as_of", "category", "count", "count_unit",
                        "description", "start_date", "end_date", "price", "price_unit", "usage",
                        "usage_unit", "uri", "subresource_uris"})
    EXPECT_TRUE(numbers->contains(f)) << f;
  EXPECT_EQ(r.body["page"], 0);
  EXPECT_TRUE(r.body.contains("first_page_uri"));

  Reply calls =
      get(accountPath(a.account.sid) + "/Usage/Records.json?Category=calls", ownerAuth(a));
  ASSERT_EQ(calls.status(), 200);
  EXPECT_TRUE(calls.body["usage_records"].empty());
  expectError(
      get(accountPath(a.account.sid) + "/Usage/Records.json?StartDate=2025-02-30", ownerAuth(a)),
      400, 20001);
  expectError(get(accountPath(a.account.sid) +
                      "/Usage/Records.json?StartDate=2025-11-23&EndDate=2025-11-22",
                  ownerAuth(a)),
              400, 20001);
}

// --- The audit log -------------------------------------------------------------------------

TEST_F(RestApiTest, AuditEventsListRequestsNewestFirst) {
  NewAccount a = account(), b = account("B");
  std::string sk;
  const std::string dev = userKeyAuth(a, "dev@example.com", "developer", &sk);
  ASSERT_EQ(
      call("GET", accountPath(a.account.sid) + ".json", ownerAuth(a), "", "", "192.0.2.1").status(),
      200);
  ASSERT_EQ(
      call("GET", numbersPath(a.account.sid) + "?PageSize=5", dev, "", "", "192.0.2.2").status(),
      200);
  ASSERT_EQ(call("POST", numbersPath(a.account.sid), ownerAuth(a), "PhoneNumber=bad",
                 std::string(kForm), "192.0.2.3")
                .status(),
            400);
  ASSERT_EQ(
      call("GET", numbersPath(a.account.sid), basic(a.account.sid, "wrong"), "", "", "203.0.113.9")
          .status(),
      401);
  rest_->flushAudit();

  Reply r = get(accountPath(a.account.sid) + "/AuditEvents.json", ownerAuth(a));
  ASSERT_EQ(r.status(), 200) << r.raw.body;
  const json& ev = r.body["audit_events"];
  ASSERT_EQ(ev.size(), 4u) << r.raw.body;
  // Newest first.
  EXPECT_EQ(ev[0]["status"], 401);
  EXPECT_EQ(ev[0]["method"], "GET");
  EXPECT_EQ(ev[0]["path"], numbersPath(a.account.sid));
  EXPECT_EQ(ev[0]["principal"], a.account.sid);
  EXPECT_EQ(ev[0]["source"], "203.0.113.9");
  EXPECT_EQ(ev[0]["account_sid"], a.account.sid);

  EXPECT_EQ(ev[1]["status"], 400);
  EXPECT_EQ(ev[1]["method"], "POST");
  EXPECT_EQ(ev[1]["principal"], a.account.sid);
  EXPECT_EQ(ev[1]["source"], "192.0.2.3");

  EXPECT_EQ(ev[2]["status"], 200);
  EXPECT_EQ(ev[2]["method"], "GET");
  EXPECT_EQ(ev[2]["path"], numbersPath(a.account.sid));  // no query string
  EXPECT_EQ(ev[2]["principal"], sk);
  EXPECT_TRUE(ev[2]["user_sid"].is_string());
  EXPECT_EQ(ev[2]["source"], "192.0.2.2");

  EXPECT_EQ(ev[3]["status"], 200);
  EXPECT_EQ(ev[3]["path"], accountPath(a.account.sid) + ".json");
  EXPECT_EQ(ev[3]["principal"], a.account.sid);
  EXPECT_TRUE(ev[3]["user_sid"].is_null());
  EXPECT_EQ(ev[3]["source"], "192.0.2.1");
  for (size_t i = 1; i < ev.size(); ++i)
    EXPECT_GT(ev[i - 1]["id"].get<int64_t>(), ev[i]["id"].get<int64_t>());

  // Nothing of it is in another account's log.
  rest_->flushAudit();
  Reply other = get(accountPath(b.account.sid) + "/AuditEvents.json", ownerAuth(b));
  ASSERT_EQ(other.status(), 200);
  EXPECT_TRUE(other.body["audit_events"].empty()) << other.raw.body;
}

// A flood cannot open an audit row per request by making up account SIDs, changing its
// IPv6 address within its /64, or asking for paths outside the API.
TEST_F(RestApiTest, RefusedRequestsCannotOpenAnAuditRowEach) {
  NewAccount a = account();
  for (int i = 0; i < 40; ++i) {
    char sid[35];
    std::snprintf(sid, sizeof sid, "AC%032x", 0xabc000 + i);  // no such account
    const std::string v6 = "2001:db8:1:2::" + std::to_string(i + 1);
    ASSERT_EQ(call("GET", accountPath(sid) + ".json", basic(sid, "wrong"), "", "", v6).status(),
              401);
    ASSERT_EQ(call("GET", "/nothing/" + std::to_string(i), "", "", "", "203.0.113.7").status(),
              404);
  }
  rest_->flushAudit();
  auto rows = store_->auditLog().list("", 0, 1000);
  ASSERT_TRUE(rows) << rows.error().reason;
  int64_t failed = 0, missing = 0;
  for (const auto& e : *rows) (e.status == 401 ? failed : missing) += e.count;
  EXPECT_EQ(failed, 40);
  EXPECT_EQ(missing, 40);
  // The first of each source group at once, the rest in one row: 2 + 2.
  EXPECT_EQ(rows->size(), 4u);
  // Nothing went to the real account's log.
  auto own = store_->auditLog().list(a.account.sid, 0, 100);
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->empty());
}

TEST_F(RestApiTest, AuditEventsPage) {
  NewAccount a = account();
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(get(numbersPath(a.account.sid), ownerAuth(a)).status(), 200);
  rest_->flushAudit();
  auto count = store_->auditLog().count(a.account.sid);
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 5);
  const std::string events = accountPath(a.account.sid) + "/AuditEvents.json";
  Reply first = get(events + "?PageSize=2", ownerAuth(a));
  ASSERT_EQ(first.status(), 200) << first.raw.body;
  EXPECT_EQ(first.body["audit_events"].size(), 2u);
  EXPECT_EQ(first.body["next_page_uri"], events + "?PageSize=2&Page=1");
  for (const auto& [k, v] : first.body.items()) {
    if (k != "audit_events") {
      EXPECT_TRUE(k == "uri" || k == "first_page_uri" || k == "previous_page_uri" ||
                  k == "next_page_uri" || k == "page" || k == "page_size" || k == "start" ||
                  k == "end")
          << k;
    }
  }
  rest_->flushAudit();  // the read above is the sixth entry
  Reply last = get(events + "?PageSize=2&Page=2", ownerAuth(a));
  ASSERT_EQ(last.status(), 200) << last.raw.body;
  ASSERT_EQ(last.body["audit_events"].size(), 2u);
  EXPECT_TRUE(last.body["next_page_uri"].is_null());
  // The oldest two: the first GETs of numbers.
  for (const json& e : last.body["audit_events"]) {
    EXPECT_EQ(e["path"], numbersPath(a.account.sid));
    EXPECT_EQ(e["status"], 200);
  }
  EXPECT_GT(first.body["audit_events"][0]["id"].get<int64_t>(),
            last.body["audit_events"][0]["id"].get<int64_t>());
}

TEST_F(RestApiTest, LockedOutAttemptAppearsInTheAccountsLog) {
  // An attempt refused because the account is suspended is a failed authentication too.
  NewAccount parent = account("Parent");
  auto sub = provisioning_->createAccount("Sub", parent.account.sid, now_);
  ASSERT_TRUE(sub);
  ASSERT_EQ(
      post(accountPath(sub->account.sid) + ".json", ownerAuth(parent), {{"Status", "suspended"}})
          .status(),
      200);
  Reply refused = call("GET", numbersPath(sub->account.sid),
                       basic(sub->account.sid, sub->auth_token), "", "", "203.0.113.77");
  ASSERT_EQ(refused.status(), 401);
  rest_->flushAudit();
  Reply log = get(accountPath(sub->account.sid) + "/AuditEvents.json", ownerAuth(parent));
  ASSERT_EQ(log.status(), 200) << log.raw.body;
  bool found = false;
  for (const json& e : log.body["audit_events"]) {
    if (e["source"] == "203.0.113.77") {
      found = true;
      EXPECT_EQ(e["status"], 401);
      EXPECT_EQ(e["principal"], sub->account.sid);
    }
  }
  EXPECT_TRUE(found) << "the refused attempt is in no account's log: " << log.raw.body;
}

TEST_F(RestApiTest, StatsCountAnswers) {
  NewAccount a = account();
  get(numbersPath(a.account.sid), ownerAuth(a));
  get(numbersPath(a.account.sid), basic(a.account.sid, "x"));
  post(numbersPath(a.account.sid), ownerAuth(a), {{"PhoneNumber", "x"}});
  RestApi::Stats s = rest_->stats();
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.client_errors, 2u);
  EXPECT_EQ(s.server_errors, 0u);
  EXPECT_EQ(s.auth_failures, 1u);
}

TEST(RestApiProtocolError, TwilioShapedBodies) {
  HttpReply r = RestApi::protocolError(413, "Body too large");
  EXPECT_EQ(r.status, 413);
  json body = json::parse(r.body);
  EXPECT_EQ(body["code"], 20413);
  EXPECT_EQ(body["status"], 413);
  EXPECT_EQ(body["message"], "Body too large");
  EXPECT_EQ(json::parse(RestApi::protocolError(431, "x").body)["code"], 20431);
  EXPECT_EQ(json::parse(RestApi::protocolError(400, "x").body)["code"], 20001);
}

// --- Messages (issue 6): the resource over a messaging::Service without carriers, so what is
// sent stays queued; rows in other states are written to the store directly.

const std::vector<std::string> kMessageFields = {"sid",
                                                 "account_sid",
                                                 "api_version",
                                                 "body",
                                                 "date_created",
                                                 "date_sent",
                                                 "date_updated",
                                                 "direction",
                                                 "error_code",
                                                 "error_message",
                                                 "from",
                                                 "to",
                                                 "messaging_service_sid",
                                                 "num_media",
                                                 "num_segments",
                                                 "price",
                                                 "price_unit",
                                                 "status",
                                                 "uri",
                                                 "subresource_uris"};

class MessagesApiTest : public RestApiTest {
 protected:
  void SetUp() override {
    RestApiTest::SetUp();
    rest_.reset();
    messaging::ServiceOptions so;
    so.now = [this] { return now_.load(); };
    service_ = std::make_unique<messaging::Service>(*store_, nullptr, so);
    RestApi::Options o;
    o.now = [this] { return now_.load(); };
    o.messaging = service_.get();
    rest_ = std::make_unique<RestApi>(*store_, *key_, o);
  }
  void TearDown() override {
    rest_.reset();
    service_.reset();
    RestApiTest::TearDown();
  }
  std::string messagesPath(std::string_view account) {
    return accountPath(account) + "/Messages.json";
  }
  // A message as the worker leaves it after the carrier: `status`, sent at `sent_at`.
  std::string putMessage(const std::string& account, const std::string& to,
                         const std::string& status, int64_t sent_at) {
    store::Message m;
    m.sid = common::newSid("SM");
    m.account_sid = account;
    m.from = "+15005550006";
    m.to = to;
    m.body = "stored " + to;
    m.status = status;
    m.date_created = m.date_updated = sent_at;
    m.date_sent = sent_at;
    EXPECT_TRUE(*store_->messages().create(m));
    return m.sid;
  }
  std::unique_ptr<messaging::Service> service_;
};

TEST_F(RestApiTest, SendingWithoutMessagingRunningIs503) {
  NewAccount a = account();
  createNumber(a.account.sid, ownerAuth(a), "+15005550006");
  Reply r = post(accountPath(a.account.sid) + "/Messages.json", ownerAuth(a),
                 {{"To", "+15551230001"}, {"From", "+15005550006"}, {"Body", "hi"}});
  expectError(r, 503, 20503);
}

TEST_F(MessagesApiTest, CreateFetchAndTheFieldsTheLibraryReads) {
  NewAccount a = account();
  const std::string auth = ownerAuth(a);
  createNumber(a.account.sid, auth, "+15005550006");
  Reply r = post(messagesPath(a.account.sid), auth,
                 {{"To", "+15551230001"},
                  {"From", "+15005550006"},
                  {"Body", std::string(161, 'x')},
                  {"StatusCallback", "https://example.com/status"}});
  ASSERT_EQ(r.status(), 201) << r.raw.body;
  for (const std::string& f : kMessageFields) EXPECT_TRUE(r.body.contains(f)) << f;
  EXPECT_TRUE(isSidOf(r.body["sid"], "SM"));
  EXPECT_EQ(r.body["status"], "queued");
  EXPECT_EQ(r.body["direction"], "outbound-api");
  EXPECT_EQ(r.body["num_segments"], "2");
  EXPECT_EQ(r.body["num_media"], "0");
  EXPECT_TRUE(r.body["date_sent"].is_null());
  EXPECT_TRUE(r.body["error_code"].is_null());
  EXPECT_EQ(r.body["date_created"], kNowRfc);
  const std::string sid = r.body["sid"];
  EXPECT_EQ(r.body["uri"], accountPath(a.account.sid) + "/Messages/" + sid + ".json");
  Reply f = get(accountPath(a.account.sid) + "/Messages/" + sid + ".json", auth);
  ASSERT_EQ(f.status(), 200) << f.raw.body;
  EXPECT_EQ(f.body["body"], std::string(161, 'x'));
  // Another account sees none of it.
  NewAccount b = account("Other");
  expectError(get(accountPath(b.account.sid) + "/Messages/" + sid + ".json", ownerAuth(b)), 404,
              20404);
  expectError(get(accountPath(a.account.sid) + "/Messages/SMnothex.json", auth), 404, 20404);
}

TEST_F(MessagesApiTest, RefusalsInTwiliosCodes) {
  NewAccount a = account();
  const std::string auth = ownerAuth(a);
  createNumber(a.account.sid, auth, "+15005550006");
  const std::string path = messagesPath(a.account.sid);
  expectError(post(path, auth, {{"To", "555"}, {"From", "+15005550006"}, {"Body", "x"}}), 400,
              21211);
  expectError(post(path, auth, {{"To", "+15551230001"}, {"From", "+15009990000"}, {"Body", "x"}}),
              400, 21606);
  expectError(post(path, auth, {{"To", "+15551230001"}, {"From", "+15005550006"}}), 400, 21602);
  expectError(post(path, auth,
                   {{"To", "+15551230001"}, {"From", "+15005550006"}, {"MediaUrl", "https://x"}}),
              400, 21620);
  expectError(post(path, auth,
                   {{"To", "+15551230001"}, {"From", "+15005550006"}, {"Body", "x"}, {"Q", "1"}}),
              400, 20001);
  expectError(post(path, auth,
                   {{"To", "+15551230001"},
                    {"From", "+15005550006"},
                    {"Body", "x"},
                    {"StatusCallback", "ftp://x"}}),
              400, 21205);
  ASSERT_TRUE(
      *store_->optOuts().add({a.account.sid, "+15551230001", "STOP", "+15005550006", kNow}));
  expectError(post(path, auth, {{"To", "+15551230001"}, {"From", "+15005550006"}, {"Body", "x"}}),
              400, 21610);
  Reply opt = get(accountPath(a.account.sid) + "/OptOuts.json", auth);
  ASSERT_EQ(opt.status(), 200) << opt.raw.body;
  ASSERT_EQ(opt.body["opt_outs"].size(), 1u);
  EXPECT_EQ(opt.body["opt_outs"][0]["phone_number"], "+15551230001");
  EXPECT_EQ(opt.body["opt_outs"][0]["keyword"], "STOP");
}

TEST_F(MessagesApiTest, ListFiltersNewestFirstWithPaging) {
  NewAccount a = account();
  const std::string auth = ownerAuth(a);
  const int64_t day = 86400;
  putMessage(a.account.sid, "+15550000001", "delivered", kNow - 2 * day);
  putMessage(a.account.sid, "+15550000002", "delivered", kNow - day);
  putMessage(a.account.sid, "+15550000001", "undelivered", kNow);
  const std::string path = messagesPath(a.account.sid);
  Reply all = get(path + "?PageSize=2", auth);
  ASSERT_EQ(all.status(), 200) << all.raw.body;
  ASSERT_EQ(all.body["messages"].size(), 2u);
  EXPECT_EQ(all.body["messages"][0]["status"], "undelivered");  // newest first
  EXPECT_FALSE(all.body["next_page_uri"].is_null());
  EXPECT_EQ(pages(path + "?PageSize=2", auth).size(), 2u);
  Reply to = get(path + "?To=%2B15550000001", auth);
  EXPECT_EQ(to.body["messages"].size(), 2u);
  // 2025-11-21 is the day before kNow.
  Reply on = get(path + "?DateSent=2025-11-21", auth);
  ASSERT_EQ(on.body["messages"].size(), 1u);
  EXPECT_EQ(on.body["messages"][0]["to"], "+15550000002");
  Reply after = get(path + "?DateSent%3E=2025-11-21T00%3A00%3A00Z", auth);
  EXPECT_EQ(after.body["messages"].size(), 2u);
  Reply before = get(path + "?DateSent%3C=2025-11-21", auth);
  EXPECT_EQ(before.body["messages"].size(), 2u);
  expectError(get(path + "?DateSent=yesterday", auth), 400, 20001);
}

TEST_F(MessagesApiTest, RedactAndDeleteOnlyWhenNoLongerSending) {
  NewAccount a = account();
  const std::string auth = ownerAuth(a);
  const std::string done = putMessage(a.account.sid, "+15550000001", "delivered", kNow);
  const std::string busy = putMessage(a.account.sid, "+15550000002", "sending", kNow);
  auto at = [&](const std::string& sid) {
    return accountPath(a.account.sid) + "/Messages/" + sid + ".json";
  };
  Reply red = post(at(done), auth, {{"Body", ""}});
  ASSERT_EQ(red.status(), 200) << red.raw.body;
  EXPECT_EQ(red.body["body"], "");
  EXPECT_EQ(red.body["status"], "delivered");
  EXPECT_EQ((*store_->messages().findBySid(done))->body_purged, true);
  expectError(post(at(done), auth, {{"Body", "new text"}}), 400, 20001);
  expectError(post(at(busy), auth, {{"Body", ""}}), 400, 20009);
  expectError(del(at(busy), auth), 400, 20009);
  EXPECT_EQ(del(at(done), auth).status(), 204);
  expectError(get(at(done), auth), 404, 20404);
}

TEST_F(MessagesApiTest, ReadOnlyRoleReadsButDoesNotSend) {
  NewAccount a = account();
  createNumber(a.account.sid, ownerAuth(a), "+15005550006");
  const std::string ro = userKeyAuth(a, "ro@example.com", "read-only");
  EXPECT_EQ(get(messagesPath(a.account.sid), ro).status(), 200);
  expectError(post(messagesPath(a.account.sid), ro,
                   {{"To", "+15551230001"}, {"From", "+15005550006"}, {"Body", "x"}}),
              403, 20403);
}

}  // namespace
}  // namespace api
