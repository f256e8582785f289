// The text of an SMS: which alphabet it needs (GSM 03.38 7-bit with its extension table, or
// UCS-2), how many segments it takes (160/153 septets, 70/67 UTF-16 units), its encoding into
// SMPP short_message parts with a concatenation UDH, and the decoding of received parts.
//
//   auto info = messaging::analyzeText(body);  // GSM-7, 2 segments
//   auto parts = messaging::encodeParts(body, /*reference=*/42);
//   for (const messaging::EncodedPart& p : *parts) submit(p.data_coding, p.esm_class, p.bytes);
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/result.h"

namespace messaging {

enum class TextEncoding { kGsm7, kUcs2 };
const char* encodingName(TextEncoding e);  // "GSM-7", "UCS-2"

struct TextInfo {
  TextEncoding encoding = TextEncoding::kGsm7;
  size_t characters = 0;  // Unicode code points
  size_t units = 0;       // septets (an extension character counts 2) or UTF-16 code units
  size_t segments = 0;    // 1 for an empty body
};

// kInvalidArgument for bytes that are not UTF-8.
common::Result<TextInfo> analyzeText(std::string_view utf8);

struct EncodedPart {
  uint8_t data_coding = 0;  // 0x00 SMSC default (GSM 7-bit, one septet per octet), 0x08 UCS-2
  uint8_t esm_class = 0;    // 0x40 (UDHI) on parts of a concatenated message
  std::string bytes;        // short_message: the UDH (when any) then the text
};

// One part for a body that fits one segment, otherwise one per segment, each with a UDH
// (IE 0x00, 8-bit `reference`, total, sequence from 1). A GSM-7 escape pair and a UTF-16
// surrogate pair are never split across parts. kInvalidArgument for bytes that are not UTF-8;
// kTooLarge for a text that needs more than 255 parts (the UDH counts parts in one octet).
common::Result<std::vector<EncodedPart>> encodeParts(std::string_view utf8, uint8_t reference);

// A received short_message to UTF-8: data_coding 0x00 and 0x01 as GSM 7-bit unpacked (one
// septet per octet; 0x01 as IA5/ASCII), 0x03 Latin-1, 0x08 UCS-2 (UTF-16BE; surrogates
// joined), others as Latin-1. `has_udh` strips the UDH first. Never fails: what cannot be
// decoded becomes U+FFFD.
struct DecodedPart {
  std::string text;
  // From the UDH (IE 0x00 or 0x08) when the part belongs to a concatenated message.
  std::optional<uint16_t> reference;
  uint8_t total = 1;
  uint8_t sequence = 1;
};
DecodedPart decodePart(uint8_t data_coding, std::string_view bytes, bool has_udh);

// Joins the parts of concatenated messages as they arrive, keyed by sender, recipient and
// reference; gives up on a message whose parts have not all come within `timeout_s`.
class Reassembler {
 public:
  explicit Reassembler(int64_t timeout_s = 300, size_t max_pending = 10000);
  // The whole text when `part` completes its message (or is not concatenated at all, or
  // carries a sequence outside 1..total). A repeated part is ignored (the first copy wins),
  // also when it comes after its message completed (an SMSC resending a deliver_sm whose
  // answer it lost): a completed message is remembered, by digests of its parts, for
  // `timeout_s`. A part whose total differs from the pending message's, or that finds it timed
  // out, or that differs from the completed message's part, starts a new message. At
  // `max_pending` (pending and remembered together) the oldest is given up.
  std::optional<std::string> add(std::string_view from, std::string_view to,
                                 const DecodedPart& part, int64_t now_s);
  // Drops messages older than the timeout; returns how many incomplete ones were dropped.
  size_t expire(int64_t now_s);
  // Incomplete messages waiting for parts.
  size_t pending() const;
  // Incomplete messages given up because `max_pending` was reached (not counting expired ones).
  size_t evicted() const { return evicted_; }

 private:
  // (from, to, reference): the 8-bit and 16-bit references share one space.
  using Key = std::tuple<std::string, std::string, uint16_t>;
  struct Pending {
    int64_t since_s = 0;  // first part, or completion once done
    uint8_t total = 0;
    size_t received = 0;
    bool done = false;
    std::vector<std::optional<std::string>> parts;  // by sequence - 1; emptied once done
    std::vector<size_t> digests;                    // of each part's text, by sequence - 1
    std::list<Key>::iterator age;                   // its place in order_
  };
  void drop(std::map<Key, Pending>::iterator it);

  int64_t timeout_s_;
  size_t max_pending_;
  std::map<Key, Pending> pending_;  // incomplete and recently completed messages
  std::list<Key> order_;            // oldest first: evicted first when max_pending_ is reached
  size_t done_ = 0;                 // how many entries of pending_ are completed
  size_t evicted_ = 0;
};

}  // namespace messaging
