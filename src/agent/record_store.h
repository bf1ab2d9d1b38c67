// Where attempt records (attempt_record.h) live: files in <work-dir>/attempts, reused.
//
// Creating and deleting a file per attempt made ext4's inode allocator the agent's largest cost
// (find_inode_bit and recently_deleted took more than half of the agent's CPU with `true` jobs
// at about 400 attempts/s per agent; docs/benchmarks.md). A freed record is cut to its first byte
// (an R without its line: no attempt) and kept as a spare for the next attempt, so steady
// operation creates and deletes no files. At most kMaxSpares spares are kept.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "agent/attempt_record.h"

namespace zs {

class RecordStore {
 public:
  static constexpr std::size_t kMaxSpares = 256;

  explicit RecordStore(std::string dir);  // creates it, mode 0700

  struct Found {
    std::string path;
    AttemptRecord record;
  };
  // The records that hold an attempt (a restarting agent's); every other file becomes a spare.
  std::vector<Found> load();

  // A file for a new attempt, holding exactly `header` (its R line): an O_APPEND descriptor
  // (>= 3) and its path, or -1 with the reason in `error`.
  int create(const std::string& header, std::string& path, std::string& error);
  // The attempt is over for good (its exit acknowledged): the file is a spare again.
  void free(const std::string& path);

  std::string read(const std::string& path) const;  // at most kMaxRecordBytes
  void append(const std::string& path, const std::string& line) const;
  std::size_t spares() const { return spares_.size(); }

 private:
  std::string dir_;
  std::vector<std::string> spares_;
  std::uint64_t next_ = 0;
};

}  // namespace zs
