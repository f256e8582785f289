// `switchboard serve [--config FILE] [--set KEY=VALUE ...] [--check]`: loads the
// configuration, prepares data_dir, prints the resolved configuration and runs until SIGTERM
// or SIGINT. `--check` validates and prints the configuration, then exits. The network parts
// attach here as their issues land.
//
//   return runServe({"--config", "switchboard.yaml", "--set", "log.level=debug"});
#pragma once

#include <string>
#include <vector>

// Returns the process exit status: 0 after a clean stop, 2 for a bad command line or
// configuration, 1 when the environment fails (data_dir cannot be created).
int runServe(const std::vector<std::string>& args);
