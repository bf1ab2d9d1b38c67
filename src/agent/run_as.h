// Who a job's tasks run as on this node (issue 15).
//
// An agent running as root starts every task as the job's Unix user (NodeLaunch::unix_user):
// the shim's child sets the user's supplementary groups, gid and uid, in that order, before
// the exec, and the agent opens the task's output files as that user (FsIdentity). uid 0 only
// for the account literally named "root"; another name that resolves to uid 0 is refused. An
// agent that is not root cannot switch users: it runs the jobs of its own account (or of no
// account) as itself, and refuses the others unless it was started with --single-user, which
// runs every job as the agent's account.
#pragma once
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zs {

// A Unix account as the node's passwd and group databases describe it.
struct UnixAccount {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups(3) would set them
};

// How an attempt's tasks run.
struct RunAs {
  bool switch_user = false;  // the agent is root and the tasks run as `account`
  UnixAccount account;       // the account the tasks run as (the agent's own when not switching)
  bool known = false;        // `account` came from passwd: USER, LOGNAME and HOME are set from it
};

using AccountLookup = std::function<std::optional<UnixAccount>(const std::string& name)>;

// The account of `name` on this node (getpwnam_r, getgrouplist); nullopt when there is none.
std::optional<UnixAccount> lookup_account(const std::string& name);
// The account this process runs as; its name is "uid N" when passwd does not know it.
UnixAccount own_account(bool* known = nullptr);

// Decides how a job of Unix user `unix_user` ("" = none: as the agent) runs on node `node`, for
// an agent running as `self`. Pure but for `lookup`. nullopt with the reason in `error` (naming
// the user and the node) when the job must not run here.
std::optional<RunAs> decide_run_as(const std::string& unix_user, const UnixAccount& self,
                                   bool self_known, bool single_user, const std::string& node,
                                   const AccountLookup& lookup, std::string& error);

// The line an agent prints at start about whom its jobs run as.
std::string run_as_summary(const UnixAccount& self, bool single_user);

// While it lives, the file system calls of the calling thread (opens, stats, creates) are
// checked as `who`: its fsuid, fsgid and supplementary groups, set with raw system calls, which
// on Linux change the calling thread only (glibc's setgroups would change every thread of the
// agent). Files it creates belong to `who`. A root fsuid switched to another loses the
// capabilities that bypass permissions, so nothing is opened that the user could not open.
// Does nothing when `who` does not switch users.
class FsIdentity {
 public:
  explicit FsIdentity(const RunAs& who);
  ~FsIdentity();
  FsIdentity(const FsIdentity&) = delete;
  FsIdentity& operator=(const FsIdentity&) = delete;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  bool active_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
  std::vector<gid_t> old_groups_;
  std::string error_;
};

}  // namespace zs
