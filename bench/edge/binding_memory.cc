// Memory of the location service per registration binding: 100,000 REGISTERs (distinct
// AORs, realistic Contact, Call-ID, User-Agent and a NAT flow) go through the registrar's
// planRegister() into edge::Location, and the heap in use before and after (mallinfo2) is
// divided by the number of bindings. Prints one line; not a test.
//   build/bench/binding_memory [COUNT]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "edge/location.h"
#include "edge/registrar.h"

int main(int argc, char** argv) {
  size_t count = argc > 1 ? size_t(std::strtoul(argv[1], nullptr, 10)) : 100000;
  edge::Location location;
  edge::RegistrarOptions options;
  transport::Flow flow;
  flow.protocol = transport::Protocol::kUdp;
  flow.local = *transport::Address::parse("192.0.2.1:5060");
  const int64_t now = 1'800'000'000;
  size_t before = mallinfo2().uordblks;
  for (size_t i = 0; i < count; ++i) {
    std::string user = "u" + std::to_string(100000 + i);
    flow.remote = *transport::Address::parse("198.51.100." + std::to_string(i % 250 + 1) + ":" +
                                             std::to_string(10000 + i % 50000));
    std::string text =
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK" +
        user +
        ";rport\r\n"
        "From: <sip:" +
        user +
        "@example.com>;tag=8d3f1a\r\n"
        "To: <sip:" +
        user +
        "@example.com>\r\n"
        "Call-ID: 3c26700c5fd2-" +
        user +
        "@10.0.0.5\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Contact: <sip:" +
        user +
        "@10.0.0.5:5060;transport=udp>;expires=3600\r\n"
        "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
        "Content-Length: 0\r\n\r\n";
    auto msg = sip::Message::parse(text);
    if (!msg) return 2;
    auto plan = edge::planRegister(*msg, flow, {}, now, options);
    if (plan.status != 200) return 3;
    location.replace(plan.aor, std::move(plan.next));
  }
  size_t after = mallinfo2().uordblks;
  std::printf("bindings %zu, heap in use %.1f MiB, %.0f bytes per binding\n", location.size(),
              double(after - before) / (1 << 20), double(after - before) / double(count));
  return 0;
}
