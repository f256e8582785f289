// `switchboard serve [--config FILE] [--set KEY=VALUE ...] [--check]`: loads the
// configuration, prepares data_dir, prints the resolved configuration and runs until SIGTERM
// or SIGINT. The network parts attach here as their issues land.
#pragma once

#include <string>
#include <vector>

int runServe(const std::vector<std::string>& args);
