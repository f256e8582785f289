// Who owns each SIP domain name, as serve and `switchboard admin` apply it: the names in the
// configuration (sip.domains, sip.redirect_domains) are the operator's, assigned so in the
// store when serve starts; what still sits on a name without being its owner's is named in
// one warning; `admin sip-domain list|assign|release` shows and changes owners, and
// `sip-domain evict` removes what others hold on an owned name.
//
//   if (auto st = claimConfiguredDomains(config, store, now); !st) return fail(st.error());
//   return sipDomainCommand(store, config, options, std::cout, std::cerr);  // admin
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "app/options.h"
#include "common/config.h"
#include "common/result.h"
#include "store/store.h"

// sip.domains then sip.redirect_domains (lower case, each once).
std::vector<std::string> configuredSipDomains(const common::Config& config);

// Assigns every configured name to the operator (taking it from an account that held it),
// then logs one warning naming each name where credentials or an API SIP Domain are held by
// someone other than the owner: those no longer authenticate.
common::Status claimConfiguredDomains(const common::Config& config, store::Store& store,
                                      int64_t now);

// `admin sip-domain list|assign|release|evict`; the exit code (2: usage).
int sipDomainCommand(store::Store& store, const common::Config& config, const ConfigOptions& o,
                     std::ostream& out, std::ostream& err);

// What `admin sip-user add --domain D [--account SID]` checks first: D becomes the owner's
// (the operator's without an account) unless it belongs to someone else, which is the error.
common::Status claimForSipUser(store::Store& store, const common::Config& config,
                               const std::string& domain,
                               const std::optional<std::string>& account_sid, int64_t now);
