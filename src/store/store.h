// Persistence of the live cluster behind one interface. The controller is the only writer: it
// assigns job ids itself (from max_job_id() at start-up) and hands the store batches of records
// to write in one durable transaction. SQLite is the embedded default; PostgreSQL follows the
// same interface and passes the same conformance suite (tests/unit/store_conformance_test.cpp).
#pragma once
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/accounting.h"
#include "core/identity_record.h"
#include "core/job_record.h"

namespace zs {

// The store could not read or write (disk full, corrupt file, lost connection...).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Everything one transaction writes. Jobs are inserted or replaced by id, nodes, tenants and
// users by name, tokens by id, accounting records by (job, attempt); the removed_* lists are
// applied last. Tokens are never removed: a revoked one stays, with its revocation time, so its
// id is never valid again. Accounting records are never removed either (purges keep them): a
// record written again for the same (job, attempt), as a replay after a crash does, replaces
// the first, so an attempt is billed once.
struct WriteBatch {
  std::vector<JobRecord> jobs;
  std::vector<NodeRecord> nodes;
  std::vector<std::string> removed_nodes;
  std::vector<TenantRecord> tenants;
  std::vector<UserRecord> users;
  std::vector<TokenRecord> tokens;
  std::vector<std::string> removed_tenants, removed_users;
  std::vector<UsageRecord> usage;
  // Cluster settings by key, each a text document replaced whole (e.g. "tenants": the shares
  // `zs admin apply` set, in the tenants file's YAML form).
  std::vector<std::pair<std::string, std::string>> settings;
  bool empty() const {
    return jobs.empty() && nodes.empty() && removed_nodes.empty() && tenants.empty() &&
           users.empty() && tokens.empty() && removed_tenants.empty() && removed_users.empty() &&
           usage.empty() && settings.empty();
  }
};

// Which accounting records load_usage returns: those that belong to [from, to) by in_window()
// (core/accounting.h: they overlap it, or lasted no time and started in it), of the listed
// tenants (every tenant when the list is empty).
struct UsageQuery {
  UsageQuery() = default;
  UsageQuery(TimeMs from_ms, TimeMs to_ms, std::vector<std::string> of_tenants = {})
      : from(from_ms), to(to_ms), tenants(std::move(of_tenants)) {}
  TimeMs from = 0;
  TimeMs to = kNever;
  std::vector<std::string> tenants;
};

// One page of load_usage's answer: at most `limit` rows looked at, in (job, attempt) order,
// after the key `after` (exclusive; none = from the first). `next`: the last key looked at when
// more may follow (pass it as `after`), none when the query is done. Reports read page by page
// so that a month of records never holds the store for long.
struct UsageKey {
  JobId job = 0;
  int attempt = 0;
};
struct UsagePage {
  std::vector<UsageRecord> records;
  std::optional<UsageKey> next;
};

// A Store is used from one thread at a time (the controller serializes its calls).
class Store {
 public:
  virtual ~Store() = default;
  // All or nothing; durable (fsynced) when it returns. Throws StoreError, also for a record the
  // JSON codec could not read back (see api/json_limits.h) and for an accounting record with a
  // usage_record_problem(); a failed write changes nothing.
  virtual void write(const WriteBatch& batch) = 0;
  virtual std::vector<JobRecord> load_jobs() = 0;        // every job, in id order
  virtual std::vector<NodeRecord> load_nodes() = 0;      // every node, in name order
  virtual std::vector<TenantRecord> load_tenants() = 0;  // in name order
  virtual std::vector<UserRecord> load_users() = 0;      // in name order
  virtual std::vector<TokenRecord> load_tokens() = 0;    // in id order, revoked ones included
  virtual JobId max_job_id() = 0;                        // 0 when no job was ever written
  // Accounting records, in (job, attempt) order, whole (not pro-rated: core/accounting.h does).
  virtual std::vector<UsageRecord> load_usage(const UsageQuery& query) = 0;
  virtual UsagePage load_usage_page(const UsageQuery& query, std::optional<UsageKey> after,
                                    std::size_t limit) = 0;
  // A setting written by WriteBatch::settings; nullopt when it never was.
  virtual std::optional<std::string> load_setting(const std::string& key) = 0;
  // Deletes terminal jobs that ended before `before_ms`; returns how many. Their accounting
  // records stay.
  virtual std::size_t purge_jobs_ended_before(TimeMs before_ms) = 0;
  virtual std::string describe() const = 0;  // e.g. "sqlite /var/lib/zs/state.db (WAL)"
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode with synchronous=FULL,
// locked exclusively while open: one commit is one log page and one fdatasync, and a second
// controller on the same state directory is refused ("in use by another process") instead of
// writing beside the first. Read it with the sqlite3 shell only while no controller runs.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

}  // namespace zs
