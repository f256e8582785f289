// One backend connection, used by one thread at a time (Database's pool hands it out).
// Internal to src/store: repositories talk to Database and Tx only.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "store/db.h"

namespace store::internal {

class Connection : public Tx {
 public:
  virtual common::Status begin() = 0;
  virtual common::Status commit() = 0;
  virtual common::Status rollback() = 0;
  // PostgreSQL: notices a connection the server closed and reconnects. SQLite: nothing to do.
  virtual common::Status ensureConnected() = 0;
  // True when the link to the server is known to be gone (PostgreSQL only).
  virtual bool broken() const = 0;

  // Set when a statement failed; Database::transaction refuses to commit after that.
  bool failed() const { return failed_; }
  void clearFailed() { failed_ = false; }

 protected:
  bool failed_ = false;
};

// `path` as given after "sqlite:"; `display` names the database in errors.
common::Result<std::unique_ptr<Connection>> openSqlite(const std::string& path,
                                                       const std::string& display,
                                                       const DatabaseOptions& options);
common::Result<std::unique_ptr<Connection>> openPostgres(const std::string& url,
                                                         const std::string& display,
                                                         const DatabaseOptions& options);

}  // namespace store::internal
