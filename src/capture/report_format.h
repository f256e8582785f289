// The two faces of a capture report: one JSON document (`pcap analyze --json`; the schema is
// docs/pcap.md) and a screen of text for a person.
#pragma once

#include <ostream>
#include <string>

#include "capture/report.h"

namespace capture {

std::string toJson(const Report& report);
void writeText(const Report& report, std::ostream& out);

}  // namespace capture
