// Store: the platform's persistent data behind repository interfaces, over SQLite (default,
// embedded) or PostgreSQL (shared by several nodes). Opening applies the schema migrations
// this build knows. Every call blocks: run it on a common::ThreadPool, never a SIP worker.
//
//   auto store = store::Store::open(config.store().url);
//   if (!store) { log(store.error().reason); return 1; }
//   (*store)->registrations().upsert(binding);
//
// Adding a repository (accounts, numbers, messages, CDRs ...): an interface header here, one
// SQL implementation over Database written with `?` placeholders (both backends run it; see
// internal/sql_repositories.h), its tables as the next migration in migrations.cc, an
// accessor below, and tests instantiated for both backends (tests/store/backends.h).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "store/accounts.h"
#include "store/api_access.h"
#include "store/audit_log.h"
#include "store/db.h"
#include "store/messages.h"
#include "store/messaging_settings.h"
#include "store/migrations.h"
#include "store/opt_outs.h"
#include "store/phone_numbers.h"
#include "store/registrations.h"
#include "store/sip_auth_lists.h"
#include "store/sip_blocks.h"
#include "store/sip_credentials.h"
#include "store/sip_domain_owners.h"
#include "store/sip_domains.h"
#include "store/sip_trunks.h"

namespace store {

struct StoreOptions {
  DatabaseOptions database;
  int64_t now_unix = 0;  // applied_at of migrations; 0 = the system clock
};

class Store {
 public:
  // `url` is config's store.url: "sqlite:PATH" or "postgresql://USER:PASSWORD@HOST:PORT/DB".
  // Fails with a reason naming the URL (password hidden) when the database cannot be opened,
  // a migration fails, or the schema is newer than this build (kUnsupported).
  static common::Result<std::unique_ptr<Store>> open(const std::string& url,
                                                     StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Registrations& registrations() { return *registrations_; }
  SipCredentials& sipCredentials() { return *sip_credentials_; }
  SipDomains& sipDomains() { return *sip_domains_; }
  SipDomainOwners& sipDomainOwners() { return *sip_domain_owners_; }
  SipTrunks& sipTrunks() { return *sip_trunks_; }
  SipBlocks& sipBlocks() { return *sip_blocks_; }
  Accounts& accounts() { return *accounts_; }
  ApiAccess& apiAccess() { return *api_access_; }
  AuditLog& auditLog() { return *audit_log_; }
  PhoneNumbers& phoneNumbers() { return *phone_numbers_; }
  SipAuthLists& sipAuthLists() { return *sip_auth_lists_; }
  Messages& messages() { return *messages_; }
  OptOuts& optOuts() { return *opt_outs_; }
  MessagingSettings& messagingSettings() { return *messaging_settings_; }

  // What open() did to the schema (applied is empty on a database already up to date).
  const MigrationReport& migrations() const { return report_; }
  // The database layer, for repositories added to this part and for tests.
  Database& database() { return *db_; }

 private:
  Store() = default;
  std::unique_ptr<Database> db_;
  MigrationReport report_;
  std::unique_ptr<Registrations> registrations_;
  std::unique_ptr<SipCredentials> sip_credentials_;
  std::unique_ptr<SipDomains> sip_domains_;
  std::unique_ptr<SipDomainOwners> sip_domain_owners_;
  std::unique_ptr<SipTrunks> sip_trunks_;
  std::unique_ptr<SipBlocks> sip_blocks_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<ApiAccess> api_access_;
  std::unique_ptr<AuditLog> audit_log_;
  std::unique_ptr<PhoneNumbers> phone_numbers_;
  std::unique_ptr<SipAuthLists> sip_auth_lists_;
  std::unique_ptr<Messages> messages_;
  std::unique_ptr<OptOuts> opt_outs_;
  std::unique_ptr<MessagingSettings> messaging_settings_;
};

}  // namespace store
