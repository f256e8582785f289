// `switchboard pcap analyze FILE [--json] [--call-id ID] [--media-timeout SECONDS]
//  [--no-inband-dtmf]` and `switchboard pcap split FILE --out DIR [--audio]`.
// Exit status: 0 when the capture was read to its end, 2 when it ended in an error (the
// report still holds everything before it and names the byte offset) or the command line
// is wrong, 1 when the file cannot be opened.
#pragma once

#include <ostream>
#include <string>
#include <vector>

int runPcap(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
