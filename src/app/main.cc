// The switchboard binary: one process for the whole platform. Its command line is stable
// (DESIGN.md, "Command line") because scripts and tests drive it; this file only dispatches
// to the subcommands.
#include <iostream>
#include <string>
#include <vector>

#include "app/admin.h"
#include "app/pcap_command.h"
#include "app/serve.h"
#include "app/sip_lint.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

namespace {

constexpr const char* kUsage =
    "usage: switchboard COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--set KEY=VALUE ...] [--check]\n"
    "        run the platform; every key has a default (SQLite in ./data), --set overrides\n"
    "        any key, --check validates and prints the configuration, then exits\n"
    "  sip lint FILE...\n"
    "        parse each file as one SIP message: 'FILE valid', 'FILE invalid CODE' or\n"
    "        'FILE invalid drop', then the reason; exit 0 when all are valid, 1 otherwise\n"
    "  pcap analyze FILE [--json] [--call-id ID]\n"
    "                                  calls, SIP errors, codecs, RTP loss/jitter, RTCP, DTMF\n"
    "  pcap split FILE --out DIR [--audio]\n"
    "                                  one capture per call (and G.711 audio as WAV)\n"
    "  admin [--config FILE] [--set KEY=VALUE ...] VERB ...\n"
    "        provisioning from the shell, printing JSON:\n"
    "          sip-user add --domain DOMAIN --user USER --password PASSWORD [--account SID]\n"
    "          sip-user list --domain DOMAIN | sip-user remove --domain DOMAIN --user USER\n"
    "  status                          counters of a running server (not yet)\n"
    "  help, --help                    this text\n"
    "  version, --version              the version\n"
    "\n"
    "Configuration keys: config/switchboard.example.yaml\n";

int notImplemented(const std::string& command) {
  std::cerr << "switchboard " << command << ": not implemented yet\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());

  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "switchboard " << SB_VERSION << "\n";
    return 0;
  }
  if (command == "serve") return runServe(rest);
  if (command == "sip") {
    if (!rest.empty() && rest.front() == "lint") {
      return runSipLint({rest.begin() + 1, rest.end()}, std::cout, std::cerr);
    }
    std::cerr << "usage: switchboard sip lint FILE...\n";
    return 2;
  }
  if (command == "admin") return runAdmin(rest, std::cout, std::cerr);
  if (command == "pcap") return runPcap(rest, std::cout, std::cerr);
  if (command == "status") {
    return notImplemented(command);
  }
  std::cerr << "switchboard: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
