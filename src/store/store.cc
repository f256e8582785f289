#include "store/store.h"

#include <chrono>

#include "store/internal/sql_repositories.h"

namespace store {

Store::~Store() = default;

common::Result<std::unique_ptr<Store>> Store::open(const std::string& url, StoreOptions options) {
  auto db = Database::open(url, options.database);
  if (!db) return db.error();
  int64_t now = options.now_unix;
  if (now == 0)
    now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  auto report = migrate(**db, builtinMigrations(), now);
  if (!report) return report.error();

  std::unique_ptr<Store> s(new Store());
  s->db_ = std::move(*db);
  s->report_ = std::move(*report);
  s->registrations_ = internal::makeSqlRegistrations(*s->db_);
  s->sip_credentials_ = internal::makeSqlSipCredentials(*s->db_);
  s->sip_domains_ = internal::makeSqlSipDomains(*s->db_);
  s->sip_domain_owners_ = internal::makeSqlSipDomainOwners(*s->db_);
  s->sip_trunks_ = internal::makeSqlSipTrunks(*s->db_);
  s->sip_blocks_ = internal::makeSqlSipBlocks(*s->db_);
  s->accounts_ = internal::makeSqlAccounts(*s->db_);
  s->api_access_ = internal::makeSqlApiAccess(*s->db_);
  s->audit_log_ = internal::makeSqlAuditLog(*s->db_);
  s->phone_numbers_ = internal::makeSqlPhoneNumbers(*s->db_);
  s->sip_auth_lists_ = internal::makeSqlSipAuthLists(*s->db_);
  s->messages_ = internal::makeSqlMessages(*s->db_);
  s->opt_outs_ = internal::makeSqlOptOuts(*s->db_);
  s->messaging_settings_ = internal::makeSqlMessagingSettings(*s->db_);
  return s;
}

}  // namespace store
