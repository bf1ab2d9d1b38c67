#include "store/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

namespace zs::sqlite {
namespace {

// Why a path may not open, in words SQLite does not give ("unable to open database file").
std::string open_hint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::exists(parent, ec)) return " (directory " + parent.string() + " does not exist)";
  if (fs::is_directory(path, ec)) return " (it is a directory)";
  return "";
}

// SQLite's message for `rc`, but SQLITE_BUSY in words: the store holds its file exclusively from
// open to close (locking_mode=EXCLUSIVE), so busy means that another store has it.
std::string why_failed(sqlite3* db, int rc, const char* message) {
  if ((rc & 0xff) == SQLITE_BUSY)
    return "the state database is in use by another process (is another zs controller running "
           "on this state dir?)";
  return message ? message : sqlite3_errmsg(db);
}

}  // namespace

Db::Db(std::string path) : path_(std::move(path)) {
  // The database holds every job's script and environment: owner-only. SQLite creates the
  // -wal and -shm files with the database file's mode, so creating that one 0600 (and fixing an
  // older file and its companions) covers all three.
  // Only a missing file is created here: closing a descriptor of an existing one would drop
  // the POSIX locks this process holds on it (another store open on the same file).
  if (path_ != ":memory:") {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0 && errno == ENOENT) {
      const int fd =
          ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd >= 0) ::close(fd);
    }
    for (const char* suffix : {"", "-wal", "-shm"})
      if (::chmod((path_ + suffix).c_str(), 0600) != 0 && errno != ENOENT && *suffix == '\0')
        fail("cannot make private (chmod 600)", std::strerror(errno));
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    fail("cannot open", why + open_hint(path_));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string why = why_failed(db_, rc, err);
    sqlite3_free(err);
    fail(sql, why);
  }
}

bool Db::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

void Db::set_busy_timeout(int ms) {
  sqlite3_busy_timeout(db_, ms);
}

std::int64_t Db::changed_rows() const {
  return sqlite3_changes64(db_);
}

void Db::rollback_quietly() noexcept {
  // SQLite rolls back by itself after some errors (e.g. a full disk); then there is nothing to do.
  if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Db::fail(std::string_view doing) const {
  fail(doing, sqlite3_errmsg(db_));
}

void Db::fail(std::string_view doing, std::string_view why) const {
  throw StoreError("sqlite store " + path_ + ": " + std::string(doing) + ": " + std::string(why));
}

Statement::Statement(Db& db, const char* doing, const char* sql) : db_(db), doing_(doing) {
  if (sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
      SQLITE_OK)
    db.fail(std::string("preparing the statement for ") + doing);
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) db_.fail("binding a value");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  const char* data = text.data() ? text.data() : "";  // a null pointer would bind NULL
  if (sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK)
    db_.fail("binding a value");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string why = why_failed(db_.handle(), rc, nullptr);
  sqlite3_reset(stmt_);
  db_.fail(doing_, why);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
}

std::int64_t Statement::int_column(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::string_view Statement::text_column(int index) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
           : std::string_view();
}

bool Statement::null_column(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

}  // namespace zs::sqlite
