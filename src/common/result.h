// Result<T>: a value or an Error, with the std::expected API (has_value, value, error, *, ->).
// g++ 12 in C++20 mode has no std::expected, so this small one stands in until the toolchain
// moves. Errors carry a code, a human-readable reason and, for SIP errors, the status to send.
//
//   Result<int> parsePort(std::string_view s);
//   auto port = parsePort("5060");
//   if (!port) return Error(port.error());
//   use(*port);
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace common {

enum class ErrorCode {
  kInvalidArgument,  // malformed input
  kIncomplete,       // more bytes are needed (stream framing)
  kTooLarge,         // input exceeds a configured bound
  kUnsupported,      // well-formed but not something we handle
  kNotFound,
  kIo,
  kInternal,
};

const char* errorCodeName(ErrorCode code);

// An error as it crosses a part's boundary. `status` is the SIP (or HTTP) status a server
// answers with; 0 means "no answer: drop" (e.g. a malformed response).
struct Error {
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string reason;
  int status = 0;

  Error() = default;
  Error(ErrorCode c, std::string r, int s = 0) : code(c), reason(std::move(r)), status(s) {}
};

// Tag type so that `return Unexpected{...}` reads well, as std::unexpected does.
struct Unexpected {
  Error error;
};

inline Unexpected makeError(ErrorCode code, std::string reason, int status = 0) {
  return Unexpected{Error(code, std::move(reason), status)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const T& v) : v_(std::in_place_index<0>, v) {}                     // NOLINT(implicit)
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}               // NOLINT(implicit)
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}             // NOLINT
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  const T& value() const& {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  T&& value() && {
    assert(has_value());
    return std::move(*std::get_if<0>(&v_));
  }
  const Error& error() const {
    assert(!has_value());
    return *std::get_if<1>(&v_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error. The error lives in an optional, so the success path
// (the common one, returned many times per parsed message) never builds a string.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)) {}  // NOLINT
  Result(Error e) : err_(std::move(e)) {}             // NOLINT

  bool has_value() const { return !err_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const {
    assert(err_.has_value());
    return *err_;
  }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;

}  // namespace common
