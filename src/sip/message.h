// A SIP request or response (RFC 3261 §7). The message owns its bytes once; the start line,
// header names and values are views into them, and typed headers (Via, From, To, CSeq,
// Contact, ...) are parsed on first use and cached. A proxy changes a message by recording
// edits (push Via, pop Route, add Record-Route, new Request-URI, Max-Forwards - 1) that
// serialize() applies while writing; an unedited message serializes byte for byte.
//
//   auto msg = sip::Message::parse(datagram);
//   if (!msg) return reply(msg.error().status);           // 400, 505, 513 or drop (0)
//   const auto& vias = msg->vias();                      // parsed now, cached
//   msg->edits().pushVia("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1");
//   msg->edits().decrementMaxForwards();
//   send(msg->serialize());
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "common/result.h"
#include "sip/auth.h"
#include "sip/headers.h"
#include "sip/uri.h"

namespace sip {

inline constexpr size_t kDefaultMaxMessageBytes = 64 * 1024;

struct ParseOptions {
  // Datagram (UDP): Content-Length may be absent (the body is the rest) and octets after
  // the body are ignored. Stream: the framer has already cut the message at its end.
  bool datagram = true;
  // Larger messages are refused with 513 Message Too Large.
  size_t max_bytes = kDefaultMaxMessageBytes;
  // For observers (capture analysis), not servers: a Request-URI that does not parse (e.g.
  // an unbracketed IPv6 address, as some phones send) is kept as text; requestUri() is then
  // empty. A server must answer such a request with 400, so it leaves this off.
  bool lenient_request_uri = false;
};

struct HeaderField {
  std::string_view name;    // as written ("v", "MaX-fOrWaRdS")
  std::string_view value;   // trimmed; a folded value keeps its inner line breaks
  uint32_t line_begin = 0;  // offset of the name in the message
  uint32_t line_end = 0;    // offset just past the line's CRLF
  HeaderId id = HeaderId::kOther;
};

// Proxy edits, applied by serialize() in the order RFC 3261 §16.6 makes them.
class MessageEdits {
 public:
  void setRequestUri(std::string uri) { request_uri_ = std::move(uri); }
  // The new topmost Via value, e.g. "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...".
  void pushVia(std::string value) { pushed_vias_.push_back(std::move(value)); }
  // Removes the topmost Via value (a response travelling back through a proxy).
  void popVia() { ++via_pops_; }
  // Writes `value` in place of the received topmost Via value: a server stamping
  // received= and rport= (RFC 3261 §18.2.1, RFC 3581) before it forwards the request.
  void replaceTopVia(std::string value) { top_via_ = std::move(value); }
  void popRoute() { ++route_pops_; }
  // Prepends a Record-Route value, e.g. "<sip:192.0.2.1;lr>".
  void addRecordRoute(std::string value) { record_routes_.push_back(std::move(value)); }
  // Max-Forwards minus one; a request without the header gets "Max-Forwards: 70".
  void decrementMaxForwards() { decrement_max_forwards_ = true; }
  void removeHeader(size_t index) { removed_.push_back(index); }
  void addHeader(std::string name, std::string value) {
    added_.push_back({std::move(name), std::move(value)});
  }
  bool empty() const {
    return !request_uri_ && !top_via_ && pushed_vias_.empty() && via_pops_ == 0 &&
           route_pops_ == 0 && record_routes_.empty() && !decrement_max_forwards_ &&
           removed_.empty() && added_.empty();
  }

 private:
  friend class Message;
  std::optional<std::string> request_uri_;
  std::optional<std::string> top_via_;
  boost::container::small_vector<std::string, 1> pushed_vias_;
  boost::container::small_vector<std::string, 1> record_routes_;
  boost::container::small_vector<size_t, 2> removed_;
  boost::container::small_vector<std::pair<std::string, std::string>, 2> added_;
  uint32_t via_pops_ = 0;
  uint32_t route_pops_ = 0;
  bool decrement_max_forwards_ = false;
};

class Message {
  // Passkey: only parse() makes messages, but Result's storage needs a public constructor.
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit Message(Key) {}
  using Headers = boost::container::small_vector<HeaderField, 20>;

  // Parses one message from `bytes` (copied once into the message). Errors carry the status
  // a server answers with: 400, 505 (version), 513 (too large), or 0 for a response or
  // anything that gets no answer.
  static common::Result<Message> parse(std::string_view bytes, const ParseOptions& opts = {});

  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  bool isRequest() const { return status_code_ == 0; }
  bool isResponse() const { return status_code_ != 0; }

  // Request line.
  Method method() const { return method_; }
  std::string_view methodText() const { return method_text_; }
  std::string_view requestUriText() const { return request_uri_text_; }
  const Uri& requestUri() const { return request_uri_; }
  // Status line.
  int statusCode() const { return status_code_; }
  std::string_view reasonPhrase() const { return reason_; }
  std::string_view version() const { return version_; }

  const Headers& headers() const { return headers_; }
  // The first field with this id / name (compact forms match their long names).
  const HeaderField* findHeader(HeaderId id) const;
  const HeaderField* findHeader(std::string_view name) const;
  std::string_view headerValue(HeaderId id) const {
    const HeaderField* h = findHeader(id);
    return h ? h->value : std::string_view();
  }
  size_t headerCount(HeaderId id) const { return counts_[size_t(id)]; }

  std::string_view body() const { return body_; }
  // The message as received: start line to the end of the body (datagram trailers excluded).
  std::string_view raw() const { return std::string_view(buf_.get(), size_); }

  // Typed headers, parsed on first use and cached. A missing header is ErrorCode::kNotFound;
  // a repeated single-valued header or a malformed value is kInvalidArgument with status 400.
  const common::Result<ViaList>& vias() const;
  const common::Result<NameAddr>& from() const;
  const common::Result<NameAddr>& to() const;
  const common::Result<std::string_view>& callId() const;
  const common::Result<CSeq>& cseq() const;
  const common::Result<ContactList>& contacts() const;
  const common::Result<NameAddrList>& routes() const;
  const common::Result<NameAddrList>& recordRoutes() const;
  const common::Result<NameAddrList>& paths() const;
  common::Result<uint32_t> maxForwards() const;
  common::Result<uint32_t> expires() const;
  std::optional<uint32_t> contentLength() const { return content_length_; }
  common::Result<MediaType> contentType() const;
  // Tokens of every field with this id (Require, Proxy-Require, Supported, Unsupported,
  // Allow), in order.
  common::Result<TokenList> tokens(HeaderId id) const;
  // Authorization / Proxy-Authorization: the first field, or the first whose realm is
  // `realm` (a request may carry credentials for several realms, §22.3).
  common::Result<Credentials> credentials(HeaderId id, std::string_view realm = {}) const;
  // WWW-Authenticate / Proxy-Authenticate: the first field.
  common::Result<Challenge> challenge(HeaderId id) const;

  MessageEdits& edits() { return edits_; }
  const MessageEdits& edits() const { return edits_; }

  // Wire form with the recorded edits applied (Content-Length is kept: edits never touch
  // the body).
  std::string serialize() const;
  void serializeTo(std::string& out) const;

 private:
  common::Result<void> parseBytes(const ParseOptions& opts);
  common::Result<void> parseStartLine(std::string_view line, const ParseOptions& opts);
  template <typename T, typename ParseFn>
  const common::Result<T>& single(std::optional<common::Result<T>>& cache, HeaderId id,
                                  ParseFn&& fn) const;
  template <typename List, typename ParseFn>
  const common::Result<List>& multi(std::optional<common::Result<List>>& cache, HeaderId id,
                                    ParseFn&& fn) const;
  void writeEditedHeaders(std::string& out) const;

  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;
  uint32_t start_begin_ = 0;    // first octet of the start line
  uint32_t headers_begin_ = 0;  // first octet of the first header field
  uint32_t headers_end_ = 0;    // the empty line that ends the header fields

  std::string_view method_text_;
  std::string_view request_uri_text_;
  std::string_view version_;
  std::string_view reason_;
  std::string_view body_;
  Uri request_uri_;
  Method method_ = Method::kOther;
  int status_code_ = 0;
  std::optional<uint32_t> content_length_;

  Headers headers_;
  uint16_t first_[size_t(HeaderId::kCount)];
  uint16_t counts_[size_t(HeaderId::kCount)] = {};

  mutable std::optional<common::Result<ViaList>> vias_;
  mutable std::optional<common::Result<NameAddr>> from_;
  mutable std::optional<common::Result<NameAddr>> to_;
  mutable std::optional<common::Result<std::string_view>> call_id_;
  mutable std::optional<common::Result<CSeq>> cseq_;
  mutable std::optional<common::Result<ContactList>> contacts_;
  mutable std::optional<common::Result<NameAddrList>> routes_;
  mutable std::optional<common::Result<NameAddrList>> record_routes_;
  mutable std::optional<common::Result<NameAddrList>> paths_;

  MessageEdits edits_;
};

}  // namespace sip
