#include "agent/run_as.h"

#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/identity_record.h"

namespace zs {
namespace {

constexpr int kMaxGroups = 65536;  // NGROUPS_MAX

// A name for a message: bounded and printable (it came from the network).
std::string shown(const std::string& name) {
  std::string s = name.size() > 64 ? name.substr(0, 64) + "..." : name;
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return "'" + s + "'";
}

std::optional<UnixAccount> account_of(const passwd& pw) {
  UnixAccount a;
  a.name = pw.pw_name ? pw.pw_name : "";
  a.uid = pw.pw_uid;
  a.gid = pw.pw_gid;
  a.home = pw.pw_dir ? pw.pw_dir : "";
  int n = 32;
  std::vector<gid_t> groups;
  while (n <= kMaxGroups) {
    groups.resize(static_cast<std::size_t>(n));
    int got = n;
    if (::getgrouplist(a.name.c_str(), a.gid, groups.data(), &got) >= 0) {
      groups.resize(static_cast<std::size_t>(got));
      a.groups = std::move(groups);
      return a;
    }
    n = got > n ? got : n * 2;
  }
  a.groups = {a.gid};  // more groups than the kernel takes: the primary one only
  return a;
}

template <class F>
std::optional<UnixAccount> passwd_entry(F&& get) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(static_cast<std::size_t>(size > 0 ? size : 16384));
  while (true) {
    passwd pw{}, *result = nullptr;
    const int rc = get(&pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || !result) return std::nullopt;
    return account_of(pw);
  }
}

long raw(long number, long a, long b = 0) {
  return ::syscall(number, a, b);
}

}  // namespace

std::optional<UnixAccount> lookup_account(const std::string& name) {
  if (!unix_user_problem(name).empty()) return std::nullopt;
  return passwd_entry([&](passwd* pw, char* buf, std::size_t size, passwd** result) {
    return ::getpwnam_r(name.c_str(), pw, buf, size, result);
  });
}

UnixAccount own_account(bool* known) {
  const uid_t uid = ::geteuid();
  auto a = passwd_entry([&](passwd* pw, char* buf, std::size_t size, passwd** result) {
    return ::getpwuid_r(uid, pw, buf, size, result);
  });
  if (known) *known = a.has_value();
  if (a) return *a;
  UnixAccount self;
  self.name = "uid " + std::to_string(uid);
  self.uid = uid;
  self.gid = ::getegid();
  return self;
}

std::optional<RunAs> decide_run_as(const std::string& unix_user, const UnixAccount& self,
                                   bool self_known, bool single_user, const std::string& node,
                                   const AccountLookup& lookup, std::string& error) {
  RunAs as_self;
  as_self.account = self;
  as_self.known = self_known && !unix_user.empty();
  if (unix_user.empty()) return as_self;  // no account named: the agent's, as before
  if (std::string problem = unix_user_problem(unix_user); !problem.empty()) {
    error = "the job's Unix user " + shown(unix_user) + " is not valid: " + problem;
    return std::nullopt;
  }
  if (self.uid != 0) {
    if (unix_user == self.name || single_user) return as_self;
    error = "node " + node + ": its agent runs as Unix user " + shown(self.name) +
            ", not root, and does not run jobs of Unix user " + shown(unix_user) +
            " (start it as root, or with --single-user to run every job as " + shown(self.name) +
            ")";
    return std::nullopt;
  }
  std::optional<UnixAccount> account = lookup(unix_user);
  if (!account) {
    error = "no Unix user " + shown(unix_user) + " on node " + node;
    return std::nullopt;
  }
  if (account->uid == 0 && unix_user != "root") {
    error = "Unix user " + shown(unix_user) + " has uid 0 on node " + node +
            ": a job runs as uid 0 only when its user is bound to 'root' itself";
    return std::nullopt;
  }
  RunAs r;
  r.account = std::move(*account);
  r.known = true;
  r.switch_user = r.account.uid != 0;  // root's job: the agent is root already
  return r;
}

std::string run_as_summary(const UnixAccount& self, bool single_user) {
  if (self.uid == 0) return "jobs run as their users' Unix accounts";
  return "not running as root: every job runs as " + shown(self.name) + " (uid " +
         std::to_string(self.uid) + ")" +
         (single_user ? " (--single-user)"
                      : "; jobs of other Unix users are refused (--single-user runs them too)");
}

FsIdentity::FsIdentity(const RunAs& who) {
  if (!who.switch_user) return;
  // The current values: setfsuid/setfsgid return the previous one; -1 changes nothing.
  old_uid_ = static_cast<uid_t>(raw(SYS_setfsuid, -1));
  old_gid_ = static_cast<gid_t>(raw(SYS_setfsgid, -1));
  const long n = raw(SYS_getgroups, 0, 0);
  if (n > 0) {
    old_groups_.resize(static_cast<std::size_t>(n));
    if (raw(SYS_getgroups, n, reinterpret_cast<long>(old_groups_.data())) != n) old_groups_.clear();
  }
  active_ = true;
  const auto& a = who.account;
  if (raw(SYS_setgroups, static_cast<long>(a.groups.size()),
          reinterpret_cast<long>(a.groups.data())) != 0) {
    error_ = "cannot take the groups of Unix user " + shown(a.name) + ": " +
             std::system_category().message(errno);
    return;
  }
  raw(SYS_setfsgid, static_cast<long>(a.gid));
  raw(SYS_setfsuid, static_cast<long>(a.uid));
  // setfsuid says nothing about failure: read the values back.
  if (static_cast<uid_t>(raw(SYS_setfsuid, -1)) != a.uid ||
      static_cast<gid_t>(raw(SYS_setfsgid, -1)) != a.gid)
    error_ = "cannot act as Unix user " + shown(a.name) + " (uid " + std::to_string(a.uid) + ")";
}

FsIdentity::~FsIdentity() {
  if (!active_) return;
  raw(SYS_setfsuid, static_cast<long>(old_uid_));
  raw(SYS_setfsgid, static_cast<long>(old_gid_));
  raw(SYS_setgroups, static_cast<long>(old_groups_.size()),
      reinterpret_cast<long>(old_groups_.data()));
  if (static_cast<uid_t>(raw(SYS_setfsuid, -1)) != old_uid_)
    std::fprintf(stderr, "zs agent: cannot return to file system uid %u\n",
                 static_cast<unsigned>(old_uid_));
}

}  // namespace zs
