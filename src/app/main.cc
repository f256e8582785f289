// The switchboard binary: one process for the whole platform. The command line is stable
// (DESIGN.md): scripts and tests drive it.
#include <iostream>
#include <string>
#include <vector>

#include "app/serve.h"
#include "app/sip_lint.h"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kUsage =
    "usage: switchboard COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--set KEY=VALUE ...] [--check]\n"
    "                         run the platform (embedded defaults: SQLite in ./data)\n"
    "  sip lint FILE...       parse SIP messages: 'FILE valid', 'FILE invalid CODE' or\n"
    "                         'FILE invalid drop' per file; exit 0 when all are valid\n"
    "  pcap analyze FILE [--json]   call and stream report of a capture (not yet)\n"
    "  admin VERB ...         provisioning from the shell (not yet)\n"
    "  status                 uptime, sessions and limits of a running server (not yet)\n"
    "  help | --help          this text\n"
    "  version | --version\n";

int notYet(const std::string& what) {
  std::cerr << "switchboard " << what << ": not implemented yet\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "switchboard " << kVersion << "\n";
    return 0;
  }
  if (cmd == "serve") return runServe(rest);
  if (cmd == "sip") {
    if (!rest.empty() && rest[0] == "lint") {
      return runSipLint(std::vector<std::string>(rest.begin() + 1, rest.end()), std::cout,
                        std::cerr);
    }
    std::cerr << "usage: switchboard sip lint FILE...\n";
    return 2;
  }
  if (cmd == "pcap" || cmd == "admin" || cmd == "status") return notYet(cmd);
  std::cerr << "switchboard: unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}
