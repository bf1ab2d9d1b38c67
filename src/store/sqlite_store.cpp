// The embedded SQLite store: one file in WAL mode with synchronous=FULL, so a write is on disk
// when write() returns and costs one fsync of the log. Queryable fields are real columns; the
// whole record (spec, assignment...) is kept as compact JSON (api/json_text.h) and is what
// load_jobs() decodes (api/json_codec.h), so a field added to JobRecord needs no schema change.
//
// The store holds an exclusive lock on the file from open to close (locking_mode=EXCLUSIVE):
// commits take no file locks and the WAL index lives in heap memory, and a second controller on
// the same state dir is refused instead of writing too. The sqlite3 shell can read the file
// only while no controller runs.
//
// A Store is used from one thread at a time (the controller serializes its writes and reads on
// the same thread), so a single connection opened without SQLite's mutexes serves everything.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "api/json_codec.h"
#include "api/json_limits.h"
#include "api/json_text.h"
#include "core/input_error.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace zs {
namespace {

using sqlite::Db;
using sqlite::Statement;

constexpr int kSchemaVersion = 5;

// Version 2. A one-job commit writes one page, the jobs leaf holding the row: jobs has no index
// (version 1's jobs_by_state cost a second page per commit and only purges used it), and writes
// do not touch meta. meta.max_job_id is raised by purges only, before they delete, so that ids
// of purged jobs are never handed out again: max_job_id() is the larger of it and max(id).
constexpr const char* kSchema = R"sql(
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  state TEXT NOT NULL,
  user TEXT NOT NULL,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  "partition" TEXT NOT NULL,
  submit_ms INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  exit_code INTEGER NOT NULL,
  array_job_id INTEGER NOT NULL,
  array_task_id INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('max_job_id', 0);
)sql";

// Version 3: identities (issue 15). Tokens hold the hash of their secret, never the secret.
constexpr const char* kIdentitySchema = R"sql(
CREATE TABLE tenants (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE users (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE tokens (id TEXT PRIMARY KEY, record TEXT NOT NULL);
PRAGMA user_version = 3;
)sql";

// Version 4: accounting records (issue 16), one per attempt, never purged. The key (job,
// attempt) makes a replayed write replace instead of billing twice; WITHOUT ROWID, the key is
// the table and costs no index. usage_by_end serves reports over recent windows without reading
// the whole history; only commits that end an attempt pay its page.
constexpr const char* kUsageSchema = R"sql(
CREATE TABLE usage (
  job INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  user TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (job, attempt)
) WITHOUT ROWID;
CREATE INDEX usage_by_end ON usage (end_ms);
PRAGMA user_version = 4;
)sql";

// Version 5: cluster settings (issue 16: the tenants' shares that `zs admin apply` set).
constexpr const char* kSettingsSchema = R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = 5;
)sql";

constexpr const char* kFromVersion1 = R"sql(
DROP INDEX IF EXISTS jobs_by_state;
)sql";

// Resets a statement however the scope is left, so it can be reused after an error.
struct ResetOnExit {
  Statement& stmt;
  ~ResetOnExit() { stmt.reset(); }
};

int schema_version(Db& db, const char* doing = "reading the schema version") {
  Statement s(db, doing, "PRAGMA user_version");
  ResetOnExit r{s};
  return s.step() ? static_cast<int>(s.int_column(0)) : 0;
}

void enable_wal(Db& db) {
  Statement s(db, "enabling WAL mode", "PRAGMA journal_mode=WAL");
  ResetOnExit r{s};
  std::string mode = s.step() ? std::string(s.text_column(0)) : "";
  if (mode != "wal") db.fail("enabling WAL mode", "journal_mode is \"" + mode + "\"");
}

// Creates the schema in an empty file or migrates an older one, in one transaction.
void upgrade_schema(Db& db) {
  db.exec("BEGIN IMMEDIATE");
  try {
    int version = schema_version(db);
    if (version == 0) {
      Statement tables(db, "listing tables", "SELECT count(*) FROM sqlite_master");
      bool empty = tables.step() && tables.int_column(0) == 0;
      tables.reset();
      if (!empty)
        db.fail("cannot open", "not a zs state database (it has tables but no schema version)");
      db.exec(kSchema);
    } else if (version == 1) {
      db.exec(kFromVersion1);
    }
    if (version < 3) db.exec(kIdentitySchema);
    if (version < 4) db.exec(kUsageSchema);
    if (version < 5) db.exec(kSettingsSchema);
    db.exec("COMMIT");
  } catch (...) {
    db.rollback_quietly();
    throw;
  }
}

// Opens `db` for the store: refuses files from a newer zs, then WAL, FULL sync, schema.
Db& prepare(Db& db) {
  // Long enough for a controller that is still exiting to let go of the file; then a second
  // opener fails with "in use by another process" (sqlite_db.cpp).
  db.set_busy_timeout(2000);
  // Before the first read, hence before the first WAL access: SQLite then takes the exclusive
  // lock there and never maps a -shm file.
  db.exec("PRAGMA locking_mode=EXCLUSIVE");
  // The first read: fails here for a file that is no database or that another process holds.
  int version = schema_version(db, "cannot open");
  if (version > kSchemaVersion)
    db.fail("cannot open", "written by a newer zs (schema version " + std::to_string(version) +
                               "; this zs knows up to version " + std::to_string(kSchemaVersion) +
                               "): upgrade zs");
  enable_wal(db);
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA journal_size_limit=67108864");  // shrink the log back after a huge batch
  if (version < kSchemaVersion) upgrade_schema(db);
  return db;
}

std::string terminal_states_sql() {
  std::string out;
  for (int i = 0; i <= static_cast<int>(JobState::node_fail); ++i) {
    auto s = static_cast<JobState>(i);
    if (is_terminal(s))
      out += std::string(out.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
  }
  return out;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : db_(path), st_(prepare(db_)) {}

  void write(const WriteBatch& batch) override {
    if (batch.empty()) return;
    st_.begin.run();
    try {
      for (const JobRecord& job : batch.jobs) put_job(job);
      for (const NodeRecord& node : batch.nodes) put_node(node);
      for (const std::string& name : batch.removed_nodes) st_.remove_node.bind(1, name).run();
      for (const TenantRecord& t : batch.tenants) put_named(st_.put_tenant, t.name, t);
      for (const UserRecord& u : batch.users) put_named(st_.put_user, u.name, u);
      for (const TokenRecord& t : batch.tokens) put_named(st_.put_token, t.id, t);
      for (const std::string& name : batch.removed_tenants) st_.remove_tenant.bind(1, name).run();
      for (const std::string& name : batch.removed_users) st_.remove_user.bind(1, name).run();
      for (const UsageRecord& u : batch.usage) put_usage(u);
      for (const auto& [key, value] : batch.settings)
        st_.put_setting.bind(1, key).bind(2, value).run();
      st_.commit.run();
    } catch (...) {
      db_.rollback_quietly();  // all or nothing
      throw;
    }
  }

  std::vector<JobRecord> load_jobs() override {
    std::vector<JobRecord> jobs;
    Statement& s = st_.load_jobs;
    ResetOnExit r{s};
    while (s.step()) {
      auto id = static_cast<JobId>(s.int_column(0));
      jobs.push_back(decoded(s.text_column(1), job_record_from_json, "job " + std::to_string(id)));
      if (jobs.back().id != id)
        db_.fail("job " + std::to_string(id) + " is unreadable", "its record has another id");
    }
    return jobs;
  }

  std::vector<NodeRecord> load_nodes() override {
    return load_all(st_.load_nodes, node_record_from_json, "node");
  }

  std::vector<TenantRecord> load_tenants() override {
    return load_all(st_.load_tenants, tenant_record_from_json, "tenant");
  }
  std::vector<UserRecord> load_users() override {
    return load_all(st_.load_users, user_record_from_json, "user");
  }
  std::vector<TokenRecord> load_tokens() override {
    return load_all(st_.load_tokens, token_record_from_json, "token");
  }

  JobId max_job_id() override {
    Statement& s = st_.max_id;
    ResetOnExit r{s};
    return s.step() ? static_cast<JobId>(s.int_column(0)) : 0;
  }

  std::vector<UsageRecord> load_usage(const UsageQuery& q) override {
    std::vector<UsageRecord> out;
    if (q.from >= q.to) return out;
    Statement& s = st_.load_usage;
    ResetOnExit r{s};
    s.bind(1, q.from).bind(2, q.to);
    while (s.step()) {
      if (!q.tenants.empty() &&
          std::find(q.tenants.begin(), q.tenants.end(), s.text_column(2)) == q.tenants.end())
        continue;
      out.push_back(decoded(
          s.text_column(3), usage_record_from_json,
          usage_name(static_cast<JobId>(s.int_column(0)), static_cast<int>(s.int_column(1)))));
    }
    return out;
  }

  UsagePage load_usage_page(const UsageQuery& q, std::optional<UsageKey> after,
                            std::size_t limit) override {
    UsagePage page;
    if (q.from >= q.to || limit == 0) return page;
    Statement& s = st_.load_usage_page;
    ResetOnExit r{s};
    s.bind(1, q.from)
        .bind(2, q.to)
        .bind(3, after ? static_cast<std::int64_t>(after->job) : std::int64_t{-1})
        .bind(4, after ? after->attempt : -1)
        .bind(5, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::size_t looked = 0;
    UsageKey last;
    while (s.step()) {
      ++looked;
      last = {static_cast<JobId>(s.int_column(0)), static_cast<int>(s.int_column(1))};
      if (!q.tenants.empty() &&
          std::find(q.tenants.begin(), q.tenants.end(), s.text_column(2)) == q.tenants.end())
        continue;
      page.records.push_back(
          decoded(s.text_column(3), usage_record_from_json, usage_name(last.job, last.attempt)));
    }
    if (looked == limit) page.next = last;
    return page;
  }

  std::optional<std::string> load_setting(const std::string& key) override {
    Statement& s = st_.load_setting;
    ResetOnExit r{s};
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return std::string(s.text_column(0));
  }

  std::size_t purge_jobs_ended_before(TimeMs before_ms) override {
    st_.begin.run();
    try {
      st_.keep_max_id.run();  // first: the purge may delete the newest jobs
      st_.purge.bind(1, before_ms).run();
      auto purged = static_cast<std::size_t>(db_.changed_rows());
      st_.commit.run();
      return purged;
    } catch (...) {
      db_.rollback_quietly();
      throw;
    }
  }

  std::string describe() const override { return "sqlite " + db_.path() + " (WAL)"; }

 private:
  // A record the codec could not decode again must not reach the disk.
  template <class R>
  void check(const R& record, const std::string& what) {
    try {
      check_codec_limits(record);
    } catch (const InputError& e) {
      db_.fail(what + " cannot be stored", e.what());
    }
  }

  void put_job(const JobRecord& job) {
    check(job, "job " + std::to_string(job.id));
    record_.clear();
    append_compact_json(record_, job);
    st_.put_job.bind(1, static_cast<std::int64_t>(job.id))
        .bind(2, to_string(job.state))
        .bind(3, job.spec.user)
        .bind(4, job.spec.tenant)
        .bind(5, job.spec.name)
        .bind(6, job.spec.partition)
        .bind(7, job.submit_ms)
        .bind(8, job.start_ms)
        .bind(9, job.end_ms)
        .bind(10, job.attempt)
        .bind(11, job.exit_code)
        .bind(12, static_cast<std::int64_t>(job.array_job_id))
        .bind(13, job.array_task_id)
        .bind(14, record_)
        .run();
  }

  void put_node(const NodeRecord& node) {
    check(node, "node " + node.name);
    record_.clear();
    append_compact_json(record_, node);
    st_.put_node.bind(1, node.name).bind(2, to_string(node.state)).bind(3, record_).run();
  }

  static std::string usage_name(JobId job, int attempt) {
    return "usage of job " + std::to_string(job) + " attempt " + std::to_string(attempt);
  }

  void put_usage(const UsageRecord& u) {
    check(u, usage_name(u.job, u.attempt));
    if (std::string problem = usage_record_problem(u); !problem.empty())
      db_.fail(usage_name(u.job, u.attempt) + " cannot be stored", "it " + problem);
    st_.put_named_json = to_json(u).dump();
    st_.put_usage.bind(1, static_cast<std::int64_t>(u.job))
        .bind(2, u.attempt)
        .bind(3, u.tenant)
        .bind(4, u.user)
        .bind(5, u.start_ms)
        .bind(6, u.end_ms)
        .bind(7, st_.put_named_json)
        .run();
  }

  // Identity records: small, strict codecs that refuse what they cannot read back.
  template <class R>
  void put_named(Statement& put, const std::string& key, const R& record) {
    st_.put_named_json = to_json(record).dump();
    put.bind(1, key).bind(2, st_.put_named_json).run();
  }

  template <class R>
  std::vector<R> load_all(Statement& s, R (*from_json)(const nlohmann::json&), const char* kind) {
    std::vector<R> out;
    ResetOnExit r{s};
    while (s.step())
      out.push_back(decoded(s.text_column(1), from_json,
                            std::string(kind) + " " + std::string(s.text_column(0))));
    return out;
  }

  // A stored record decoded, or a StoreError naming it.
  template <class R>
  R decoded(std::string_view text, R (*from_json)(const nlohmann::json&), const std::string& what) {
    try {
      return from_json(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
      db_.fail(what + " is unreadable", e.what());
    } catch (const InputError& e) {
      db_.fail(what + " is unreadable", e.what());
    }
  }

  struct Statements {
    explicit Statements(Db& db)
        : begin(db, "beginning a write", "BEGIN IMMEDIATE"),
          commit(db, "committing a write", "COMMIT"),
          put_job(db, "writing a job",
                  "INSERT INTO jobs (id, state, user, tenant, name, \"partition\", submit_ms, "
                  "start_ms, end_ms, attempt, exit_code, array_job_id, array_task_id, record) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                  "ON CONFLICT (id) DO UPDATE SET state = ?2, user = ?3, tenant = ?4, name = ?5, "
                  "\"partition\" = ?6, submit_ms = ?7, start_ms = ?8, end_ms = ?9, attempt = ?10, "
                  "exit_code = ?11, array_job_id = ?12, array_task_id = ?13, record = ?14"),
          keep_max_id(db, "recording the highest job id",
                      "UPDATE meta SET value = (SELECT max(id) FROM jobs) "
                      "WHERE key = 'max_job_id' AND value < (SELECT max(id) FROM jobs)"),
          put_node(db, "writing a node",
                   "INSERT OR REPLACE INTO nodes (name, state, record) VALUES (?1, ?2, ?3)"),
          remove_node(db, "removing a node", "DELETE FROM nodes WHERE name = ?1"),
          load_jobs(db, "loading jobs", "SELECT id, record FROM jobs ORDER BY id"),
          load_nodes(db, "loading nodes", "SELECT name, record FROM nodes ORDER BY name"),
          max_id(db, "reading the highest job id",
                 "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'max_job_id'), 0), "
                 "coalesce((SELECT max(id) FROM jobs), 0))"),
          purge_sql("DELETE FROM jobs WHERE state IN (" + terminal_states_sql() +
                    ") AND end_ms < ?1"),
          purge(db, "purging ended jobs", purge_sql.c_str()),
          put_tenant(db, "writing a tenant",
                     "INSERT OR REPLACE INTO tenants (name, record) VALUES (?1, ?2)"),
          put_user(db, "writing a user",
                   "INSERT OR REPLACE INTO users (name, record) VALUES (?1, ?2)"),
          put_token(db, "writing a token",
                    "INSERT OR REPLACE INTO tokens (id, record) VALUES (?1, ?2)"),
          remove_tenant(db, "removing a tenant", "DELETE FROM tenants WHERE name = ?1"),
          remove_user(db, "removing a user", "DELETE FROM users WHERE name = ?1"),
          load_tenants(db, "loading tenants", "SELECT name, record FROM tenants ORDER BY name"),
          load_users(db, "loading users", "SELECT name, record FROM users ORDER BY name"),
          load_tokens(db, "loading tokens", "SELECT id, record FROM tokens ORDER BY id"),
          put_usage(db, "writing a usage record",
                    "INSERT OR REPLACE INTO usage (job, attempt, tenant, user, start_ms, end_ms, "
                    "record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          // in_window() in SQL, for from < to: overlapping, or instant and starting inside.
          load_usage(db, "loading usage records",
                     "SELECT job, attempt, tenant, record FROM usage WHERE end_ms >= ?1 AND "
                     "start_ms < ?2 AND (end_ms > ?1 OR start_ms = end_ms) ORDER BY job, attempt"),
          load_usage_page(db, "loading usage records",
                          "SELECT job, attempt, tenant, record FROM usage WHERE end_ms >= ?1 AND "
                          "start_ms < ?2 AND (end_ms > ?1 OR start_ms = end_ms) AND (job > ?3 OR "
                          "(job = ?3 AND attempt > ?4)) ORDER BY job, attempt LIMIT ?5"),
          put_setting(db, "writing a setting",
                      "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)"),
          load_setting(db, "reading a setting", "SELECT value FROM settings WHERE key = ?1") {}
    Statement begin, commit, put_job, keep_max_id, put_node, remove_node, load_jobs, load_nodes,
        max_id;
    std::string purge_sql;
    Statement purge, put_tenant, put_user, put_token, remove_tenant, remove_user, load_tenants,
        load_users, load_tokens, put_usage, load_usage, load_usage_page, put_setting, load_setting;
    std::string put_named_json;
  };

  Db db_;
  Statements st_;
  std::string record_;  // the JSON of the record being written, reused to spare allocations
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  return std::make_unique<SqliteStore>(path);
}

}  // namespace zs
