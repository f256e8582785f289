#include "messaging/sms_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace {

using messaging::analyzeText;
using messaging::DecodedPart;
using messaging::decodePart;
using messaging::EncodedPart;
using messaging::encodeParts;
using messaging::Reassembler;
using messaging::TextEncoding;
using messaging::TextInfo;

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TextInfo info(std::string_view s) {
  auto r = analyzeText(s);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r.value_or(TextInfo{});
}

std::vector<EncodedPart> parts(std::string_view s, uint8_t ref = 42) {
  auto r = encodeParts(s, ref);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r.value_or(std::vector<EncodedPart>{});
}

const std::string kZhe = "\xD0\xB6";              // U+0436, not in GSM 03.38
const std::string kEuro = "\xE2\x82\xAC";         // U+20AC, GSM extension table
const std::string kGrin = "\xF0\x9F\x98\x80";     // U+1F600, outside the BMP
const std::string kUdhPrefix("\x05\x00\x03", 3);  // UDH length, IE 0x00, IE length

TEST(SmsText, EncodingNames) {
  EXPECT_STREQ(messaging::encodingName(TextEncoding::kGsm7), "GSM-7");
  EXPECT_STREQ(messaging::encodingName(TextEncoding::kUcs2), "UCS-2");
}

TEST(SmsText, EmptyBodyIsOneGsmSegment) {
  TextInfo i = info("");
  EXPECT_EQ(i.encoding, TextEncoding::kGsm7);
  EXPECT_EQ(i.characters, 0u);
  EXPECT_EQ(i.units, 0u);
  EXPECT_EQ(i.segments, 1u);
  auto p = parts("");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].bytes, "");
  EXPECT_EQ(p[0].esm_class, 0);
}

TEST(SmsText, Gsm7SegmentBoundaries) {
  EXPECT_EQ(info(repeat("a", 160)).segments, 1u);
  EXPECT_EQ(info(repeat("a", 161)).segments, 2u);
  EXPECT_EQ(info(repeat("a", 153 * 2)).segments, 2u);
  EXPECT_EQ(info(repeat("a", 307)).segments, 3u);
  EXPECT_EQ(info(repeat("a", 153 * 10)).segments, 10u);
  EXPECT_EQ(info(repeat("a", 1531)).segments, 11u);
  TextInfo i = info(repeat("a", 161));
  EXPECT_EQ(i.encoding, TextEncoding::kGsm7);
  EXPECT_EQ(i.characters, 161u);
  EXPECT_EQ(i.units, 161u);
}

TEST(SmsText, Ucs2SegmentBoundaries) {
  EXPECT_EQ(info(repeat(kZhe, 70)).segments, 1u);
  EXPECT_EQ(info(repeat(kZhe, 71)).segments, 2u);
  EXPECT_EQ(info(repeat(kZhe, 67 * 2)).segments, 2u);
  EXPECT_EQ(info(repeat(kZhe, 135)).segments, 3u);
  TextInfo i = info(repeat(kZhe, 71));
  EXPECT_EQ(i.encoding, TextEncoding::kUcs2);
  EXPECT_EQ(i.characters, 71u);
  EXPECT_EQ(i.units, 71u);
  // One non-GSM character turns the whole text into UCS-2.
  TextInfo mixed = info(repeat("a", 69) + kZhe);
  EXPECT_EQ(mixed.encoding, TextEncoding::kUcs2);
  EXPECT_EQ(mixed.segments, 1u);
  EXPECT_EQ(info(repeat("a", 70) + kZhe).segments, 2u);
}

TEST(SmsText, ExtensionCharactersCountTwo) {
  TextInfo i = info("{}[]~^|\\" + kEuro + "\f");
  EXPECT_EQ(i.encoding, TextEncoding::kGsm7);
  EXPECT_EQ(i.characters, 10u);
  EXPECT_EQ(i.units, 20u);
  EXPECT_EQ(info(repeat(kEuro, 80)).segments, 1u);
  EXPECT_EQ(info(repeat(kEuro, 80)).units, 160u);
  EXPECT_EQ(info(repeat(kEuro, 81)).segments, 2u);
  EXPECT_EQ(info(repeat("a", 159) + "{").segments, 2u);
}

TEST(SmsText, DefaultAlphabetCharactersAreGsm) {
  // Latin-1 and Greek letters of the default table stay GSM-7 at one septet each.
  TextInfo i = info("@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xCE\x94\xCE\xA9\xC3\x9F\xC2\xA1\xC2\xBF");
  EXPECT_EQ(i.encoding, TextEncoding::kGsm7);
  EXPECT_EQ(i.characters, 11u);
  EXPECT_EQ(i.units, 11u);
  auto p = parts("@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xCE\x94");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].data_coding, 0x00);
  EXPECT_EQ(p[0].bytes, std::string("\x00\x01\x02\x03\x04\x05\x10", 7));
  // Lower-case c cedilla and a backtick are not in the table.
  EXPECT_EQ(info("\xC3\xA7").encoding, TextEncoding::kUcs2);
  EXPECT_EQ(info("`").encoding, TextEncoding::kUcs2);
}

TEST(SmsText, SinglePartBytes) {
  auto p = parts("Hi {x}" + kEuro);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].data_coding, 0x00);
  EXPECT_EQ(p[0].esm_class, 0x00);
  EXPECT_EQ(p[0].bytes, std::string("Hi \x1B\x28x\x1B\x29\x1B\x65", 10));
  auto u = parts(kZhe + "a" + kGrin);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].data_coding, 0x08);
  EXPECT_EQ(u[0].bytes, std::string("\x04\x36\x00\x61\xD8\x3D\xDE\x00", 8));
}

TEST(SmsText, ConcatenatedPartsCarryUdh) {
  auto p = parts(repeat("a", 200), 0x2A);
  ASSERT_EQ(p.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(p[k].esm_class, 0x40);
    EXPECT_EQ(p[k].data_coding, 0x00);
    EXPECT_EQ(p[k].bytes.substr(0, 6), kUdhPrefix + std::string("\x2A\x02") + char(k + 1));
  }
  EXPECT_EQ(p[0].bytes.size(), 6u + 153u);
  EXPECT_EQ(p[1].bytes.size(), 6u + 47u);
  auto u = parts(repeat(kZhe, 71), 7);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].bytes.size(), 6u + 67u * 2);
  EXPECT_EQ(u[1].bytes.size(), 6u + 4u * 2);
  EXPECT_EQ(u[1].bytes.substr(0, 6), kUdhPrefix + std::string("\x07\x02\x02"));
}

TEST(SmsText, EscapePairNeverSplit) {
  // 152 septets, then a euro (2 septets) that would straddle the 153-septet part boundary.
  std::string body = repeat("a", 152) + kEuro + repeat("b", 10);
  TextInfo i = info(body);
  EXPECT_EQ(i.units, 164u);
  EXPECT_EQ(i.segments, 2u);
  auto p = parts(body);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].bytes.size(), 6u + 152u);
  EXPECT_EQ(p[0].bytes.back(), 'a');
  EXPECT_EQ(p[1].bytes.substr(6, 3),
            "\x1B\x65"
            "b");
  // Filled so that splitting pairs would give 2 parts, keeping them whole needs 3.
  std::string tight = repeat("a", 152) + repeat(kEuro, 77);  // 306 septets
  EXPECT_EQ(info(tight).units, 306u);
  EXPECT_EQ(info(tight).segments, 3u);
  EXPECT_EQ(parts(tight).size(), 3u);
}

TEST(SmsText, SurrogatePairNeverSplit) {
  std::string body = repeat(kZhe, 66) + kGrin + repeat(kZhe, 3);  // 71 units
  TextInfo i = info(body);
  EXPECT_EQ(i.characters, 70u);
  EXPECT_EQ(i.units, 71u);
  EXPECT_EQ(i.segments, 2u);
  auto p = parts(body);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].bytes.size(), 6u + 66u * 2);
  EXPECT_EQ(p[1].bytes.substr(6, 4), std::string("\xD8\x3D\xDE\x00", 4));
  // 35 emoji are 70 units: one segment; 36 need two.
  EXPECT_EQ(info(repeat(kGrin, 35)).segments, 1u);
  EXPECT_EQ(info(repeat(kGrin, 36)).units, 72u);
  EXPECT_EQ(info(repeat(kGrin, 36)).segments, 2u);
}

TEST(SmsText, InvalidUtf8Refused) {
  const std::vector<std::string> bad = {
      "\x80",              // continuation without a lead
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three octets
      "\xF0\x80\x80\xAF",  // overlong, four octets
      "\xED\xA0\x80",      // a UTF-16 surrogate encoded
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xE2\x82",          // truncated
      "ok\xFFok",          // never valid
      "\xC3\x28",          // bad continuation
  };
  for (const std::string& b : bad) {
    auto a = analyzeText(b);
    ASSERT_FALSE(a.has_value()) << b;
    EXPECT_EQ(a.error().code, common::ErrorCode::kInvalidArgument);
    EXPECT_NE(a.error().reason.find("offset"), std::string::npos) << a.error().reason;
    auto e = encodeParts(b, 1);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, common::ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(analyzeText("\xF4\x8F\xBF\xBF").has_value());  // U+10FFFF itself
}

TEST(SmsText, TooManyPartsRefused) {
  auto e = encodeParts(repeat("a", 153 * 256), 1);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, common::ErrorCode::kTooLarge);
  auto ok = encodeParts(repeat("a", 153 * 255), 1);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), 255u);
}

TEST(SmsText, DecodeGsm) {
  DecodedPart d = decodePart(0x00, std::string("Hi\x00\x01\x1B\x65\x1B\x28\x11", 9), false);
  EXPECT_EQ(d.text, "Hi@\xC2\xA3" + kEuro + "{_");
  EXPECT_FALSE(d.reference.has_value());
  EXPECT_EQ(d.total, 1);
  EXPECT_EQ(d.sequence, 1);
  // An escape to an undefined extension shows the base character; a trailing escape and
  // an octet above 0x7F cannot be decoded.
  EXPECT_EQ(decodePart(0x00,
                       "\x1B"
                       "A",
                       false)
                .text,
            "A");
  EXPECT_EQ(decodePart(0x00, "A\x1B", false).text, "A\xEF\xBF\xBD");
  EXPECT_EQ(decodePart(0x00, "\xC1", false).text, "\xEF\xBF\xBD");
}

TEST(SmsText, DecodeOtherCodings) {
  EXPECT_EQ(decodePart(0x01, "plain @ text", false).text, "plain @ text");
  EXPECT_EQ(decodePart(0x01, "a\xE9", false).text, "a\xEF\xBF\xBD");
  EXPECT_EQ(decodePart(0x03, "caf\xE9", false).text, "caf\xC3\xA9");
  EXPECT_EQ(decodePart(0x04, "\xFF", false).text, "\xC3\xBF");
  EXPECT_EQ(decodePart(0x08, std::string("\x04\x36\x00\x61\xD8\x3D\xDE\x00", 8), false).text,
            kZhe + "a" + kGrin);
  // A lone low surrogate, a high one without its pair, and an odd last octet.
  EXPECT_EQ(decodePart(0x08, std::string("\xDE\x00\x00\x61", 4), false).text,
            "\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(decodePart(0x08, std::string("\xD8\x3D\x00\x61", 4), false).text,
            "\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(decodePart(0x08, std::string("\x00\x61\x00", 3), false).text, "a\xEF\xBF\xBD");
}

TEST(SmsText, DecodeUdh) {
  DecodedPart d8 = decodePart(0x00, kUdhPrefix + "\x2A\x03\x02" + "abc", true);
  EXPECT_EQ(d8.text, "abc");
  EXPECT_EQ(d8.reference, std::optional<uint16_t>(0x2A));
  EXPECT_EQ(d8.total, 3);
  EXPECT_EQ(d8.sequence, 2);
  // 16-bit reference (IE 0x08), after another IE (0x24, national language single shift).
  std::string udh16("\x09\x24\x01\x00\x08\x04\x12\x34\x02\x01", 10);
  DecodedPart d16 = decodePart(0x08, udh16 + std::string("\x00\x41", 2), true);
  EXPECT_EQ(d16.text, "A");
  EXPECT_EQ(d16.reference, std::optional<uint16_t>(0x1234));
  EXPECT_EQ(d16.total, 2);
  EXPECT_EQ(d16.sequence, 1);
  // A sequence outside 1..total makes the IE ignored; the text still comes through.
  DecodedPart bad = decodePart(0x00, kUdhPrefix + "\x01\x02\x03" + "xy", true);
  EXPECT_EQ(bad.text, "xy");
  EXPECT_FALSE(bad.reference.has_value());
  EXPECT_EQ(bad.total, 1);
  EXPECT_FALSE(decodePart(0x00, kUdhPrefix + std::string("\x01\x00\x00", 3), true).reference);
  // A UDH length past the end leaves no text; an empty message is fine.
  EXPECT_EQ(decodePart(0x00, "\x20\x00\x03", true).text, "");
  EXPECT_EQ(decodePart(0x00, "", true).text, "");
  // Without has_udh the same octets are text.
  EXPECT_EQ(decodePart(0x03, "\x05", false).text, "\x05");
}

DecodedPart concat(uint16_t ref, uint8_t total, uint8_t seq, std::string text) {
  DecodedPart p;
  p.reference = ref;
  p.total = total;
  p.sequence = seq;
  p.text = std::move(text);
  return p;
}

TEST(Reassembler, SinglePartPassesThrough) {
  Reassembler r;
  DecodedPart p;
  p.text = "hello";
  EXPECT_EQ(r.add("a", "b", p, 0), std::optional<std::string>("hello"));
  EXPECT_EQ(r.add("a", "b", concat(5, 1, 1, "one"), 0), std::optional<std::string>("one"));
  // A sequence beyond the total cannot be placed: it is delivered alone rather than lost.
  EXPECT_EQ(r.add("a", "b", concat(5, 2, 3, "odd"), 0), std::optional<std::string>("odd"));
  EXPECT_EQ(r.pending(), 0u);
}

TEST(Reassembler, OutOfOrderAndDuplicates) {
  Reassembler r;
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 3, "C"), 10));
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 1, "A"), 11));
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 1, "X"), 12));  // repeat: first copy kept
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.add("a", "b", concat(9, 3, 2, "B"), 13), std::optional<std::string>("ABC"));
  EXPECT_EQ(r.pending(), 0u);
  // A part resent after its message completed is recognised as a repeat...
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 3, "C"), 14));
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 1, "A"), 15));
  EXPECT_EQ(r.pending(), 0u);
  // ...while a different text under the same reference is the next message.
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 1, "D"), 16));
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 2, "E"), 16));
  EXPECT_EQ(r.add("a", "b", concat(9, 3, 3, "F"), 16), std::optional<std::string>("DEF"));
  // After the timeout the same text is a new message too.
  EXPECT_FALSE(r.add("a", "b", concat(9, 3, 1, "D"), 16 + 300));
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.expire(16 + 600), 1u);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(Reassembler, KeyedBySenderRecipientAndReference) {
  Reassembler r;
  EXPECT_FALSE(r.add("a", "b", concat(1, 2, 1, "a1"), 0));
  EXPECT_FALSE(r.add("c", "b", concat(1, 2, 1, "c1"), 0));
  EXPECT_FALSE(r.add("a", "d", concat(1, 2, 1, "d1"), 0));
  EXPECT_FALSE(r.add("a", "b", concat(2, 2, 1, "r1"), 0));
  EXPECT_EQ(r.pending(), 4u);
  EXPECT_EQ(r.add("c", "b", concat(1, 2, 2, "+"), 0), std::optional<std::string>("c1+"));
  EXPECT_EQ(r.add("a", "b", concat(2, 2, 2, "+"), 0), std::optional<std::string>("r1+"));
  EXPECT_EQ(r.add("a", "b", concat(1, 2, 2, "+"), 0), std::optional<std::string>("a1+"));
  EXPECT_EQ(r.pending(), 1u);
}

TEST(Reassembler, TimeoutAndRestart) {
  Reassembler r(60);
  EXPECT_FALSE(r.add("a", "b", concat(1, 2, 1, "old"), 100));
  EXPECT_FALSE(r.add("a", "c", concat(1, 2, 1, "x"), 150));
  EXPECT_EQ(r.expire(159), 0u);
  EXPECT_EQ(r.expire(160), 1u);
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.expire(209), 0u);
  EXPECT_EQ(r.expire(210), 1u);
  EXPECT_EQ(r.pending(), 0u);
  // A part that finds its message timed out (expire not called yet) starts it afresh.
  EXPECT_FALSE(r.add("a", "b", concat(3, 2, 1, "stale"), 0));
  EXPECT_FALSE(r.add("a", "b", concat(3, 2, 2, "new2"), 60));
  EXPECT_EQ(r.add("a", "b", concat(3, 2, 1, "new1"), 61), std::optional<std::string>("new1new2"));
  // A different total with the same reference is a different message.
  EXPECT_FALSE(r.add("a", "b", concat(4, 3, 1, "x"), 70));
  EXPECT_FALSE(r.add("a", "b", concat(4, 2, 1, "p"), 71));
  EXPECT_EQ(r.add("a", "b", concat(4, 2, 2, "q"), 72), std::optional<std::string>("pq"));
  // Hostile clocks do not overflow.
  EXPECT_FALSE(r.add("a", "b", concat(5, 2, 1, "x"), INT64_MIN));
  EXPECT_EQ(r.expire(INT64_MAX), 1u);
}

TEST(Reassembler, BoundedByMaxPending) {
  Reassembler r(300, 3);
  for (uint16_t ref = 0; ref < 5; ++ref) EXPECT_FALSE(r.add("a", "b", concat(ref, 2, 1, "x"), ref));
  EXPECT_EQ(r.pending(), 3u);
  EXPECT_EQ(r.evicted(), 2u);
  // The two oldest (0 and 1) were given up; their second part starts a new message.
  EXPECT_FALSE(r.add("a", "b", concat(0, 2, 2, "y"), 6));
  EXPECT_EQ(r.evicted(), 3u);
  EXPECT_EQ(r.add("a", "b", concat(4, 2, 2, "y"), 7), std::optional<std::string>("xy"));
}

// A body of n characters cycling through `alphabet`'s characters.
std::string body(const std::vector<std::string>& alphabet, size_t n, size_t shift) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[(i * 7 + shift) % alphabet.size()];
  return out;
}

void roundTrip(const std::string& text, TextEncoding expected, std::mt19937& rng) {
  auto inf = analyzeText(text);
  ASSERT_TRUE(inf.has_value());
  ASSERT_EQ(inf->encoding, expected);
  auto enc = encodeParts(text, uint8_t(text.size()));
  ASSERT_TRUE(enc.has_value());
  ASSERT_EQ(enc->size(), inf->segments);
  std::vector<DecodedPart> decoded;
  for (const EncodedPart& p : *enc) {
    ASSERT_LE(p.bytes.size(), expected == TextEncoding::kGsm7 ? 6u + 153u : 6u + 134u);
    if (enc->size() == 1) {
      ASSERT_LE(p.bytes.size(), expected == TextEncoding::kGsm7 ? 160u : 140u);
    }
    decoded.push_back(decodePart(p.data_coding, p.bytes, (p.esm_class & 0x40) != 0));
  }
  // Out of order, with one part repeated.
  std::shuffle(decoded.begin(), decoded.end(), rng);
  if (decoded.size() > 1) decoded.insert(decoded.begin() + 1, decoded.back());
  Reassembler r;
  std::optional<std::string> whole;
  for (size_t k = 0; k < decoded.size(); ++k) {
    auto got = r.add("15550100", "15550199", decoded[k], 0);
    if (got) {
      ASSERT_FALSE(whole.has_value());
      whole = got;
    }
  }
  ASSERT_TRUE(whole.has_value()) << text.size();
  ASSERT_EQ(*whole, text);
  ASSERT_EQ(r.pending(), 0u);
}

TEST(SmsText, RoundTripGsm7From1To1600) {
  const std::vector<std::string> gsm = {"a",        "Z", "0",   " ",  "@",  "\xC2\xA3",
                                        "\xCE\xA9", "{", kEuro, "\n", "\\", "~",
                                        "\xC3\xBC", "|", "^",   "\f"};
  std::mt19937 rng(6);
  for (size_t n = 1; n <= 1600; ++n) {
    SCOPED_TRACE(n);
    roundTrip(body(gsm, n, n), TextEncoding::kGsm7, rng);
  }
}

TEST(SmsText, RoundTripUcs2From1To1600) {
  const std::vector<std::string> ucs = {kZhe,  "a", kGrin,      "\xE4\xB8\xAD",
                                        kEuro, "{", "\xC3\xA7", "\xF0\x9F\x87\xAB"};
  std::mt19937 rng(7);
  for (size_t n = 1; n <= 1600; ++n) {
    SCOPED_TRACE(n);
    roundTrip(kZhe + body(ucs, n - 1, n), TextEncoding::kUcs2, rng);
  }
}

}  // namespace
