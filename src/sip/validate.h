// The checks a SIP element makes on a parsed message before acting on it (RFC 3261 §8.2,
// §16.3 syntax, RFC 4475): the mandatory headers present once each, every header the stack
// relies on well-formed, CSeq method equal to the request method, scalar values in range.
// The error carries the status to answer (400) or 0 for a response, which is dropped.
//
//   auto msg = sip::Message::parse(bytes);
//   if (msg) if (auto ok = sip::validate(*msg); !ok) reply(ok.error().status);
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "sip/message.h"

namespace sip {

common::Status validate(const Message& msg);

// What a server does with one datagram: parse it and validate it. `status` is 0 for a
// message that is dropped without an answer (a malformed response).
struct Verdict {
  bool valid = false;
  int status = 0;
  std::string reason;
};
Verdict checkDatagram(std::string_view bytes, const ParseOptions& opts = {});

}  // namespace sip
