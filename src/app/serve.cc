#include "app/serve.h"

#include <pthread.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "app/options.h"
#include "app/sip_edge.h"
#include "common/config.h"
#include "common/log.h"

namespace {

// Blocks SIGTERM and SIGINT in the calling thread. Done before any thread starts, so every
// later thread inherits the mask and only sigwait() in waitForStop() takes these signals.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int waitForStop(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace

int runServe(const std::vector<std::string>& args) {
  auto opts = parseConfigOptions(args, {"--check"});
  if (!opts) {
    std::cerr << "switchboard serve: " << opts.error().reason << "\n";
    return 2;
  }
  if (!opts->positional.empty()) {
    std::cerr << "switchboard serve: unexpected argument '" << opts->positional.front() << "'\n";
    return 2;
  }
  auto cfg = common::Config::load(opts->config_file, opts->overrides);
  if (!cfg) {
    std::cerr << "switchboard serve: " << cfg.error().reason << "\n";
    return 2;
  }
  // Config validated both names; the fallbacks are never taken.
  common::log::setup(
      common::log::parseLevel(cfg->log().level).value_or(common::log::Level::kInfo),
      common::log::parseFormat(cfg->log().format).value_or(common::log::Format::kText));

  const bool check_only = opts->flags.count("--check") > 0;
  sigset_t stop = blockStopSignals();
  if (!check_only) {
    // Before printing: scripts wait for the printed configuration, then expect data_dir.
    std::error_code ec;
    std::filesystem::create_directories(cfg->dataDir(), ec);
    if (ec) {
      std::cerr << "switchboard serve: cannot create data_dir " << cfg->dataDir() << ": "
                << ec.message() << "\n";
      return 1;
    }
  }
  if (check_only) {
    std::cout << "# switchboard configuration (checked)\n" << cfg->dumpYaml() << std::flush;
    return 0;
  }
  SipEdge edge(*cfg);
  if (auto st = edge.start(); !st) {
    std::cerr << "switchboard serve: " << st.error().reason << "\n";
    return 1;
  }
  std::cout << "# switchboard resolved configuration\n" << cfg->dumpYaml();
  for (const std::string& l : edge.listening()) std::cout << "# sip listening: " << l << "\n";
  std::cout << "# active parts: sip edge (registrar, digest auth, proxy); the HTTP API and the "
               "rest arrive with later issues\n"
            << std::flush;

  SB_LOG(kInfo, "serve: running with data_dir " + cfg->dataDir() + "; SIGTERM or SIGINT stops it");
  int sig = waitForStop(stop);
  SB_LOG(kInfo, std::string("serve: stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  edge.stop();
  return 0;
}
