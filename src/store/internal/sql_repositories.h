// The repositories written once in SQL over Database, for both backends. Store wires them.
#pragma once

#include <memory>

#include "store/db.h"
#include "store/registrations.h"
#include "store/sip_blocks.h"
#include "store/sip_credentials.h"
#include "store/sip_domains.h"
#include "store/sip_trunks.h"

namespace store::internal {

std::unique_ptr<Registrations> makeSqlRegistrations(Database& db);
std::unique_ptr<SipCredentials> makeSqlSipCredentials(Database& db);
std::unique_ptr<SipDomains> makeSqlSipDomains(Database& db);
std::unique_ptr<SipTrunks> makeSqlSipTrunks(Database& db);
std::unique_ptr<SipBlocks> makeSqlSipBlocks(Database& db);

// ASCII lower-case copy (host names, domains, hex).
std::string asciiLower(std::string_view s);

}  // namespace store::internal
