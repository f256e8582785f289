// Builds a response to a request as RFC 3261 §8.2.6 says: the Via fields in order, From,
// To (with a tag added when the UAS sets one), Call-ID and CSeq copied; Timestamp copied into
// 100 Trying; a Content-Length always written. Extra headers and a body may be added.
//
//   std::string wire = sip::ResponseBuilder(request, 401)
//                          .header("WWW-Authenticate", challenge)
//                          .build();
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <boost/container/small_vector.hpp>

#include "sip/message.h"

namespace sip {

// "OK", "Trying", "Not Found" ...; a generic phrase for codes the RFCs do not name.
std::string_view defaultReasonPhrase(int status);

class ResponseBuilder {
 public:
  ResponseBuilder(const Message& request, int status, std::string_view reason = {});

  // The To tag of this UAS; ignored when the request's To already has one, and for 100.
  ResponseBuilder& toTag(std::string_view tag);
  // Copies the request's Record-Route fields (dialog-creating responses, §12.1.1).
  ResponseBuilder& copyRecordRoute();
  ResponseBuilder& header(std::string_view name, std::string_view value);
  ResponseBuilder& body(std::string_view content_type, std::string_view body);

  std::string build() const;

 private:
  const Message& request_;
  int status_;
  std::string_view reason_;
  std::string_view to_tag_;
  std::string_view content_type_;
  std::string_view body_;
  bool copy_record_route_ = false;
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 4> extra_;
};

}  // namespace sip
