// The on-disk record of one node's part of an attempt: what lets a restarted agent re-adopt
// the tasks of the agent before it, and report exactly how the others ended.
//
// A record (a file of record_store.h, mode 0600) is written by the agent before it starts any
// task of the attempt, and freed when the controller has acknowledged the attempt's exit. Lines
// are appended with one write(2) each (O_APPEND), so a line is whole or absent; a last line
// without its '\n' is ignored:
//   R {json}    the agent, first: key, devices, ranks, cgroups, log files, walltime deadline
//   S <job> <attempt> <rank> <task pid> <task start> <shim pid> <shim start>   the shim (shim.h),
//                                                                   once the task runs
//   E <job> <attempt> <rank> <code> <signal> <end ms> <step> <errno>   the shim, when it ended
//   F {json}    the agent: a rank it could not start ({"rank", "reason", "at"})
//   T {json}    the agent: it stopped the attempt ({"reason", "at"}; the first one counts)
// S and E lines of another attempt (a late writer in a reused file) are ignored.
// Everything here is pure (no I/O), and parsing never throws: a damaged record is reported as
// damaged, never a reason for the agent to stop.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/agent_protocol.h"
#include "api/file_slice.h"

namespace zs {

inline constexpr std::size_t kMaxReportedText =
    1024;  // reasons and problems sent to the controller
inline constexpr std::size_t kMaxRecordBytes = std::size_t{16} << 20;  // read no more of a record

// A message made safe to send: at most kMaxReportedText bytes (cut at a character, "..." added),
// control characters and invalid UTF-8 replaced by '?'.
std::string bounded_text(std::string_view s, std::size_t max_bytes = kMaxReportedText);

struct AttemptHeader {
  AttemptKey key;
  int node_rank = 0;
  std::vector<int> ranks;                 // the tasks this node runs
  std::vector<int> devices;               // every device of those tasks
  TimeMs deadline_ms = 0;                 // walltime end, wall clock; 0 = none
  std::string kernel_boot;                // /proc/sys/kernel/random/boot_id when it started
  std::string tracking;                   // the attempt's tracking cgroup directory ("" = none)
  std::vector<std::string> limit_dirs;    // its CPU/memory limit cgroups
  std::vector<std::string> cgroup_procs;  // the cgroup.procs files its tasks joined
  std::string stdout_path, stderr_path;   // the first task's, for the log server
  FileIdentity stdout_id, stderr_id;      // the files it opened there: the only ones served
  std::string script;                     // the script cache file it uses ("" = none)
  std::string program, cwd;               // for messages about failed starts
  // The job's checkpoint signal (0 = none), B: or not, and when it is due (wall clock; 0 = only
  // at a preemption): a restarted agent still sends it.
  int signal = 0;
  bool signal_batch = false;
  TimeMs signal_ms = 0;
  bool operator==(const AttemptHeader&) const = default;
};

struct RankRecord {
  bool started = false;  // an S line: the task runs (or ran)
  pid_t task_pid = 0;
  std::string task_start;  // its start time (proc_start_time)
  pid_t shim_pid = 0;      // the shim that started it and writes its E line
  std::string shim_start;
  bool ended = false;  // an E line
  int exit_code = 0;
  int signal = 0;
  TimeMs end_ms = 0;
  int step = 0, detail = 0;  // a failed start in the shim (shim.h's ShimStep)
  std::string failed;        // an F line: the agent could not start it
  TimeMs failed_ms = 0;
};

struct AttemptRecord {
  std::optional<AttemptHeader> header;  // nullopt: no valid R line (damaged or cut short)
  std::map<int, RankRecord> ranks;      // by rank; only ranks the header names
  std::string stop_reason;              // the first T line's
  TimeMs stop_ms = 0;
  bool stopped = false;
};

std::string record_header_line(const AttemptHeader& h);
std::string record_failed_line(int rank, std::string_view reason, TimeMs at);
std::string record_stop_line(std::string_view reason, TimeMs at);
// `known`: the header the agent already holds (the R line is then only checked to be there, not
// decoded again: the agent reads a record at every task's end).
AttemptRecord parse_attempt_record(std::string_view text, const AttemptHeader* known = nullptr);

// How one rank ended, as the agent decides it.
struct RankOutcome {
  enum Kind { exited, launch_failed, lost } kind = exited;
  int exit_code = 0;  // exited: the code (128 + N for signal N); launch_failed: 127
  TimeMs end_ms = 0;
  std::string reason;  // launch_failed / lost: why
};

// The outcome of a rank whose record has an E or F line; nullopt while it has neither.
std::optional<RankOutcome> outcome_of(const RankRecord& r, const AttemptHeader& h);

// The node's exit from its ranks' outcomes and the stop reason ("" = not stopped for a reason):
// the code of the rank that failed first (by end time, then rank; 0 if none failed), the stop
// reason, else the first failed start ("launch failed: ..."), else the first lost rank
// ("lost: ..."); the end time is the last rank's. Reasons are bounded (bounded_text).
// `stopped_ms` (0: never): when the agent stopped the remaining ranks (a rank failed, a kill).
// A rank that died of a signal at or after it died of that stop: its code is reported only
// when no rank failed on its own (the failing rank's code wins, whatever the clocks say).
NodeExit node_exit_of(const AttemptKey& key, const std::map<int, RankOutcome>& outcomes,
                      const std::string& stop_reason, std::int64_t stopped_ms = 0);

}  // namespace zs
