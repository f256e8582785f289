#include "app/serve.h"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "app/options.h"
#include "common/config.h"
#include "common/log.h"

int runServe(const std::vector<std::string>& args) {
  auto opts = parseConfigOptions(args, {"--check"});
  if (!opts) {
    std::cerr << "switchboard serve: " << opts.error().reason << "\n";
    return 2;
  }
  auto cfg = common::Config::load(opts->config_file, opts->overrides);
  if (!cfg) {
    std::cerr << "switchboard serve: " << cfg.error().reason << "\n";
    return 2;
  }
  common::log::setup(cfg->logLevel(), cfg->logFormat());

  // Block the stop signals before any thread exists, so that every later thread inherits
  // the mask and sigwait below is the only place they are taken.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::error_code ec;
  std::filesystem::create_directories(cfg->dataDir(), ec);
  if (ec) {
    std::cerr << "switchboard serve: cannot create data_dir " << cfg->dataDir() << ": "
              << ec.message() << "\n";
    return 1;
  }
  std::cout << "# switchboard resolved configuration\n" << cfg->dumpYaml();
  std::cout << "# active parts: configuration only (the SIP edge, voice, messaging and the HTTP "
               "API arrive with later issues)\n"
            << std::flush;
  if (opts->flags.count("--check")) return 0;

  SB_LOG(kInfo, "switchboard serve: running; SIGTERM or SIGINT stops it");
  int sig = 0;
  sigwait(&stop, &sig);
  SB_LOG(kInfo,
         std::string("switchboard serve: stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  return 0;
}
