// What only the SQLite store does: refusing files it must not touch, WAL mode, its schema.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "scratch_dir.h"
#include "store/store.h"

namespace zs::test {
namespace {

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

TEST(SqliteStore, UsesWalModeAndSchemaVersionOne) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  EXPECT_EQ(store->describe(), "sqlite " + path + " (WAL)");
  store->write(WriteBatch{{job(1, JobState::pending)}, {}, {}});
  Raw raw(path);
  EXPECT_EQ(raw.column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(raw.column("PRAGMA user_version"), std::vector<std::string>{"1"});
}

TEST(SqliteStore, QueryableColumnsAndStateIndex) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  JobRecord r = job(5, JobState::running);
  r.spec.partition = "gpu";
  r.start_ms = 2000;
  r.attempt = 1;
  r.array_job_id = 4;
  r.array_task_id = 1;
  store->write(WriteBatch{{job(3, JobState::pending), r, job(9, JobState::running)}, {}, {}});
  Raw raw(path);
  EXPECT_EQ(raw.column("SELECT state || ' ' || user || ' ' || tenant || ' ' || name || ' ' || "
                       "\"partition\" || ' ' || submit_ms || ' ' || start_ms || ' ' || end_ms || "
                       "' ' || attempt || ' ' || exit_code || ' ' || array_job_id || ' ' || "
                       "array_task_id FROM jobs WHERE id = 5"),
            std::vector<std::string>{"running ada lab n5 gpu 1005 2000 0 1 0 4 1"});
  EXPECT_EQ(raw.column("SELECT id FROM jobs WHERE state = 'running' ORDER BY id"),
            (std::vector<std::string>{"5", "9"}));
  // Listing by state reads the index, in id order, without sorting.
  std::vector<std::string> plan =
      raw.column("EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE state = 'running' ORDER BY id");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("USING COVERING INDEX jobs_by_state"), std::string::npos) << plan[0];
}

TEST(SqliteStore, UnreadableRecordIsAStoreErrorNamingTheJob) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  store->write(WriteBatch{{job(1, JobState::pending), job(7, JobState::pending)}, {}, {}});
  Raw(path).exec("UPDATE jobs SET record = '{\"id\":7,\"spec\":{\"nodes\":-2}}' WHERE id = 7");
  try {
    store->load_jobs();
    ADD_FAILURE() << "loaded a corrupt record";
  } catch (const StoreError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("job 7 is unreadable: spec.nodes: must not be negative"), std::string::npos)
        << what;
  }
  Raw(path).exec("UPDATE jobs SET record = '{\"id\":7' WHERE id = 7");
  EXPECT_THROW(store->load_jobs(), StoreError);
  EXPECT_EQ(store->max_job_id(), 7u);  // the store itself still works
}

TEST(SqliteStore, ErrorsDuringAWriteRollBack) {
  ScratchDir dir;
  std::string path = dir / "state.db";
  auto store = open_sqlite_store(path);
  store->write(WriteBatch{{job(1, JobState::pending)}, {}, {}});
  // A trigger makes the second insert of the batch fail inside SQLite itself.
  Raw(path).exec(
      "CREATE TRIGGER no_twelve BEFORE INSERT ON jobs WHEN NEW.id = 12 "
      "BEGIN SELECT RAISE(ABORT, 'job 12 is cursed'); END");
  try {
    store->write(WriteBatch{{job(11, JobState::pending), job(12, JobState::pending)}, {}, {}});
    ADD_FAILURE() << "the write succeeded";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("writing a job: job 12 is cursed"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store->load_jobs().size(), 1u);
  EXPECT_EQ(store->max_job_id(), 1u);
  store->write(WriteBatch{{job(11, JobState::pending)}, {}, {}});
  EXPECT_EQ(store->load_jobs().size(), 2u);
}

}  // namespace
}  // namespace zs::test
