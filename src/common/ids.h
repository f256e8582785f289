// Identifiers: Twilio-shaped SIDs for every resource the platform creates (accounts, numbers,
// messages, calls ...), so that every part mints them the same way.
//
//   std::string sid = common::newSid("SM");  // "SM" + 32 lower-case hex digits
#pragma once

#include <string>
#include <string_view>

namespace common {

// `prefix` + 32 lower-case hex digits: 128 bits from the OS's random generator (getrandom),
// so SIDs do not repeat and do not reveal how many came before.
std::string newSid(std::string_view prefix);

}  // namespace common
