// The repositories written once in SQL over Database, for both backends. Store wires them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/accounts.h"
#include "store/api_access.h"
#include "store/audit_log.h"
#include "store/db.h"
#include "store/messages.h"
#include "store/messaging_settings.h"
#include "store/opt_outs.h"
#include "store/phone_numbers.h"
#include "store/registrations.h"
#include "store/sip_auth_lists.h"
#include "store/sip_blocks.h"
#include "store/sip_credentials.h"
#include "store/sip_domain_owners.h"
#include "store/sip_domains.h"
#include "store/sip_trunks.h"

namespace store::internal {

std::unique_ptr<Registrations> makeSqlRegistrations(Database& db);
std::unique_ptr<SipCredentials> makeSqlSipCredentials(Database& db);
std::unique_ptr<SipDomains> makeSqlSipDomains(Database& db);
std::unique_ptr<SipDomainOwners> makeSqlSipDomainOwners(Database& db);
std::unique_ptr<SipTrunks> makeSqlSipTrunks(Database& db);
std::unique_ptr<SipBlocks> makeSqlSipBlocks(Database& db);
std::unique_ptr<Accounts> makeSqlAccounts(Database& db);
std::unique_ptr<ApiAccess> makeSqlApiAccess(Database& db);
std::unique_ptr<AuditLog> makeSqlAuditLog(Database& db);
std::unique_ptr<PhoneNumbers> makeSqlPhoneNumbers(Database& db);
std::unique_ptr<SipAuthLists> makeSqlSipAuthLists(Database& db);
std::unique_ptr<Messages> makeSqlMessages(Database& db);
std::unique_ptr<OptOuts> makeSqlOptOuts(Database& db);
std::unique_ptr<MessagingSettings> makeSqlMessagingSettings(Database& db);

// kInvalidArgument unless 0 <= offset and 0 <= limit (the paged list queries).
common::Status checkPage(int64_t offset, int64_t limit);

// True for the error either backend returns when a statement broke a foreign key (an insert
// naming a parent row that does not exist): lets an insert skip the read of the parent and
// still say which parent is missing.
bool isForeignKeyViolation(const common::Error& error);

// Claims the (lower-case) name for `account_sid` (nullopt: the operator) in `tx` unless it has
// an owner; says whether it is the claimant's now.
common::Result<ClaimOutcome> claimSipDomain(Tx& tx, const std::string& domain,
                                            const std::optional<std::string>& account_sid,
                                            std::string_view claimed_by, int64_t now);
// Ends an "api" claim once no SIP Domain and no credential is left on the name.
common::Status releaseApiClaim(Tx& tx, const std::string& domain);

// ASCII lower-case copy (host names, domains, hex).
std::string asciiLower(std::string_view s);

}  // namespace store::internal
