#include "common/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

#include "common/strings.h"

namespace common {

std::string newSid(std::string_view prefix) {
  unsigned char raw[16];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n > 0) {
      got += size_t(n);
    } else if (errno != EINTR) {
      std::abort();  // no usable OS generator: nothing may be named from a guess
    }
  }
  std::string sid(prefix);
  appendHex(sid, raw, sizeof raw);
  return sid;
}

}  // namespace common
