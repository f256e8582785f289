#include "app/sip_lint.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "sip/validate.h"

int runSipLint(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "usage: switchboard sip lint FILE...\n";
    return 2;
  }
  int rc = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err << "switchboard: cannot read " << file << "\n";
      rc = 1;
      continue;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A file holds one message as a datagram would carry it (the RFC 4475 convention).
    sip::Verdict v = sip::checkDatagram(bytes);
    if (v.valid) {
      out << file << " valid\n";
      continue;
    }
    rc = 1;
    out << file << " invalid ";
    if (v.status == 0) {
      out << "drop";
    } else {
      out << v.status;
    }
    out << " " << v.reason << "\n";
  }
  return rc;
}
