// The webhook signer against the vectors the official twilio npm library computed
// (../shared/testdata/twilio/signature_vectors.json), and the orderings behind them.
#include "api/webhook_signature.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "../sip/testdata.h"

namespace {

std::optional<nlohmann::json> vectors() {
  auto text = testdata::read(testdata::root() / "twilio" / "signature_vectors.json");
  if (!text) return std::nullopt;
  return nlohmann::json::parse(*text);
}

// The library's params object: a string, or an array of strings for a repeated name.
api::FormParams formOf(const nlohmann::json& params) {
  api::FormParams out;
  for (const auto& [name, value] : params.items()) {
    if (value.is_array()) {
      for (const auto& v : value) out.emplace_back(name, v.get<std::string>());
    } else {
      out.emplace_back(name, value.get<std::string>());
    }
  }
  return out;
}

TEST(WebhookSignature, MatchesEveryVectorOfTheTwilioLibrary) {
  if (!testdata::available("twilio")) GTEST_SKIP() << "../shared/testdata/twilio is absent";
  auto v = vectors();
  ASSERT_TRUE(v.has_value());
  ASSERT_GE((*v)["vectors"].size(), 5u);
  for (const auto& t : (*v)["vectors"]) {
    SCOPED_TRACE(t["name"].get<std::string>());
    api::FormParams form = formOf(t["params"]);
    // Sent in reverse: the signer orders them itself.
    std::reverse(form.begin(), form.end());
    const std::string token = t["authToken"], url = t["url"];
    EXPECT_EQ(api::signatureBase(url, form), t["stringToSign"].get<std::string>());
    EXPECT_EQ(api::twilioSignature(token, url, form), t["signature"].get<std::string>());
    EXPECT_TRUE(api::signatureMatches(token, t["signature"].get<std::string>(), url, form));
    EXPECT_FALSE(api::signatureMatches(token + "x", t["signature"].get<std::string>(), url, form));
  }
}

TEST(WebhookSignature, JsonBodiesAreSignedThroughTheirHash) {
  if (!testdata::available("twilio")) GTEST_SKIP() << "../shared/testdata/twilio is absent";
  auto v = vectors();
  ASSERT_TRUE(v.has_value());
  const auto& b = (*v)["bodyVector"];
  const std::string url =
      api::withBodySha256("https://mycompany.com/myapp.php", b["body"].get<std::string>());
  EXPECT_EQ(url, b["url"].get<std::string>());
  EXPECT_EQ(api::twilioSignature(b["authToken"].get<std::string>(), url, {}),
            b["signature"].get<std::string>());
}

TEST(WebhookSignature, BodyHashJoinsAnExistingQueryAndKeepsAFragment) {
  const std::string h =
      "bodySHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(api::withBodySha256("http://h/p?a=1", ""), "http://h/p?a=1&" + h);
  EXPECT_EQ(api::withBodySha256("http://h/p?", ""), "http://h/p?" + h);
  EXPECT_EQ(api::withBodySha256("http://h/p#f", ""), "http://h/p?" + h + "#f");
}

TEST(WebhookSignature, RepeatedValuesAreSortedAndDeduplicated) {
  api::FormParams p = {{"B", "2"}, {"A", "z"}, {"A", "y"}, {"A", "z"}};
  EXPECT_EQ(api::signatureBase("u", p), "uAyAzB2");
  // A signature over other parameters, or another URL, does not match.
  std::string sig = api::twilioSignature("t", "u", p);
  EXPECT_FALSE(api::signatureMatches("t", sig, "u", {{"B", "2"}}));
  EXPECT_FALSE(api::signatureMatches("t", sig, "u2", p));
  EXPECT_FALSE(api::signatureMatches("t", sig.substr(1), "u", p));
}

TEST(WebhookSignature, Utf16OrderIsJavaScriptsOrder) {
  EXPECT_TRUE(api::utf16Less("A", "B"));
  EXPECT_TRUE(api::utf16Less("A", "AB"));
  EXPECT_FALSE(api::utf16Less("AB", "A"));
  EXPECT_FALSE(api::utf16Less("A", "A"));
  EXPECT_TRUE(api::utf16Less("Z", "a"));  // upper case first, as in byte order
  // U+1F44B (a surrogate pair, first unit 0xD83D) sorts before U+FF5E in JavaScript, though
  // its UTF-8 bytes (F0 ...) come after EF BD 9E.
  EXPECT_TRUE(api::utf16Less("\xF0\x9F\x91\x8B", "\xEF\xBD\x9E"));
  EXPECT_FALSE(api::utf16Less("\xEF\xBD\x9E", "\xF0\x9F\x91\x8B"));
  // Below U+D800 the orders agree: U+00E9 after 'z'.
  EXPECT_TRUE(api::utf16Less("z", "\xC3\xA9"));
}

}  // namespace
