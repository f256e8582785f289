// The options every configurable command shares (serve now, admin later): --config FILE and
// repeatable --set KEY=VALUE, each also as --config=FILE / --set=KEY=VALUE, plus the flags a
// command allows. Anything else starting with '-' is an error; the rest is positional.
//
//   auto o = parseConfigOptions({"--set", "log.level=debug", "--check"}, {"--check"});
//   if (o) load(o->config_file, o->overrides);  // o->flags == {"--check"}
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

struct ConfigOptions {
  std::string config_file;                    // empty: defaults only
  std::vector<std::string> overrides;         // "KEY=VALUE", in command-line order
  std::set<std::string> flags;                // the allowed flags that were given
  std::map<std::string, std::string> values;  // the allowed "--name VALUE" options given
  std::vector<std::string> positional;
};

// `valued` names the options that take a value ("--domain" for "--domain example.com" or
// "--domain=example.com"); a repeated one keeps the last value.
common::Result<ConfigOptions> parseConfigOptions(const std::vector<std::string>& args,
                                                 const std::set<std::string>& allowed_flags,
                                                 const std::set<std::string>& valued = {});
