// The request framing rule of RFC 9112 §6 for Transfer-Encoding, checked on the header before
// any body byte is read: chunked must be the final coding (else the body length is unknown:
// 400 and close), and this server decodes no other coding (501). Internal to the api part.
//
//   auto v = api::internal::checkTransferEncoding("gzip, chunked", 11);
//   if (v.status) refuse(v.status, v.reason);  // 501 here
#pragma once

#include <string_view>

namespace api::internal {

struct FramingVerdict {
  int status = 0;  // 0: the framing is acceptable; else 400 or 501, and the connection closes
  std::string_view reason;
};

// `te` holds every Transfer-Encoding field of the request joined as one list ("a, b"); it is
// only called when at least one such field is present. `version` is 10 or 11.
FramingVerdict checkTransferEncoding(std::string_view te, unsigned version);

}  // namespace api::internal
