// The options every configurable command shares: --config FILE and --set KEY=VALUE
// (repeatable), plus the flags a command allows.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/result.h"

struct ConfigOptions {
  std::string config_file;
  std::vector<std::string> overrides;  // "key=value"
  std::set<std::string> flags;         // the allowed flags that were given
  std::vector<std::string> positional;
};

common::Result<ConfigOptions> parseConfigOptions(const std::vector<std::string>& args,
                                                 const std::set<std::string>& allowed_flags);
