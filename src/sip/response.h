// Builds a response to a request as RFC 3261 §8.2.6 says: the Via fields in order, From,
// To (with a tag added when the UAS sets one), Call-ID and CSeq copied; Timestamp copied into
// 100 Trying; a Content-Length always written. Extra headers and a body may be added.
//
//   std::string wire = sip::ResponseBuilder(request, 401)
//                          .header("WWW-Authenticate", challenge)
//                          .build();
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/container/small_vector.hpp>

#include "sip/message.h"

namespace sip {

// "OK", "Trying", "Not Found" ...; a generic phrase for codes the RFCs do not name.
std::string_view defaultReasonPhrase(int status);

// The topmost Via of a request as the server that received it from `source_ip`:`source_port`
// stamps it (§18.2.1, RFC 3581 §4): received= when the source address differs from the
// sent-by host, and rport=<source port> plus received= whenever the client asked for rport.
// nullopt when nothing needs stamping.
std::optional<std::string> receivedVia(const Via& via, const boost::asio::ip::address& source_ip,
                                       uint16_t source_port);

class ResponseBuilder {
 public:
  ResponseBuilder(const Message& request, int status, std::string_view reason = {});

  // The To tag of this UAS; ignored when the request's To already has one, and for 100.
  ResponseBuilder& toTag(std::string_view tag);
  // Copies the request's Record-Route fields (dialog-creating responses, §12.1.1).
  ResponseBuilder& copyRecordRoute();
  ResponseBuilder& header(std::string_view name, std::string_view value);
  ResponseBuilder& body(std::string_view content_type, std::string_view body);
  // The request came from this address: the response's top Via carries received= and
  // rport= as receivedVia() says (every response a server generates itself needs this).
  ResponseBuilder& receivedFrom(const boost::asio::ip::address& ip, uint16_t port);

  std::string build() const;

 private:
  const Message& request_;
  int status_;
  std::string_view reason_;
  std::string_view to_tag_;
  std::string_view content_type_;
  std::string_view body_;
  bool copy_record_route_ = false;
  std::optional<std::string> top_via_;  // the stamped topmost Via, when it changed
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 4> extra_;
};

}  // namespace sip
