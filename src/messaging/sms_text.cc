#include "messaging/sms_text.h"

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <utility>

namespace messaging {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr uint8_t kEscape = 0x1B;

// Septets per segment: alone, and in a part of a concatenated message (the 6-octet UDH takes
// 7 septets of the 140 octets); UTF-16 units likewise (the UDH takes 3 of 70 units).
constexpr size_t kGsmSingle = 160;
constexpr size_t kGsmMulti = 153;
constexpr size_t kUcsSingle = 70;
constexpr size_t kUcsMulti = 67;

// GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet, indexed by septet. 0x1B is the escape
// to the extension table and maps to no character.
constexpr std::array<char16_t, 128> kGsmBase = {
    u'@',      u'\u00A3', u'$',      u'\u00A5', u'\u00E8', u'\u00E9', u'\u00F9', u'\u00EC',
    u'\u00F2', u'\u00C7', u'\n',     u'\u00D8', u'\u00F8', u'\r',     u'\u00C5', u'\u00E5',
    u'\u0394', u'_',      u'\u03A6', u'\u0393', u'\u039B', u'\u03A9', u'\u03A0', u'\u03A8',
    u'\u03A3', u'\u0398', u'\u039E', u'\uFFFF', u'\u00C6', u'\u00E6', u'\u00DF', u'\u00C9',
    u' ',      u'!',      u'"',      u'#',      u'\u00A4', u'%',      u'&',      u'\'',
    u'(',      u')',      u'*',      u'+',      u',',      u'-',      u'.',      u'/',
    u'0',      u'1',      u'2',      u'3',      u'4',      u'5',      u'6',      u'7',
    u'8',      u'9',      u':',      u';',      u'<',      u'=',      u'>',      u'?',
    u'\u00A1', u'A',      u'B',      u'C',      u'D',      u'E',      u'F',      u'G',
    u'H',      u'I',      u'J',      u'K',      u'L',      u'M',      u'N',      u'O',
    u'P',      u'Q',      u'R',      u'S',      u'T',      u'U',      u'V',      u'W',
    u'X',      u'Y',      u'Z',      u'\u00C4', u'\u00D6', u'\u00D1', u'\u00DC', u'\u00A7',
    u'\u00BF', u'a',      u'b',      u'c',      u'd',      u'e',      u'f',      u'g',
    u'h',      u'i',      u'j',      u'k',      u'l',      u'm',      u'n',      u'o',
    u'p',      u'q',      u'r',      u's',      u't',      u'u',      u'v',      u'w',
    u'x',      u'y',      u'z',      u'\u00E4', u'\u00F6', u'\u00F1', u'\u00FC', u'\u00E0',
};

// The extension table: the septet after ESC and the character it stands for.
struct ExtEntry {
  uint8_t septet;
  char16_t ch;
};
constexpr std::array<ExtEntry, 10> kGsmExt = {{{0x0A, u'\f'},
                                               {0x14, u'^'},
                                               {0x28, u'{'},
                                               {0x29, u'}'},
                                               {0x2F, u'\\'},
                                               {0x3C, u'['},
                                               {0x3D, u'~'},
                                               {0x3E, u']'},
                                               {0x40, u'|'},
                                               {0x65, u'\u20AC'}}};

// Every character of the default alphabet lies below U+0400 (Greek capitals end at U+03A9).
constexpr size_t kReverseSize = 0x400;
using ReverseTable = std::array<int16_t, kReverseSize>;

ReverseTable buildReverse() {
  ReverseTable r;
  r.fill(-1);
  for (size_t i = 0; i < kGsmBase.size(); ++i) {
    if (i != kEscape) r[kGsmBase[i]] = int16_t(i);
  }
  return r;
}

// The septet of `cp` in the default alphabet, or -1.
int gsmBase(char32_t cp) {
  static const ReverseTable reverse = buildReverse();
  return cp < kReverseSize ? reverse[cp] : -1;
}

// The septet that follows ESC for `cp` in the extension table, or -1.
int gsmExt(char32_t cp) {
  for (const ExtEntry& e : kGsmExt) {
    if (e.ch == cp) return e.septet;
  }
  return -1;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
common::Result<std::u32string> decodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "invalid UTF-8 lead byte at offset " + std::to_string(i));
    }
    if (i + len > s.size()) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "truncated UTF-8 sequence at offset " + std::to_string(i));
    }
    for (size_t k = 1; k < len; ++k) {
      uint8_t c = uint8_t(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        return common::makeError(common::ErrorCode::kInvalidArgument,
                                 "invalid UTF-8 continuation at offset " + std::to_string(i + k));
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "overlong UTF-8 sequence at offset " + std::to_string(i));
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "UTF-8 encoded surrogate at offset " + std::to_string(i));
    }
    if (cp > 0x10FFFF) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "code point above U+10FFFF at offset " + std::to_string(i));
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Whether `timeout_s` has passed from `since` to `now` (hostile clocks must not overflow).
bool timedOut(int64_t since, int64_t now, int64_t timeout_s) {
  int64_t age = 0;
  if (__builtin_sub_overflow(now, since, &age)) return now > since;
  return age >= timeout_s;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

// The text as a list of characters, each with the units it takes in its encoding.
struct Plan {
  TextEncoding encoding = TextEncoding::kGsm7;
  std::u32string chars;
  std::vector<uint8_t> units;  // per character: septets (1 or 2) or UTF-16 units (1 or 2)
  size_t total_units = 0;
  // Where each part starts (indexes into chars); one entry for a single-part text.
  std::vector<size_t> part_starts;
};

common::Result<Plan> plan(std::string_view utf8) {
  auto chars = decodeUtf8(utf8);
  if (!chars) return chars.error();
  Plan p;
  p.chars = std::move(*chars);
  bool gsm = true;
  for (char32_t c : p.chars) {
    if (gsmBase(c) < 0 && gsmExt(c) < 0) {
      gsm = false;
      break;
    }
  }
  p.encoding = gsm ? TextEncoding::kGsm7 : TextEncoding::kUcs2;
  p.units.reserve(p.chars.size());
  for (char32_t c : p.chars) {
    uint8_t u = gsm ? (gsmBase(c) >= 0 ? 1 : 2) : (c > 0xFFFF ? 2 : 1);
    p.units.push_back(u);
    p.total_units += u;
  }
  size_t single = gsm ? kGsmSingle : kUcsSingle;
  size_t multi = gsm ? kGsmMulti : kUcsMulti;
  p.part_starts.push_back(0);
  if (p.total_units > single) {
    // Greedy filling: a character whose units do not fit whole starts the next part, so an
    // escape pair or a surrogate pair is never cut.
    size_t used = 0;
    for (size_t i = 0; i < p.units.size(); ++i) {
      if (used + p.units[i] > multi) {
        p.part_starts.push_back(i);
        used = 0;
      }
      used += p.units[i];
    }
  }
  return p;
}

void appendCharBytes(std::string& out, TextEncoding enc, char32_t c) {
  if (enc == TextEncoding::kGsm7) {
    int base = gsmBase(c);
    if (base >= 0) {
      out.push_back(char(base));
    } else {
      out.push_back(char(kEscape));
      out.push_back(char(gsmExt(c)));
    }
    return;
  }
  auto put16 = [&out](uint32_t v) {
    out.push_back(char((v >> 8) & 0xFF));
    out.push_back(char(v & 0xFF));
  };
  if (c > 0xFFFF) {
    uint32_t v = uint32_t(c) - 0x10000;
    put16(0xD800 + (v >> 10));
    put16(0xDC00 + (v & 0x3FF));
  } else {
    put16(uint32_t(c));
  }
}

std::string decodeGsm(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    uint8_t b = uint8_t(s[i]);
    if (b > 0x7F) {
      appendUtf8(out, kReplacement);
    } else if (b != kEscape) {
      appendUtf8(out, kGsmBase[b]);
    } else if (i + 1 >= s.size()) {
      appendUtf8(out, kReplacement);  // an escape with nothing after it
    } else {
      uint8_t next = uint8_t(s[++i]);
      char32_t ch = kReplacement;
      for (const ExtEntry& e : kGsmExt) {
        if (e.septet == next) ch = e.ch;
      }
      // TS 23.038: an escape to an undefined extension shows the default-alphabet character.
      if (ch == kReplacement && next <= 0x7F && next != kEscape) ch = kGsmBase[next];
      appendUtf8(out, ch);
    }
  }
  return out;
}

std::string decodeAscii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) appendUtf8(out, uint8_t(c) < 0x80 ? char32_t(uint8_t(c)) : kReplacement);
  return out;
}

std::string decodeLatin1(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) appendUtf8(out, uint8_t(c));
  return out;
}

std::string decodeUcs2(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3 / 2);
  size_t i = 0;
  auto unit = [&s](size_t at) { return char32_t((uint8_t(s[at]) << 8) | uint8_t(s[at + 1])); };
  while (i + 1 < s.size()) {
    char32_t u = unit(i);
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < s.size()) {
        char32_t low = unit(i);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          appendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
          i += 2;
          continue;
        }
      }
      appendUtf8(out, kReplacement);  // a high surrogate without its low half
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      appendUtf8(out, kReplacement);  // a low surrogate alone
    } else {
      appendUtf8(out, u);
    }
  }
  if (i < s.size()) appendUtf8(out, kReplacement);  // an odd octet at the end
  return out;
}

}  // namespace

const char* encodingName(TextEncoding e) {
  return e == TextEncoding::kGsm7 ? "GSM-7" : "UCS-2";
}

common::Result<TextInfo> analyzeText(std::string_view utf8) {
  auto p = plan(utf8);
  if (!p) return p.error();
  TextInfo info;
  info.encoding = p->encoding;
  info.characters = p->chars.size();
  info.units = p->total_units;
  info.segments = p->part_starts.size();
  return info;
}

common::Result<std::vector<EncodedPart>> encodeParts(std::string_view utf8, uint8_t reference) {
  auto p = plan(utf8);
  if (!p) return p.error();
  size_t total = p->part_starts.size();
  if (total > 255) {
    return common::makeError(common::ErrorCode::kTooLarge,
                             "text needs " + std::to_string(total) + " parts; at most 255 fit");
  }
  uint8_t dc = p->encoding == TextEncoding::kGsm7 ? 0x00 : 0x08;
  std::vector<EncodedPart> parts;
  parts.reserve(total);
  for (size_t k = 0; k < total; ++k) {
    EncodedPart part;
    part.data_coding = dc;
    if (total > 1) {
      part.esm_class = 0x40;
      // UDH: length 5, IE 0x00 (concatenation, 8-bit reference) of 3 octets.
      part.bytes = {0x05, 0x00, 0x03, char(reference), char(total), char(k + 1)};
    }
    size_t end = k + 1 < total ? p->part_starts[k + 1] : p->chars.size();
    for (size_t i = p->part_starts[k]; i < end; ++i) {
      appendCharBytes(part.bytes, p->encoding, p->chars[i]);
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

DecodedPart decodePart(uint8_t data_coding, std::string_view bytes, bool has_udh) {
  DecodedPart out;
  std::string_view body = bytes;
  if (has_udh && !bytes.empty()) {
    size_t udhl = uint8_t(bytes[0]);
    // A UDH longer than the message leaves no text; its IEs are read as far as they go.
    size_t end = std::min(bytes.size(), 1 + udhl);
    std::string_view udh = bytes.substr(1, end - 1);
    body = bytes.substr(end);
    size_t i = 0;
    while (i + 2 <= udh.size()) {
      uint8_t iei = uint8_t(udh[i]);
      size_t len = uint8_t(udh[i + 1]);
      if (i + 2 + len > udh.size()) break;
      std::string_view data = udh.substr(i + 2, len);
      std::optional<uint16_t> ref;
      uint8_t total = 0, seq = 0;
      if (iei == 0x00 && len == 3) {
        ref = uint8_t(data[0]);
        total = uint8_t(data[1]);
        seq = uint8_t(data[2]);
      } else if (iei == 0x08 && len == 4) {
        ref = uint16_t((uint8_t(data[0]) << 8) | uint8_t(data[1]));
        total = uint8_t(data[2]);
        seq = uint8_t(data[3]);
      }
      // TS 23.040 §9.2.3.24.1: a total of 0, or a sequence outside 1..total, makes the IE
      // to be ignored.
      if (ref && total >= 1 && seq >= 1 && seq <= total) {
        out.reference = ref;
        out.total = total;
        out.sequence = seq;
      }
      i += 2 + len;
    }
  }
  switch (data_coding) {
    case 0x00:
      out.text = decodeGsm(body);
      break;
    case 0x01:
      out.text = decodeAscii(body);
      break;
    case 0x08:
      out.text = decodeUcs2(body);
      break;
    default:  // 0x03 Latin-1, and the rest read the same way rather than dropped
      out.text = decodeLatin1(body);
      break;
  }
  return out;
}

Reassembler::Reassembler(int64_t timeout_s, size_t max_pending)
    : timeout_s_(timeout_s), max_pending_(max_pending == 0 ? 1 : max_pending) {}

void Reassembler::drop(std::map<Key, Pending>::iterator it) {
  if (it->second.done) --done_;
  order_.erase(it->second.age);
  pending_.erase(it);
}

std::optional<std::string> Reassembler::add(std::string_view from, std::string_view to,
                                            const DecodedPart& part, int64_t now_s) {
  if (!part.reference || part.total <= 1 || part.sequence < 1 || part.sequence > part.total) {
    return part.text;
  }
  size_t index = part.sequence - 1;
  size_t digest = std::hash<std::string_view>()(part.text);
  Key key{std::string(from), std::string(to), *part.reference};
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    const Pending& p = it->second;
    bool fresh = p.total == part.total && !timedOut(p.since_s, now_s, timeout_s_);
    if (fresh && p.done && p.digests[index] == digest) return std::nullopt;  // a late repeat
    if (!fresh || p.done) {
      drop(it);
      it = pending_.end();
    }
  }
  if (it == pending_.end()) {
    while (pending_.size() >= max_pending_ && !order_.empty()) {
      auto oldest = pending_.find(order_.front());
      if (!oldest->second.done) ++evicted_;
      drop(oldest);
    }
    Pending fresh;
    fresh.since_s = now_s;
    fresh.total = part.total;
    fresh.parts.resize(part.total);
    fresh.digests.resize(part.total);
    order_.push_back(key);
    fresh.age = std::prev(order_.end());
    it = pending_.emplace(std::move(key), std::move(fresh)).first;
  }
  Pending& p = it->second;
  std::optional<std::string>& slot = p.parts[index];
  if (slot) return std::nullopt;  // a repeat
  slot = part.text;
  p.digests[index] = digest;
  if (++p.received < p.total) return std::nullopt;
  std::string whole;
  for (const auto& s : p.parts) whole += *s;
  p.parts.clear();
  p.parts.shrink_to_fit();
  p.done = true;
  p.since_s = now_s;
  ++done_;
  return whole;
}

size_t Reassembler::expire(int64_t now_s) {
  size_t dropped = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (timedOut(it->second.since_s, now_s, timeout_s_)) {
      if (!it->second.done) ++dropped;
      drop(it);
    }
    it = next;
  }
  return dropped;
}

size_t Reassembler::pending() const {
  return pending_.size() - done_;
}

}  // namespace messaging
