// `switchboard sip lint FILE...`: one verdict line per file, as DESIGN.md fixes it:
// "FILE valid", "FILE invalid CODE" or "FILE invalid drop", each invalid one followed by the
// reason. Returns the exit status: 0 when every file is valid, 1 otherwise.
#pragma once

#include <ostream>
#include <string>
#include <vector>

int runSipLint(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);
