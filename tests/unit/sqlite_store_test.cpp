// What only the SQLite store does: refusing files it must not touch, WAL mode, its schema.
// The store holds its file exclusively while open, so the raw connections below look at or
// tamper with it only while no store has it open.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "api/json_text.h"
#include "scratch_dir.h"
#include "store/store.h"

namespace zs::test {
namespace {

WriteBatch jobs_batch(std::vector<JobRecord> jobs) {
  WriteBatch b;
  b.jobs = std::move(jobs);
  return b;
}

// A raw connection for looking at or tampering with the file behind the store's back.
class Raw {
 public:
  explicit Raw(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~Raw() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // The first column of every row, as text.
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      auto* text = sqlite3_column_text(st, sqlite3_column_count(st) - 1);
      out.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string open_error(const std::string& path) {
  try {
    open_sqlite_store(path);
  } catch (const StoreError& e) {
    return e.what();
  }
  ADD_FAILURE() << "opened " << path;
  return "";
}

// Whether this process holds a lock on SQLite's lock bytes of `path`. A child asks: fcntl does
// not report the asker's own locks.
bool locked_by_this_process(const std::string& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(path.c_str(), O_RDONLY);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0x40000000;  // SQLite's pending, reserved and shared bytes
    lock.l_len = 512;
    _exit(fd >= 0 && ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

JobRecord job(JobId id, JobState state) {
  JobRecord r;
  r.id = id;
  r.state = state;
  r.spec.name = "n" + std::to_string(id);
  r.spec.user = "ada";
  r.spec.tenant = "lab";
  r.submit_ms = 1000 + static_cast<TimeMs>(id);
  return r;
}

TEST(SqliteStore, NonDatabaseFileIsRefusedNamingThePath) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is not a database\n";
  write_text(path, text);
  std::string error = open_error(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("file is not a database"), std::string::npos) << error;
  EXPECT_EQ(read_text(path), text);  // untouched
}

TEST(SqliteStore, NewerSchemaVersionIsRefused) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  { open_sqlite_store(path); }
  Raw(path).exec("PRAGMA user_version = 99");
  std::string error = open_error(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("newer zs (schema version 99"), std::string::npos) << error;
}

TEST(SqliteStore, ForeignDatabaseIsRefused) {
  ScratchDir dir;
  std::string path = dir / "other.db";
  Raw(path).exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)");
  std::string error = open_error(path);
  EXPECT_NE(error.find("not a zs state database"), std::string::npos) << error;
  EXPECT_EQ(Raw(path).column("SELECT name FROM sqlite_master"), std::vector<std::string>{"photos"});
}

TEST(SqliteStore, MissingDirectoryIsExplained) {
  ScratchDir dir;
  std::string path = dir / "no/such/dir/state.db";
  std::string error = open_error(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_NE(open_error(dir.path()).find("it is a directory"), std::string::npos);
}

TEST(SqliteStore, UsesWalModeAndSchemaVersionFour) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  {
    auto store = open_sqlite_store(path);
    EXPECT_EQ(store->describe(), "sqlite " + path + " (WAL)");
    store->write(jobs_batch({job(1, JobState::pending)}));
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
    // Exclusive locking mode: the WAL index is in heap memory, not in a shared -shm file.
    EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
  }
  Raw raw(path);
  EXPECT_EQ(raw.column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(raw.column("PRAGMA user_version"), std::vector<std::string>{"5"});
}

// A second store on the same file, in another process or in this one, is refused while the
// first is open, after a short wait; once the holder is gone (even killed) the file opens.
TEST(SqliteStore, SecondOpenerIsToldTheFileIsInUse) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    try {
      auto store = open_sqlite_store(path);
      store->write(jobs_batch({job(1, JobState::pending)}));
      char c = 'k';
      if (::write(ready[1], &c, 1) != 1) _exit(4);
      for (;;) ::pause();  // holds the store until killed
    } catch (...) {
    }
    _exit(3);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child could not open the store";
  ::close(ready[0]);
  auto started = std::chrono::steady_clock::now();
  std::string error = open_error(path);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open: the state database is in use by another process (is "
                       "another zs controller running on this state dir?)"),
            std::string::npos)
      << error;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed on its own";

  auto store = open_sqlite_store(path);  // the kernel dropped the dead child's lock
  EXPECT_EQ(store->load_jobs().size(), 1u);
  EXPECT_TRUE(locked_by_this_process(path));
  error = open_error(path);  // a second store in the same process
  EXPECT_NE(error.find("in use by another process"), std::string::npos) << error;
  // Its failure did not release the first store's lock (closing any descriptor of a file drops
  // the process's POSIX locks on it, unless SQLite keeps the descriptor open).
  EXPECT_TRUE(locked_by_this_process(path));
  store->write(jobs_batch({job(2, JobState::pending)}));
  EXPECT_EQ(store->max_job_id(), 2u);
  store.reset();
  EXPECT_FALSE(locked_by_this_process(path));
}

// The cost of a durable commit is the pages it appends to the log: a job written or changed on
// its own must cost one page (the jobs leaf), not one more per index or counter.
TEST(SqliteStore, OneJobCommitAppendsOnePageToTheLog) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  store->write(jobs_batch({job(1, JobState::pending)}));
  std::string header = read_text(path + "-wal").substr(0, 32);
  ASSERT_EQ(header.size(), 32u);
  std::uintmax_t page_size = 0;  // big-endian at offset 8 of the log's header
  for (int i = 8; i < 12; ++i) page_size = page_size << 8 | static_cast<unsigned char>(header[i]);
  const std::uintmax_t frame = 24 + page_size;  // frame header + page
  auto log_size = [&] { return std::filesystem::file_size(path + "-wal"); };
  auto before = log_size();
  store->write(jobs_batch({job(2, JobState::pending)}));
  EXPECT_EQ(log_size(), before + frame) << "a new job";
  store->write(jobs_batch({job(2, JobState::running)}));
  EXPECT_EQ(log_size(), before + 2 * frame) << "a state change";
  EXPECT_EQ(store->max_job_id(), 2u);
}

TEST(SqliteStore, QueryableColumnsAndNoIndexOnJobs) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  JobRecord r = job(5, JobState::running);
  r.spec.partition = "gpu";
  r.start_ms = 2000;
  r.attempt = 1;
  r.array_job_id = 4;
  r.array_task_id = 1;
  store->write(jobs_batch({job(3, JobState::pending), r, job(9, JobState::running)}));
  store.reset();
  Raw raw(path);
  EXPECT_EQ(raw.column("SELECT state || ' ' || user || ' ' || tenant || ' ' || name || ' ' || "
                       "\"partition\" || ' ' || submit_ms || ' ' || start_ms || ' ' || end_ms || "
                       "' ' || attempt || ' ' || exit_code || ' ' || array_job_id || ' ' || "
                       "array_task_id FROM jobs WHERE id = 5"),
            std::vector<std::string>{"running ada lab n5 gpu 1005 2000 0 1 0 4 1"});
  EXPECT_EQ(raw.column("SELECT id FROM jobs WHERE state = 'running' ORDER BY id"),
            (std::vector<std::string>{"5", "9"}));
  // Every index would cost a page write per commit; only the primary keys of nodes, meta and the
  // identity and settings tables, and usage records by end (written only by commits that end an
  // attempt).
  EXPECT_EQ(raw.column("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"),
            (std::vector<std::string>{"sqlite_autoindex_meta_1", "sqlite_autoindex_nodes_1",
                                      "sqlite_autoindex_settings_1", "sqlite_autoindex_tenants_1",
                                      "sqlite_autoindex_tokens_1", "sqlite_autoindex_users_1",
                                      "usage_by_end"}));
}

// The schema zs wrote before version 2, verbatim.
constexpr const char* kSchemaVersion1 = R"sql(
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
CREATE INDEX jobs_by_state ON jobs(state);
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('max_job_id', 0);
PRAGMA user_version = 1;
)sql";

// A job row as version 1 wrote it (these jobs need no quoting).
std::string insert_v1(const JobRecord& j) {
  std::string record;
  append_compact_json(record, j);
  auto text = [](std::string_view v) { return "'" + std::string(v) + "', "; };
  auto number = [](auto v) { return std::to_string(v) + ", "; };
  return "INSERT INTO jobs VALUES (" + number(j.id) + text(to_string(j.state)) + text(j.spec.user) +
         text(j.spec.tenant) + text(j.spec.name) + text(j.spec.partition) + number(j.submit_ms) +
         number(j.start_ms) + number(j.end_ms) + number(j.attempt) + number(j.exit_code) +
         number(j.array_job_id) + number(j.array_task_id) + "'" + record + "')";
}

TEST(SqliteStore, VersionOneDatabaseIsMigratedKeepingItsJobs) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  JobRecord done = job(5, JobState::completed);
  done.end_ms = 3000;
  {
    Raw raw(path);
    raw.exec("PRAGMA journal_mode=WAL");
    raw.exec(kSchemaVersion1);
    raw.exec(insert_v1(job(3, JobState::running)));
    raw.exec(insert_v1(done));
    raw.exec("UPDATE meta SET value = 9 WHERE key = 'max_job_id'");  // job 9 was purged
    EXPECT_EQ(raw.column("PRAGMA user_version"), std::vector<std::string>{"1"});
  }
  {
    auto store = open_sqlite_store(path);
    EXPECT_EQ(store->load_jobs(), (std::vector<JobRecord>{job(3, JobState::running), done}));
    EXPECT_EQ(store->max_job_id(), 9u);
    store->write(jobs_batch({job(10, JobState::pending)}));
    EXPECT_EQ(store->purge_jobs_ended_before(4000), 1u);  // job 5, without the index
  }
  {
    Raw raw(path);
    EXPECT_EQ(raw.column("PRAGMA user_version"), std::vector<std::string>{"5"});
    EXPECT_EQ(raw.column("SELECT name FROM sqlite_master WHERE name = 'jobs_by_state'"),
              std::vector<std::string>{});
    EXPECT_EQ(raw.column("SELECT name FROM sqlite_master WHERE name = 'tokens'"),
              std::vector<std::string>{"tokens"});
    EXPECT_EQ(raw.column("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }
  auto store = open_sqlite_store(path);  // reopening a migrated file changes nothing
  EXPECT_EQ(store->load_jobs(),
            (std::vector<JobRecord>{job(3, JobState::running), job(10, JobState::pending)}));
  EXPECT_EQ(store->max_job_id(), 10u);
}

// The schema of version 3 (before accounting), verbatim.
constexpr const char* kSchemaVersion3 = R"sql(
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
CREATE TABLE tenants (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE users (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE tokens (id TEXT PRIMARY KEY, record TEXT NOT NULL);
PRAGMA user_version = 3;
)sql";

TEST(SqliteStore, VersionThreeDatabaseIsMigratedKeepingItsData) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  JobRecord done = job(5, JobState::completed);
  done.end_ms = 3000;
  {
    Raw raw(path);
    raw.exec("PRAGMA journal_mode=WAL");
    raw.exec(kSchemaVersion3);
    raw.exec(insert_v1(job(3, JobState::running)));
    raw.exec(insert_v1(done));
    raw.exec("INSERT INTO tenants VALUES ('lab', '{\"name\":\"lab\",\"created_ms\":7}')");
    raw.exec("UPDATE meta SET value = 9 WHERE key = 'max_job_id'");
  }
  UsageRecord u;
  u.tenant = "lab";
  u.user = "ada";
  u.job = 5;
  u.accel_type = "MLU590";
  u.accel_count = 8;
  u.start_ms = 1000;
  u.end_ms = 3000;
  u.state = "completed";
  u.price_per_hour = 8.5;
  {
    auto store = open_sqlite_store(path);
    EXPECT_EQ(store->load_jobs(), (std::vector<JobRecord>{job(3, JobState::running), done}));
    EXPECT_EQ(store->load_tenants(), (std::vector<TenantRecord>{TenantRecord{"lab", 7}}));
    EXPECT_EQ(store->max_job_id(), 9u);
    EXPECT_TRUE(store->load_usage({}).empty());
    WriteBatch b;
    b.usage = {u};
    store->write(b);
    EXPECT_EQ(store->purge_jobs_ended_before(4000), 1u);
  }
  {
    Raw raw(path);
    EXPECT_EQ(raw.column("PRAGMA user_version"), std::vector<std::string>{"5"});
    EXPECT_EQ(raw.column("SELECT job || ' ' || attempt || ' ' || tenant || ' ' || user || ' ' || "
                         "start_ms || ' ' || end_ms FROM usage"),
              std::vector<std::string>{"5 0 lab ada 1000 3000"});
    EXPECT_EQ(raw.column("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }
  auto store = open_sqlite_store(path);
  EXPECT_EQ(store->load_usage({}), std::vector<UsageRecord>{u});
  EXPECT_EQ(store->load_jobs(), std::vector<JobRecord>{job(3, JobState::running)});
}

TEST(SqliteStore, UnreadableUsageIsAStoreErrorNamingTheAttempt) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  UsageRecord u;
  u.job = 4;
  u.attempt = 2;
  u.end_ms = 10;
  u.state = "cancelled";
  WriteBatch b;
  b.usage = {u};
  open_sqlite_store(path)->write(b);
  Raw(path).exec("UPDATE usage SET record = '{\"job\":4,\"accel_count\":-1}'");
  try {
    open_sqlite_store(path)->load_usage({});
    ADD_FAILURE() << "loaded a corrupt record";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("usage of job 4 attempt 2 is unreadable: accel_count"),
              std::string::npos)
        << e.what();
  }
}

TEST(SqliteStore, UnreadableRecordIsAStoreErrorNamingTheJob) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  open_sqlite_store(path)->write(
      jobs_batch({job(1, JobState::pending), job(7, JobState::pending)}));
  Raw(path).exec("UPDATE jobs SET record = '{\"id\":7,\"spec\":{\"nodes\":-2}}' WHERE id = 7");
  auto store = open_sqlite_store(path);
  try {
    store->load_jobs();
    ADD_FAILURE() << "loaded a corrupt record";
  } catch (const StoreError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("job 7 is unreadable: spec.nodes: must not be negative"), std::string::npos)
        << what;
  }
  store.reset();
  Raw(path).exec("UPDATE jobs SET record = '{\"id\":7' WHERE id = 7");
  store = open_sqlite_store(path);
  EXPECT_THROW(store->load_jobs(), StoreError);
  EXPECT_EQ(store->max_job_id(), 7u);  // the store itself still works
}

TEST(SqliteStore, ErrorsDuringAWriteRollBack) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  open_sqlite_store(path)->write(jobs_batch({job(1, JobState::pending)}));
  // A trigger makes the second insert of the batch fail inside SQLite itself.
  Raw(path).exec(
      "CREATE TRIGGER no_twelve BEFORE INSERT ON jobs WHEN NEW.id = 12 "
      "BEGIN SELECT RAISE(ABORT, 'job 12 is cursed'); END");
  auto store = open_sqlite_store(path);
  try {
    store->write(jobs_batch({job(11, JobState::pending), job(12, JobState::pending)}));
    ADD_FAILURE() << "the write succeeded";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("writing a job: job 12 is cursed"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store->load_jobs().size(), 1u);
  EXPECT_EQ(store->max_job_id(), 1u);
  store->write(jobs_batch({job(11, JobState::pending)}));
  EXPECT_EQ(store->load_jobs().size(), 2u);
}

}  // namespace
}  // namespace zs::test
