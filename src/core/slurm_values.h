// Parsers for the values of Slurm (sbatch) options: time limits, --array, --mem, --gres and
// friends, --dependency, --export. Pure: no I/O. Each throws InputError(where, what) naming the
// bad value and the accepted forms; `where` is a script location ("job.sh:3") or a flag name.
// The option vocabulary itself (which option sets which JobSpec field) is in job_script.h.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/job_spec.h"
#include "core/time.h"

namespace zs {

// Limits on what one submission may ask for (beyond them the value is almost certainly a typo,
// and the arithmetic stays far from overflow).
inline constexpr int kMaxArrayTasks = 100'000;       // indices in one --array, after dedup
inline constexpr int kMaxArrayIndex = 4'000'000;     // largest index (Slurm's own ceiling)
inline constexpr std::int64_t kMaxMemMib = 1 << 30;  // 1024 TiB per node
inline constexpr std::int64_t kMaxTimeS = std::int64_t{1} << 40;  // ~35k years, as parse_duration_s

// Slurm -t/--time: "MINUTES", "MINUTES:SECONDS", "HOURS:MINUTES:SECONDS", "DAYS-HOURS",
// "DAYS-HOURS:MINUTES", "DAYS-HOURS:MINUTES:SECONDS"; "0", "UNLIMITED" and "infinite" mean no
// limit (0). Fields are non-negative integers; a field may exceed its clock range ("90:00").
TimeMs parse_slurm_time(std::string_view s, const std::string& where = "--time");

// Slurm --array: comma-separated indices and ranges "A-B" or "A-B:STEP", optionally followed by
// "%N" (at most N tasks run at once). Indices are sorted and deduplicated; at most
// kMaxArrayTasks of them, each in [0, kMaxArrayIndex]. "0-15:4" -> 0,4,8,12.
ArraySpec parse_array_spec(std::string_view s, const std::string& where = "--array");

// Slurm --mem/--mem-per-cpu/--mem-per-gpu: a number of MiB, or with a K, M, G or T suffix
// (case-insensitive, an optional trailing B: "4GB"); fractions round up to whole MiB ("100K" is
// 1 MiB, "1.5G" is 1536). At most kMaxMemMib.
std::int64_t parse_slurm_memory_mib(std::string_view s, const std::string& where = "--mem");

// An accelerator request: `count` devices of `type` ("" = any type).
struct AccelRequest {
  std::string type;
  int count = 0;
  bool operator==(const AccelRequest&) const = default;
};

// --gpus, --gpus-per-node, --gpus-per-task and Zhisuan's --accel: "N" or "TYPE:N" (split at the
// last ':', so a type may itself hold a colon). A generic TYPE such as "gpu" means any type.
// The count is checked against `max_count` (the caller's limit: per node or per job).
AccelRequest parse_accel_count(std::string_view s, int max_count, const std::string& where);

// The accelerator resource names of --gres: gpu, mlu, npu, xpu, dcu, hpu, accel. The name says
// only "an accelerator"; the TYPE field (gpu:a100:4) picks the model.
bool is_accelerator_gres(std::string_view name);

// --gres: a comma list of NAME[:TYPE][:COUNT] (COUNT defaults to 1), per node. At most one entry
// may name an accelerator (one job asks for one kind of device); other names (nvme, shard, ...)
// are returned in `ignored` for a warning. "none" clears the request.
struct GresRequest {
  std::optional<AccelRequest> accel;  // nullopt: no accelerator in the list
  std::vector<std::string> ignored;
};
GresRequest parse_gres(std::string_view s, int max_per_node, const std::string& where);

// --dependency: "afterok:ID[:ID...]", several joined by ','. Other types (afterany, afternotok,
// after, singleton, ...) and '?' (any-of) are rejected: only afterok is supported. Sorted, no
// duplicates.
std::vector<JobId> parse_dependency(std::string_view s, const std::string& where);

// --export: "ALL", "NONE", or a comma list of NAME and NAME=VALUE entries, optionally with ALL or
// NONE among them. Without ALL, only the listed variables are exported (Slurm's rule).
struct ExportRequest {
  bool all = true;                 // copy the submitter's whole environment
  std::vector<std::string> names;  // NAME: copy this one from the submitter's environment
  std::vector<std::string> env;    // NAME=VALUE: set in every task
  bool operator==(const ExportRequest&) const = default;
};
ExportRequest parse_export(std::string_view s, const std::string& where);

// --signal: "[{R|B}:]SIG[@TIME]". SIG is a name (USR1, SIGUSR1, any case) or a number 1..64 that
// a process can catch (not KILL or STOP); TIME is whole seconds before the time limit, 0..65535,
// kDefaultSignalTimeS when omitted. B: signals only the batch script's shell; R: (Slurm: about
// reservations) has no meaning in Zhisuan and is accepted and ignored: `reservation` says it was
// given, for a warning. "RB:" and "BR:" combine both.
struct SignalRequest {
  int signal = 0;
  int time_s = 0;
  bool batch_only = false;
  bool reservation = false;
  bool operator==(const SignalRequest&) const = default;
};
SignalRequest parse_slurm_signal(std::string_view s, const std::string& where = "--signal");

// A value for an error message: single-quoted, control bytes escaped, long values cut short.
std::string quote_value(std::string_view s);

}  // namespace zs
