// A small JSON writer that appends to one string: the REST API's responses are built with it
// (a 50-item page is ~1,500 fields; building a DOM for each would cost more than the query).
// It does not check structure: callers write objects and arrays balanced, keys in objects.
//
//   api::JsonWriter w;
//   w.beginObject();
//   w.key("sid").string(sid);
//   w.key("price").null();
//   w.endObject();
//   send(w.take());
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace api {

class JsonWriter {
 public:
  JsonWriter() = default;
  explicit JsonWriter(size_t reserve) { buf_.resize(reserve); }
  JsonWriter& beginObject() { return open('{'); }
  JsonWriter& endObject() { return close('}'); }
  JsonWriter& beginArray() { return open('['); }
  JsonWriter& endArray() { return close(']'); }
  // Keys are the API's own field names: written as given, never escaped.
  JsonWriter& key(std::string_view k) {
    separate();
    put('"');
    put(k.data(), k.size());
    put('"');
    put(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& string(std::string_view v) {
    separate();
    quoted(v);
    return *this;
  }
  // A string, or null when absent.
  JsonWriter& optionalString(const std::optional<std::string>& v) {
    return v ? string(*v) : null();
  }
  // An empty string is written as null (Twilio sends null for unset URLs).
  JsonWriter& stringOrNull(std::string_view v) { return v.empty() ? null() : string(v); }
  JsonWriter& integer(int64_t v) {
    separate();
    std::string digits = std::to_string(v);
    put(digits.data(), digits.size());
    return *this;
  }
  JsonWriter& boolean(bool v) {
    separate();
    v ? put("true", 4) : put("false", 5);
    return *this;
  }
  JsonWriter& null() {
    separate();
    put("null", 4);
    return *this;
  }

  std::string_view view() const { return std::string_view(buf_).substr(0, len_); }
  std::string take() {
    buf_.resize(len_);
    len_ = 0;
    return std::move(buf_);
  }

 private:
  JsonWriter& open(char c) {
    separate();
    put(c);
    first_ = true;
    return *this;
  }
  JsonWriter& close(char c) {
    put(c);
    first_ = false;
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_ && len_ != 0) put(',');
    first_ = false;
  }
  // The output grows in a buffer of its own (len_ bytes used): appending a byte is a store,
  // not a call into std::string.
  [[gnu::always_inline]] void put(char c) {
    if (len_ == buf_.size()) [[unlikely]]
      grow(1);
    buf_[len_++] = c;
  }
  [[gnu::always_inline]] void put(const char* p, size_t n) {
    if (buf_.size() - len_ < n) [[unlikely]]
      grow(n);
    std::memcpy(buf_.data() + len_, p, n);
    len_ += n;
  }
  [[gnu::noinline]] void grow(size_t n) { buf_.resize(std::max(buf_.size() * 2, len_ + n + 256)); }

  // Whether any of the 8 bytes in `w` is below 0x20, '"' or '\\' (SWAR: one test per word).
  static bool needsEscape8(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    auto zeroByte = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    return (below_space | zeroByte(w ^ (kOnes * '"')) | zeroByte(w ^ (kOnes * '\\'))) != 0;
  }

  void quoted(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    put('"');
    // Runs of characters that need no escape are copied whole (most strings are one run).
    size_t run = 0, i = 0;
    while (i < s.size()) {
      if (s.size() - i >= 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (!needsEscape8(w)) {
          i += 8;
          continue;
        }
      }
      auto b = static_cast<unsigned char>(s[i]);
      ++i;
      if (b >= 0x20 && b != '"' && b != '\\') continue;
      put(s.data() + run, i - 1 - run);
      run = i;
      if (b == '"' || b == '\\') {
        const char esc[] = {'\\', char(b)};
        put(esc, sizeof esc);
      } else {
        const char esc[] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 15]};
        put(esc, sizeof esc);
      }
    }
    put(s.data() + run, s.size() - run);
    put('"');
  }

  std::string buf_;
  size_t len_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace api
