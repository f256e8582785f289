// The checks a SIP element makes on a parsed message before acting on it (RFC 3261 §8.2,
// §16.3 syntax, RFC 4475): the mandatory headers present once each, every header the stack
// relies on well-formed, CSeq method equal to the request method, scalar values in range.
// The error carries the status to answer (400) or 0 for a message that is dropped: every
// bad response, and a request without Via (an answer would have no Via to travel by,
// §18.2.2).
//
// The guarantee: a message for which validate() succeeds has Via (at least one value),
// From, To, Call-ID and CSeq present and parsed, so vias()->front(), *from(), *to(),
// *callId() and *cseq() are safe on it. Max-Forwards is the exception: RFC 2543 clients do
// not send it (RFC 4475 inv2543 is valid), so it is checked only when present, and a proxy
// forwards a request without it with 70 (§16.6 step 3, MessageEdits::decrementMaxForwards).
// transport::Transport hands the layers above only messages that passed validate(); they
// rely on this and do not check again.
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
// The mandatory part of validate() alone: Via, From, To, Call-ID and CSeq present and
// well-formed. For code that builds or receives messages without going through the
// transport (the transaction layer's own entry check).
common::Status checkMandatory(const Message& msg);

// What a server does with one datagram: parse it and validate it. `status` is 0 for a
// message that is dropped without an answer (a malformed response).
struct Verdict {
  bool valid = false;
  int status = 0;
  std::string reason;
};
Verdict checkDatagram(std::string_view bytes, const ParseOptions& opts = {});

}  // namespace sip
