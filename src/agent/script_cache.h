// Job scripts on an agent's disk, stored by content: tasks of an array, retries and repeated
// submissions share one file. Creating a directory and a file per attempt made ext4's inode
// allocator the agent's largest cost when thousands of short jobs ran (docs/benchmarks.md), and
// the files were never removed. A script lives while an attempt uses it; up to `keep_idle`
// unused ones stay for the next submission of the same text, older ones are deleted.
#pragma once
#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace zs {

class ScriptCache {
 public:
  // Creates `dir` if needed and empties it, except for the scripts of attempts a restarted
  // agent re-adopted (`in_use`, each path once per attempt using it): they stay, counted as
  // uses, so a relaunch of the same text does not rewrite a file a task may still read.
  explicit ScriptCache(std::string dir, std::size_t keep_idle = 64,
                       const std::vector<std::string>& in_use = {});

  // The path of an executable (0700) file holding `text`, written now unless present. Counts a
  // use; "" with `error` set when it cannot be written.
  std::string acquire(const std::string& text, std::string& error);
  // Ends one use of a path from acquire().
  void release(const std::string& path);

  std::size_t files() const { return entries_.size(); }

 private:
  struct Entry {
    int users = 0;
    std::list<std::string>::iterator idle_at;  // valid when users == 0
  };
  std::string dir_;
  std::size_t keep_idle_;
  std::map<std::string, Entry> entries_;  // by path
  std::list<std::string> idle_;           // unused paths, oldest first
  unsigned long long next_tmp_ = 0;
};

}  // namespace zs
