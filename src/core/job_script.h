// Batch scripts and submit options in Slurm's vocabulary, so `sbatch` scripts run unchanged with
// `zs submit script.sh`. Pure: no I/O (the CLI reads the file and its environment).
//
// Three steps, so that the script and the command line share one vocabulary and one precedence:
//   1. read options: read_script_directives (the #SBATCH / #ZS lines of a script) and
//      read_option_args (command-line words) turn text into Directives;
//   2. apply_option applies them one by one to a JobOptions, in order: a later option replaces
//      an earlier one (script lines in file order, #SBATCH and #ZS alike, then the command line);
//   3. finish_job_spec reconciles the options that only make sense together (--gres is per node,
//      -n with --ntasks-per-node, ...) into a JobSpec, or throws on a conflict.
// parse_job_script does all three for a script plus optional command-line overrides.
//
// The JobSpec that results (see core/job_spec.h):
//   nodes           nodes the job spans; 0 = the scheduler chooses. Given by -N, else derived:
//                   from -n / --ntasks-per-node, from total / per-node accelerators, or 1 when
//                   only a per-node accelerator count (--gres, --gpus-per-node) is given.
//   accel_count     accelerators of the WHOLE job. --gres=gpu:4 -N 2 gives 8.
//   accel_per_node  accelerators on each node; 0 = not constrained (only when nodes is 0).
//                   When nodes > 0 and accel_count > 0, accel_count == nodes * accel_per_node.
//   accel_type      catalog model ("" = any); canonical model name when a Catalog is given.
//   tasks_per_node  tasks started on each node (the last node may get fewer when ntasks is not
//                   a multiple); --ntasks-per-node, else ceil(ntasks / nodes), else 1.
//   ntasks          total tasks when -n was given, else 0 (= nodes x tasks_per_node). With
//                   nodes 0 the launcher spreads ntasks over the nodes it gets.
//   mem_mib         per node (--mem-per-cpu and --mem-per-gpu are converted to it).
//   max_retries     --retries N; else kDefaultRequeueRetries with --requeue; else 0.
//   env             --export's NAME=VALUE entries; the CLI adds its own environment as
//                   JobScript::exports says (all of it, or only the listed names).
//   begin_ms        --begin, resolved against JobOptions::when (relative forms and times of
//                   day are relative to the submission, as sbatch resolves them).
//   hold            -H/--hold.
//   nodelist        -w/--nodelist, expanded; a list of more than one node without -N sets the
//                   node count to its length (Slurm: the job spans every listed node). More
//                   names than -N asks for, or a name also in --exclude, is an error.
//   exclude         -x/--exclude, expanded.
//   signal          --signal=[{R|B}:]SIG[@TIME]: signal, signal_time_s (60 when omitted) and
//                   signal_batch (B:); R: is ignored with a warning.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"
#include "core/begin_time.h"
#include "core/job_spec.h"
#include "core/slurm_values.h"

namespace zs {

inline constexpr int kDefaultRequeueRetries = 3;  // --requeue without --retries
inline constexpr int kMaxRetries = 1000;
inline constexpr int kMaxJobNodes = 1'000'000;
inline constexpr int kMaxJobAccels = 1'000'000;
inline constexpr int kMaxJobTasks = 10'000'000;

// The submission's wall clock and time zone, which --begin's relative forms and times of day
// count from (sbatch resolves them at submit too). The CLI sets both; zone null = UTC.
struct SubmitTime {
  TimeMs now_ms = 0;
  const TimeZone* zone = nullptr;
};

// One option as read from a script line or the command line.
struct Directive {
  std::string name;                  // canonical long name without dashes: "time" for -t
  std::string option;                // as written, for messages: "-t" or "--time"
  std::optional<std::string> value;  // nullopt for a flag such as --requeue
  std::string where;                 // "job.sh:3", or the option as written on the command line
  int line = 0;                      // script line (1-based); 0 on the command line
  bool operator==(const Directive&) const = default;
};

// Something accepted but not acted on: an option Zhisuan ignores (--mail-type, --qos, ...), a
// directive after the first command, the maximum of -N MIN-MAX, a non-accelerator --gres.
struct OptionWarning {
  std::string where;
  std::string message;
  bool operator==(const OptionWarning&) const = default;
};

// A value and the option that gave it, for conflict messages ("--gpus=16 at job.sh:3").
template <class T>
struct GivenOption {
  T value;
  std::string origin;  // "--gpus=16" or "-N 2", as written
  std::string where;
};

// Options applied so far. Fields that stand alone are written straight into `spec`; the
// resource options are kept as given, with where they came from, until finish_job_spec.
struct JobOptions {
  template <class T>
  using Given = GivenOption<T>;
  enum class MemPer { kNode, kCpu, kGpu };
  struct Mem {
    MemPer per = MemPer::kNode;
    std::int64_t mib = 0;
  };

  JobSpec spec;
  std::optional<Given<int>> nodes, ntasks, tasks_per_node;
  std::optional<Given<AccelRequest>> accel_total;           // --gpus, -G, --accel
  std::optional<Given<AccelRequest>> accel_per_node;        // --gres, --gpus-per-node
  std::optional<Given<AccelRequest>> accel_per_task;        // --gpus-per-task
  std::optional<Given<Mem>> mem;                            // --mem, --mem-per-cpu, --mem-per-gpu
  std::optional<Given<bool>> requeue;                       // --requeue / --no-requeue
  std::optional<Given<int>> retries;                        // --retries
  std::optional<Given<std::vector<std::string>>> nodelist;  // --nodelist, expanded
  ExportRequest exports;  // --export; the default (ALL) copies the submitter's environment
  std::vector<OptionWarning> warnings;
  SubmitTime when;  // what --begin's relative forms (now+1hour, 16:00) count from
};

// Applies one option. Throws InputError(d.where, ...) on a bad value or an unknown option.
void apply_option(JobOptions& opts, const Directive& d);
// The same for an option named in any form ("--time", "-t" or "time"), e.g. from a flag library.
void apply_option(JobOptions& opts, std::string_view option, std::optional<std::string_view> value,
                  const std::string& where);

// Reconciles the applied options into a JobSpec (see the top of this file). Throws InputError
// naming the options involved on a conflict (--gpus=16 with --gpus-per-node=4 and -N 2), on a
// count that does not divide evenly over the nodes, or, with a catalog, an unknown type.
// The catalog is fetched only when a type has to be resolved: building it costs more than the
// rest of `zs submit`, and most submissions name no type.
using CatalogSource = const Catalog& (*)();
JobSpec finish_job_spec(const JobOptions& opts, CatalogSource catalog = nullptr);

// The #SBATCH and #ZS directives of a script, in file order. Like sbatch, only the leading
// comment block counts: reading stops at the first line that is neither blank nor a comment
// (a line starting with '#', the "#!" shebang included). A directive line starts with "#SBATCH"
// or "#ZS" in column 0 followed by a blank; it holds any number of options, quoted like a shell
// ('...', "...", backslash), and an unquoted '#' after a blank starts a comment. Throws
// InputError("file:line", ...) on an unknown option, a missing value or a stray word.
// `warnings` (may be null) receives directives found after the first command (ignored).
std::vector<Directive> read_script_directives(std::string_view text, std::string_view file_name,
                                              std::vector<OptionWarning>* warnings = nullptr);

// Command-line words: options ("--time=10", "--time 10", "-t10", "-t 10", "-HQ") up to the first
// non-option word or "--". `operands` (may be null) receives the index of that first word (the
// script); without it a non-option word is an error. where = the option as written.
std::vector<Directive> read_option_args(const std::vector<std::string>& args,
                                        std::size_t* operands = nullptr);

// True for an option accepted only to be ignored (--mail-type, --qos, ...), in any form.
bool is_ignored_option(std::string_view option);

// Why a batch script cannot run, or "" when it can. As sbatch does, a script must start with
// "#!" and an interpreter (the agent executes the file itself), and must not have DOS line
// breaks ("\r\n": "#!/bin/bash\r" names no interpreter, and every line's command would end in
// a stray \r). Checked at submit, so the user hears it at once, not from a failed launch.
std::string script_problem(std::string_view text);

struct JobScript {
  JobSpec spec;                         // script = the text; name defaults to the file's basename
  std::vector<Directive> directives;    // from the script, in file order
  std::vector<OptionWarning> warnings;  // ignored options and directives, with their lines
  ExportRequest exports;                // what the CLI copies from the submitter's environment
};

// Reads a batch script: its directives, then `overrides` (the command line), then finish.
JobScript parse_job_script(std::string_view text, std::string_view file_name,
                           const std::vector<Directive>& overrides = {},
                           CatalogSource catalog = nullptr, const SubmitTime& when = {});

}  // namespace zs
