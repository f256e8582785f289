// application/x-www-form-urlencoded both ways, as Twilio's clients send it (API_NOTES §2):
// %20 or '+' for a space, UTF-8 percent-encoded, lists as repeated keys.
#include "api/form.h"

#include <gtest/gtest.h>

#include <string>

namespace api {
namespace {

FormParams parsed(std::string_view text) {
  auto f = parseForm(text);
  EXPECT_TRUE(f) << "'" << text << "': " << (f ? "" : f.error().reason);
  return f ? *f : FormParams{};
}

TEST(ParseForm, PercentTwentyAndPlusBothDecodeToSpace) {
  EXPECT_EQ(parsed("Body=hi%20there"), (FormParams{{"Body", "hi there"}}));
  EXPECT_EQ(parsed("Body=hi+there"), (FormParams{{"Body", "hi there"}}));
  EXPECT_EQ(parsed("Friendly+Name=a+%20b"), (FormParams{{"Friendly Name", "a  b"}}));
  // An encoded '+' stays a plus (E.164 numbers are sent as %2B).
  EXPECT_EQ(parsed("To=%2B15551234567"), (FormParams{{"To", "+15551234567"}}));
}

TEST(ParseForm, DecodesUtf8PercentEscapes) {
  EXPECT_EQ(parsed("Body=h%C3%A9llo"), (FormParams{{"Body", "h\xC3\xA9llo"}}));
  EXPECT_EQ(parsed("Body=h%c3%a9llo"), (FormParams{{"Body", "h\xC3\xA9llo"}}));  // lower hex
  // U+1F600 (four bytes) and raw (unescaped) UTF-8 too.
  EXPECT_EQ(parsed("Body=%F0%9F%98%80"), (FormParams{{"Body", "\xF0\x9F\x98\x80"}}));
  EXPECT_EQ(parsed("Body=\xE2\x82\xAC"), (FormParams{{"Body", "\xE2\x82\xAC"}}));
  // Reserved characters escaped by the client come back as themselves.
  EXPECT_EQ(parsed("DateSent%3E=2025-01-02T03%3A04%3A05Z"),
            (FormParams{{"DateSent>", "2025-01-02T03:04:05Z"}}));
  EXPECT_EQ(parsed("a=%26%3D%25"), (FormParams{{"a", "&=%"}}));
}

TEST(ParseForm, KeepsRepeatedKeysInOrder) {
  EXPECT_EQ(parsed("StatusCallbackEvent=initiated&To=%2B1&StatusCallbackEvent=ringing&"
                   "StatusCallbackEvent=answered"),
            (FormParams{{"StatusCallbackEvent", "initiated"},
                        {"To", "+1"},
                        {"StatusCallbackEvent", "ringing"},
                        {"StatusCallbackEvent", "answered"}}));
}

TEST(ParseForm, SkipsEmptyFields) {
  EXPECT_EQ(parsed(""), FormParams{});
  EXPECT_EQ(parsed("&"), FormParams{});
  EXPECT_EQ(parsed("a=1&&b=2&"), (FormParams{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(parsed("&&a=1"), (FormParams{{"a", "1"}}));
}

TEST(ParseForm, NameWithoutValueAndEmptyValue) {
  EXPECT_EQ(parsed("a&b="), (FormParams{{"a", ""}, {"b", ""}}));
  // Only the first '=' separates: the rest belongs to the value.
  EXPECT_EQ(parsed("a=b=c"), (FormParams{{"a", "b=c"}}));
}

TEST(ParseForm, RejectsBadPercentEscapes) {
  for (std::string_view bad : {"a=%", "a=%4", "a=50%", "a=%%41", "%=1", "a=%-1", "a=%4 ", "a=%zz",
                               "a=%GG", "a=%4g", "a=%g4", "Bo%xdy=1"}) {
    auto f = parseForm(bad);
    EXPECT_FALSE(f) << "'" << bad << "' was accepted";
    if (!f) {
      EXPECT_EQ(f.error().code, common::ErrorCode::kInvalidArgument);
    }
  }
}

TEST(ParseForm, RejectsInvalidUtf8) {
  for (std::string_view bad : {
           "a=%FF",           // never in UTF-8
           "a=%C3",           // truncated two-byte sequence
           "a=%C3%28",        // bad continuation byte
           "a=%C0%AF",        // overlong '/'
           "a=%E0%80%AF",     // overlong, three bytes
           "a=%ED%A0%80",     // a UTF-16 surrogate
           "a=%F4%90%80%80",  // past U+10FFFF
           "a=%80",           // lone continuation byte
           "%C3=1",           // in the name too
           "a=\xC3",          // raw, not escaped
       }) {
    auto f = parseForm(bad);
    EXPECT_FALSE(f) << "'" << bad << "' was accepted";
  }
}

TEST(IsUtf8, AcceptsTheLimitsAndRejectsTheRest) {
  EXPECT_TRUE(isUtf8(""));
  EXPECT_TRUE(isUtf8("plain ascii"));
  EXPECT_TRUE(isUtf8("\x7F"));
  EXPECT_TRUE(isUtf8("\xC2\x80"));           // U+0080
  EXPECT_TRUE(isUtf8("\xDF\xBF"));           // U+07FF
  EXPECT_TRUE(isUtf8("\xE0\xA0\x80"));       // U+0800
  EXPECT_TRUE(isUtf8("\xED\x9F\xBF"));       // U+D7FF
  EXPECT_TRUE(isUtf8("\xEE\x80\x80"));       // U+E000
  EXPECT_TRUE(isUtf8("\xF0\x90\x80\x80"));   // U+10000
  EXPECT_TRUE(isUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(isUtf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(isUtf8("\xE0\x9F\xBF"));      // overlong
  EXPECT_FALSE(isUtf8("\xF0\x8F\xBF\xBF"));  // overlong
  EXPECT_FALSE(isUtf8("\xED\xBF\xBF"));      // surrogate
  EXPECT_FALSE(isUtf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(isUtf8("ab\xE2\x82"));  // truncated at the end
}

TEST(EncodeForm, PercentEncodesAllButUnreserved) {
  EXPECT_EQ(encodeForm({{"To", "+15551234567"}, {"Body", "hi there"}}),
            "To=%2B15551234567&Body=hi%20there");
  EXPECT_EQ(encodeForm({{"Unreserved", "AZaz09-_.~"}}), "Unreserved=AZaz09-_.~");
  EXPECT_EQ(encodeForm({{"k", "h\xC3\xA9llo"}}), "k=h%C3%A9llo");
  EXPECT_EQ(encodeForm({{"a&b", "c=d/e?f#g%h*'()!"}}),
            "a%26b=c%3Dd%2Fe%3Ff%23g%25h%2A%27%28%29%21");
  EXPECT_EQ(encodeForm({{"e", ""}, {"e", "x"}}), "e=&e=x");
  EXPECT_EQ(encodeForm({}), "");
  std::string controls;
  controls.push_back('\0');
  controls += "\n\x7F";
  EXPECT_EQ(encodeForm({{"c", controls}}), "c=%00%0A%7F");
}

TEST(EncodeForm, EveryByteOutsideUnreservedIsEncodedAndRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const char c = char(b);
    std::string out;
    appendPercentEncoded(out, std::string(1, c));
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      EXPECT_EQ(out, std::string(1, c));
    } else {
      ASSERT_EQ(out.size(), 3u) << b;
      EXPECT_EQ(out[0], '%');
    }
  }
  const FormParams params = {
      {"To", "+1 555"}, {"Body", "caf\xC3\xA9 & cr\xC3\xA8me=1+1"}, {"To", "x"}};
  auto back = parseForm(encodeForm(params));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, params);
}

TEST(FormValue, FirstValueOfAName) {
  const FormParams p = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  ASSERT_TRUE(formValue(p, "a"));
  EXPECT_EQ(*formValue(p, "a"), "1");
  EXPECT_EQ(*formValue(p, "b"), "2");
  EXPECT_FALSE(formValue(p, "A"));
  EXPECT_FALSE(formValue({}, "a"));
}

}  // namespace
}  // namespace api
