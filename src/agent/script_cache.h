// Job scripts on an agent's disk, stored by content: tasks of an array, retries and repeated
// submissions share one file. Creating a directory and a file per attempt made ext4's inode
// allocator the agent's largest cost when thousands of short jobs ran (docs/benchmarks.md), and
// the files were never removed. A script lives while an attempt uses it; up to `keep_idle`
// unused ones stay for the next submission of the same text, older ones are deleted.
//
// A script belongs to the Unix user its job runs as (chown, mode 0700): only that user (and
// root) may read or run it, and users never share a file. For that user to execute it, the
// directory is 0711 (and so is the agent's work directory when the agent is root, work_dir.h):
// anyone may pass through, no one but root may list it, and the names are random (128 bits),
// so another user cannot even tell whether a script exists. Passing an open descriptor instead
// would make $0 a /dev/fd path, which scripts that look at their own path (as Slurm's do)
// cannot use.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace zs {

// Whose a script file is: `chown` to uid/gid, or the agent's when false.
struct ScriptOwner {
  bool chown = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

class ScriptCache {
 public:
  // Creates `dir` if needed and empties it, except for the scripts of attempts a restarted
  // agent re-adopted (`in_use`, each path once per attempt using it): they stay, counted as
  // uses, so a relaunch of the same text does not rewrite a file a task may still read.
  explicit ScriptCache(std::string dir, std::size_t keep_idle = 64,
                       const std::vector<std::string>& in_use = {});

  // The path of an executable (0700) file of `owner` holding `text`, written now unless present.
  // Counts a use; "" with `error` set when it cannot be written.
  std::string acquire(const std::string& text, std::string& error, ScriptOwner owner = {});
  // Ends one use of a path from acquire().
  void release(const std::string& path);

  std::size_t files() const { return entries_.size(); }

 private:
  // (owner uid, owner gid, hash of the text, its size): what a file is found by.
  using Key = std::tuple<long long, long long, std::uint64_t, std::size_t>;
  struct Entry {
    int users = 0;
    std::list<std::string>::iterator idle_at;  // valid when users == 0
    bool indexed = false;                      // in by_key_ (not a re-adopted attempt's file)
    Key key;
  };
  std::string dir_;
  std::size_t keep_idle_;
  std::map<std::string, Entry> entries_;  // by path
  std::map<Key, std::string> by_key_;
  std::list<std::string> idle_;  // unused paths, oldest first
  void forget(const std::string& path);
};

}  // namespace zs
