// `switchboard admin [--config FILE] [--set KEY=VALUE ...] VERB ...`: provisioning from the
// shell, on the store the configuration names. Prints one JSON object (or array) on stdout;
// errors go to stderr with a non-zero exit.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

int runAdmin(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
