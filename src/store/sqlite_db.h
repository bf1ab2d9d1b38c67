// Thin RAII wrappers over the SQLite C API that turn every failure into a StoreError carrying
// the database path and SQLite's own message.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zs::sqlite {

class Db {
 public:
  explicit Db(std::string path);  // opens (creating if needed) read-write
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const char* sql);  // statements without results
  bool in_transaction() const;
  void set_busy_timeout(int ms);      // how long to wait for another process's lock
  std::int64_t changed_rows() const;  // by the last INSERT, UPDATE or DELETE
  void rollback_quietly() noexcept;   // after a failure; never throws
  // "sqlite store <path>: <doing>: <sqlite's message>"
  [[noreturn]] void fail(std::string_view doing) const;
  [[noreturn]] void fail(std::string_view doing, std::string_view why) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement, reused across calls: bind, step until done, reset.
class Statement {
 public:
  // `doing` names the statement in error messages ("writing a job").
  Statement(Db& db, const char* doing, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  // The text must stay alive until the statement is reset (it is not copied).
  Statement& bind(int index, std::string_view text);
  bool step();  // true: a row is ready; false: done. Resets and throws on error.
  void run();   // step() to the end, then reset()
  void reset();

  std::int64_t int_column(int index) const;
  std::string_view text_column(int index) const;
  bool null_column(int index) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  const char* doing_;
};

}  // namespace zs::sqlite
