#include "core/job_script.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/begin_time.h"
#include "core/cluster.h"
#include "core/hostlist.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {

namespace {

// ---------------------------------------------------------------------------------------------
// The vocabulary: sbatch's options (same names, short letters and argument rules as its
// getopt_long table) plus Zhisuan's --accel and --retries.

enum class Arg : std::uint8_t { kNone, kRequired, kOptional };  // kOptional: only "--opt=value"

enum class Kind : std::uint8_t {
  kJobName,
  kNodes,
  kNtasks,
  kTasksPerNode,
  kCpusPerTask,
  kMem,
  kMemPerCpu,
  kMemPerGpu,
  kTime,
  kPartition,
  kAccount,
  kOutput,
  kError,
  kChdir,
  kArray,
  kDependency,
  kGres,
  kGpus,
  kGpusPerNode,
  kGpusPerTask,
  kRequeue,
  kNoRequeue,
  kRetries,
  kPriority,
  kExport,
  kBegin,
  kHold,
  kNodelist,
  kExclude,
  kSignal,
  kIgnored,     // accepted, a warning says it has no effect
  kUnsupported  // matters but cannot be honoured: an error with a hint
};

struct OptionInfo {
  std::string_view name;
  char short_name;
  Arg arg;
  Kind kind;
  std::string_view note = {};  // why ignored / what to use instead
};

constexpr Arg R = Arg::kRequired, F = Arg::kNone, O = Arg::kOptional;

const FixedOffsetZone kUtc;  // --begin's zone when the caller names none
constexpr Kind I = Kind::kIgnored;

constexpr OptionInfo kOptions[] = {
    {"job-name", 'J', R, Kind::kJobName},
    {"nodes", 'N', R, Kind::kNodes},
    {"ntasks", 'n', R, Kind::kNtasks},
    {"ntasks-per-node", 0, R, Kind::kTasksPerNode},
    {"tasks-per-node", 0, R, Kind::kTasksPerNode},
    {"cpus-per-task", 'c', R, Kind::kCpusPerTask},
    {"mem", 0, R, Kind::kMem},
    {"mem-per-cpu", 0, R, Kind::kMemPerCpu},
    {"mem-per-gpu", 0, R, Kind::kMemPerGpu},
    {"time", 't', R, Kind::kTime},
    {"partition", 'p', R, Kind::kPartition},
    {"account", 'A', R, Kind::kAccount},
    {"output", 'o', R, Kind::kOutput},
    {"error", 'e', R, Kind::kError},
    {"chdir", 'D', R, Kind::kChdir},
    {"workdir", 0, R, Kind::kChdir},  // sbatch's old name for --chdir
    {"array", 'a', R, Kind::kArray},
    {"dependency", 'd', R, Kind::kDependency},
    {"gres", 0, R, Kind::kGres},
    {"gpus", 'G', R, Kind::kGpus},
    {"accel", 0, R, Kind::kGpus},  // Zhisuan: total accelerators, [TYPE:]N
    {"gpus-per-node", 0, R, Kind::kGpusPerNode},
    {"gpus-per-task", 0, R, Kind::kGpusPerTask},
    {"requeue", 0, F, Kind::kRequeue},
    {"no-requeue", 0, F, Kind::kNoRequeue},
    {"retries", 0, R, Kind::kRetries},  // Zhisuan
    {"priority", 0, R, Kind::kPriority},
    {"export", 0, R, Kind::kExport},
    {"begin", 'b', R, Kind::kBegin},
    {"hold", 'H', F, Kind::kHold},
    {"nodelist", 'w', R, Kind::kNodelist},
    {"exclude", 'x', R, Kind::kExclude},
    {"signal", 0, R, Kind::kSignal},

    {"mail-type", 0, R, I, "no mail is sent"},
    {"mail-user", 0, R, I, "no mail is sent"},
    {"qos", 'q', R, I},
    {"exclusive", 0, O, I, "jobs get whole devices, not whole nodes"},
    {"constraint", 'C', R, I, "use --gpus=TYPE:N or --accel to choose a device type"},
    {"cluster-constraint", 0, R, I},
    {"prefer", 0, R, I},
    {"nice", 0, O, I, "use --priority"},
    {"comment", 0, R, I},
    {"open-mode", 0, R, I},
    {"wait-all-nodes", 0, R, I},
    {"hint", 0, R, I},
    {"distribution", 'm', R, I},
    {"time-min", 0, R, I},
    {"deadline", 0, R, I},
    {"reservation", 0, R, I},
    {"nodefile", 'F', R, I, "Zhisuan places jobs itself"},
    {"licenses", 'L', R, I},
    {"clusters", 'M', R, I},
    {"core-spec", 'S', R, I},
    {"thread-spec", 0, R, I},
    {"extra-node-info", 'B', R, I},
    {"sockets-per-node", 0, R, I},
    {"cores-per-socket", 0, R, I},
    {"threads-per-core", 0, R, I},
    {"ntasks-per-core", 0, R, I},
    {"ntasks-per-socket", 0, R, I},
    {"mincpus", 0, R, I},
    {"tmp", 0, R, I},
    {"overcommit", 'O', F, I},
    {"oversubscribe", 's', F, I},
    {"contiguous", 0, F, I},
    {"spread-job", 0, F, I},
    {"use-min-nodes", 0, F, I},
    {"parsable", 0, F, I},
    {"quiet", 'Q', F, I},
    {"verbose", 'v', F, I},
    {"wait", 'W', F, I},
    {"test-only", 0, F, I},
    {"reboot", 0, F, I},
    {"ignore-pbs", 0, F, I},
    {"no-kill", 'k', O, I},
    {"immediate", 'I', O, I},
    {"get-user-env", 0, O, I},
    {"propagate", 0, O, I},
    {"kill-on-invalid-dep", 0, R, I},
    {"wckey", 0, R, I},
    {"acctg-freq", 0, R, I},
    {"gpu-bind", 0, R, I},
    {"gpu-freq", 0, R, I},
    {"cpu-freq", 0, R, I},
    {"mem-bind", 0, R, I},
    {"profile", 0, R, I},
    {"switches", 0, R, I},
    {"network", 0, R, I},
    {"mcs-label", 0, R, I},
    {"delay-boot", 0, R, I},
    {"input", 'i', R, I},
    {"uid", 0, R, I},
    {"gid", 0, R, I},
    {"power", 0, R, I},
    {"bb", 0, R, I},
    {"bbf", 0, R, I},
    {"container", 0, R, I},
    {"export-file", 0, R, I},
    {"batch", 0, R, I},

    {"cpus-per-gpu", 0, R, Kind::kUnsupported, "use -c/--cpus-per-task"},
    {"ntasks-per-gpu", 0, R, Kind::kUnsupported, "use --ntasks-per-node or --gpus-per-task"},
    {"gpus-per-socket", 0, R, Kind::kUnsupported, "use --gpus-per-node"},
    // On the command line, zs submit takes --wrap itself (before this table is consulted).
    {"wrap", 0, R, Kind::kUnsupported,
     "--wrap belongs on the zs submit command line, not in a script"},
};

const OptionInfo* find_long(std::string_view name) {
  for (const auto& o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

const OptionInfo* find_short(char c) {
  for (const auto& o : kOptions)
    if (o.short_name != 0 && o.short_name == c) return &o;
  return nullptr;
}

// "--name", "-c" or "name" -> its entry.
const OptionInfo* find_any(std::string_view option) {
  if (option.substr(0, 2) == "--") return find_long(option.substr(2));
  if (option.size() == 2 && option[0] == '-') return find_short(option[1]);
  return find_long(option);
}

std::string unknown_message(std::string_view option, bool script) {
  std::string quoted = quote_value(option);  // escapes control bytes; the quotes are dropped
  std::string msg =
      (script ? "unknown directive " : "unknown option ") + quoted.substr(1, quoted.size() - 2);
  // The unique option that starts like this one, e.g. --job -> --job-name.
  if (option.substr(0, 2) == "--" && option.size() > 2) {
    const OptionInfo* match = nullptr;
    int matches = 0;
    for (const auto& o : kOptions)
      if (o.name.substr(0, option.size() - 2) == option.substr(2)) {
        match = &o;
        ++matches;
      }
    if (matches == 1) msg += " (did you mean --" + std::string(match->name) + "?)";
  }
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Reading options from words.

// A directive line's words, split like a shell: blanks separate, '...' is literal, "..." allows
// \" \\ \$ \` escapes, a backslash quotes the next character, '#' at a word start ends the line.
std::vector<std::string> split_words(std::string_view line, const std::string& where) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    if (c == '#' && !in_word) break;
    in_word = true;
    if (c == '\'') {
      const auto end = line.find('\'', i + 1);
      if (end == std::string_view::npos) throw InputError(where, "unterminated ' quote");
      cur.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) throw InputError(where, "unterminated \" quote");
        if (line[i] == '"') break;
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[i + 1]) != std::string_view::npos)
          ++i;
        cur += line[i];
      }
    } else if (c == '\\' && i + 1 < line.size()) {
      cur += line[++i];
    } else {
      cur += c;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

// Options from words[0...]. `script_where` is "file:line" for a directive line (every word must
// then be an option) or "" for the command line (stops at the first non-option word, returned).
std::size_t read_words(const std::vector<std::string>& words, const std::string& script_where,
                       int line, std::vector<Directive>& out) {
  const bool script = !script_where.empty();
  auto emit = [&](const OptionInfo& info, std::string option, std::optional<std::string> value) {
    Directive d;
    d.name = std::string(info.name);
    d.where = script ? script_where : option;
    d.option = std::move(option);
    d.value = std::move(value);
    d.line = line;
    out.push_back(std::move(d));
  };
  std::size_t i = 0;
  for (; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-' || w == "--") {
      if (!script) return w == "--" ? i + 1 : i;
      throw InputError(script_where, "unexpected " + quote_value(w) +
                                         " (a directive holds options such as --time=10)");
    }
    if (w[1] == '-') {  // --name, --name=value, --name value
      const auto eq = w.find('=');
      const std::string option = w.substr(0, eq);
      const OptionInfo* info = find_long(std::string_view(option).substr(2));
      if (!info) throw InputError(script ? script_where : option, unknown_message(option, script));
      std::optional<std::string> value;
      if (eq != std::string::npos) value = w.substr(eq + 1);
      const std::string& where = script ? script_where : option;
      if (info->arg == Arg::kNone && value) throw InputError(where, option + " takes no value");
      if (info->arg == Arg::kRequired && !value) {
        if (i + 1 >= words.size()) throw InputError(where, option + " needs a value");
        value = words[++i];
      }
      emit(*info, option, std::move(value));
      continue;
    }
    // -x, -xVALUE, -x VALUE, and flags grouped as in -HQ.
    for (std::size_t j = 1; j < w.size(); ++j) {
      const std::string option = std::string("-") + w[j];
      const OptionInfo* info = find_short(w[j]);
      if (!info) throw InputError(script ? script_where : option, unknown_message(option, script));
      if (info->arg != Arg::kRequired) {
        emit(*info, option, std::nullopt);
        continue;
      }
      std::optional<std::string> value;
      if (j + 1 < w.size()) {
        value = w.substr(j + 1);
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        throw InputError(script ? script_where : option, option + " needs a value");
      }
      emit(*info, option, std::move(value));
      break;
    }
  }
  return i;
}

// "#SBATCH" or "#ZS" then a blank or the end of the line: the rest of the line, else nullopt.
std::optional<std::string_view> directive_body(std::string_view line) {
  for (std::string_view prefix : {"#SBATCH", "#ZS"}) {
    if (line.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = line.substr(prefix.size());
    if (rest.empty() || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r') return rest;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Applying one option.

// The option as the user would write it: "--gpus=16", "-N 2", "--requeue".
std::string origin_of(const Directive& d) {
  if (!d.value) return d.option;
  return d.option + (d.option.substr(0, 2) == "--" ? "=" : " ") + *d.value;
}

template <class T>
JobOptions::Given<T> given(T value, const Directive& d) {
  return {std::move(value), origin_of(d), d.where};
}

// A whole number in [lo, hi] ("+3" and surrounding blanks are fine).
std::int64_t whole_number(const Directive& d, std::string_view text, std::int64_t lo,
                          std::int64_t hi) {
  auto v = parse_int(text);
  if (!v || *v < lo || *v > hi)
    throw InputError(d.where, d.option + " needs a whole number from " + std::to_string(lo) +
                                  " to " + std::to_string(hi) + ", not " + quote_value(text));
  return *v;
}

// A name, path or pattern: not empty, no control characters (they would corrupt logs and files).
std::string text_value(const Directive& d) {
  const std::string& v = *d.value;
  if (trim(v).empty()) throw InputError(d.where, d.option + " needs a non-empty value");
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw InputError(d.where,
                       d.option + " value " + quote_value(v) + " contains a control character");
  return v;
}

void apply_nodes(JobOptions& o, const Directive& d) {
  const std::string& v = *d.value;
  const auto dash = v.find('-', 1);  // "MIN-MAX": Zhisuan gangs are fixed-size, MIN is used
  if (dash == std::string::npos) {
    o.nodes = given(static_cast<int>(whole_number(d, v, 1, kMaxJobNodes)), d);
    return;
  }
  const auto lo = whole_number(d, std::string_view(v).substr(0, dash), 1, kMaxJobNodes);
  const auto hi = whole_number(d, std::string_view(v).substr(dash + 1), 1, kMaxJobNodes);
  if (hi < lo)
    throw InputError(d.where,
                     d.option + " " + quote_value(v) + ": the maximum is below the minimum");
  o.nodes = given(static_cast<int>(lo), d);
  if (hi != lo)
    o.warnings.push_back({d.where, d.option + " " + v + ": the job gets exactly " +
                                       std::to_string(lo) + " nodes (the minimum)"});
}

void apply_known(JobOptions& o, const OptionInfo& info, const Directive& d) {
  JobSpec& s = o.spec;
  const std::string v = d.value.value_or("");
  switch (info.kind) {
    case Kind::kJobName:
      s.name = text_value(d);
      break;
    case Kind::kNodes:
      apply_nodes(o, d);
      break;
    case Kind::kNtasks:
      o.ntasks = given(static_cast<int>(whole_number(d, v, 1, kMaxJobTasks)), d);
      break;
    case Kind::kTasksPerNode:
      o.tasks_per_node = given(static_cast<int>(whole_number(d, v, 1, kMaxJobTasks)), d);
      break;
    case Kind::kCpusPerTask: {
      auto c = parse_double(v);
      if (!c || *c <= 0 || *c > 1e6)
        throw InputError(d.where,
                         d.option + " needs a positive number of CPUs, not " + quote_value(v));
      s.cpus_per_task = *c;
      break;
    }
    case Kind::kMem:
    case Kind::kMemPerCpu:
    case Kind::kMemPerGpu: {
      const auto per = info.kind == Kind::kMem         ? JobOptions::MemPer::kNode
                       : info.kind == Kind::kMemPerCpu ? JobOptions::MemPer::kCpu
                                                       : JobOptions::MemPer::kGpu;
      o.mem = given(JobOptions::Mem{per, parse_slurm_memory_mib(v, d.where)}, d);
      break;
    }
    case Kind::kTime:
      s.walltime = parse_slurm_time(v, d.where);
      break;
    case Kind::kPartition:
      s.partition = text_value(d);
      break;
    case Kind::kAccount:
      s.tenant = text_value(d);
      break;
    case Kind::kOutput:
      s.stdout_path = text_value(d);
      break;
    case Kind::kError:
      s.stderr_path = text_value(d);
      break;
    case Kind::kChdir:
      s.work_dir = text_value(d);
      break;
    case Kind::kArray:
      parse_array_spec(v, d.where);  // validated now, expanded at submit
      s.array = std::string(trim(v));
      break;
    case Kind::kDependency:
      s.after_ok = parse_dependency(v, d.where);
      break;
    case Kind::kGres: {
      GresRequest g = parse_gres(v, kMaxDevicesPerNode, d.where);
      for (const auto& other : g.ignored)
        o.warnings.push_back(
            {d.where, "--gres entry " + quote_value(other) + " is not an accelerator; ignored"});
      if (g.accel) o.accel_per_node = given(*g.accel, d);
      break;
    }
    case Kind::kGpus:
      o.accel_total = given(parse_accel_count(v, kMaxJobAccels, d.where), d);
      break;
    case Kind::kGpusPerNode:
      o.accel_per_node = given(parse_accel_count(v, kMaxDevicesPerNode, d.where), d);
      break;
    case Kind::kGpusPerTask:
      o.accel_per_task = given(parse_accel_count(v, kMaxDevicesPerNode, d.where), d);
      break;
    case Kind::kRequeue:
    case Kind::kNoRequeue:
      o.requeue = given(info.kind == Kind::kRequeue, d);
      break;
    case Kind::kRetries:
      o.retries = given(static_cast<int>(whole_number(d, v, 0, kMaxRetries)), d);
      break;
    case Kind::kPriority:
      s.priority =
          static_cast<std::int32_t>(whole_number(d, v, std::numeric_limits<std::int32_t>::min(),
                                                 std::numeric_limits<std::int32_t>::max()));
      break;
    case Kind::kExport:
      o.exports = parse_export(v, d.where);
      break;
    case Kind::kBegin:
      s.begin_ms = parse_begin_time(v, o.when.now_ms, o.when.zone ? *o.when.zone : kUtc, d.where);
      break;
    case Kind::kHold:
      s.hold = true;
      break;
    case Kind::kNodelist:
      o.nodelist = given(parse_hostlist(v, d.where), d);
      break;
    case Kind::kExclude:
      s.exclude = parse_hostlist(v, d.where);
      break;
    case Kind::kSignal: {
      const SignalRequest r = parse_slurm_signal(v, d.where);
      s.signal = r.signal;
      s.signal_time_s = r.time_s;
      s.signal_batch = r.batch_only;
      if (r.reservation)
        o.warnings.push_back({d.where, d.option + ": R: (reservations) is ignored by Zhisuan"});
      break;
    }
    case Kind::kIgnored:
      o.warnings.push_back(
          {d.where, d.option + " is ignored by Zhisuan" +
                        (info.note.empty() ? "" : " (" + std::string(info.note) + ")")});
      break;
    case Kind::kUnsupported:
      throw InputError(d.where, d.option + " is not supported; " + std::string(info.note));
  }
}

// ---------------------------------------------------------------------------------------------
// Reconciling.

using Int = std::int64_t;

// "--gpus=16 at job.sh:3"; on the command line where is the option itself: "--gpus=16".
template <class T>
std::string describe(const JobOptions::Given<T>& g) {
  if (g.where.empty() || g.where[0] == '-') return g.origin;
  return g.origin + " at " + g.where;
}

// An accelerator count with how it was arrived at, for messages.
struct Accels {
  Int count = 0;
  std::string type, why, where;
};

Accels accels_of(const JobOptions::Given<AccelRequest>& g) {
  return {g.value.count, g.value.type, describe(g), g.where};
}

Int ceil_div(Int a, Int b) {
  return (a + b - 1) / b;
}

// Nodes, accelerators and tasks, which depend on each other.
void reconcile_shape(const JobOptions& o, JobSpec& s) {
  Int nodes = o.nodes ? o.nodes->value : 0;
  std::string nodes_why = o.nodes ? describe(*o.nodes) : "";
  std::string nodes_where = o.nodes ? o.nodes->where : "";
  const Int ntasks = o.ntasks ? o.ntasks->value : 0;
  const Int per_node_tasks = o.tasks_per_node ? o.tasks_per_node->value : 0;
  if (!nodes && o.nodelist && o.nodelist->value.size() > 1 && !(ntasks && per_node_tasks)) {
    // Slurm: the job spans every listed node (and more only when -N asks for more).
    nodes = static_cast<Int>(o.nodelist->value.size());
    nodes_why = describe(*o.nodelist);
    nodes_where = o.nodelist->where;
  }
  if (!nodes && ntasks && per_node_tasks) {
    nodes = ceil_div(ntasks, per_node_tasks);
    nodes_why = describe(*o.ntasks) + " with " + describe(*o.tasks_per_node);
    nodes_where = o.ntasks->where;
  }

  std::optional<Accels> total, per_node;
  if (o.accel_total) total = accels_of(*o.accel_total);
  if (o.accel_per_node) per_node = accels_of(*o.accel_per_node);
  if (o.accel_per_task) {
    // Slurm's default is one task per node (one task in all without -N).
    const Int tasks = ntasks ? ntasks : std::max<Int>(nodes, 1) * std::max<Int>(per_node_tasks, 1);
    Accels a = accels_of(*o.accel_per_task);
    a.count *= tasks;
    a.why += " x " + std::to_string(tasks) + " tasks";
    if (total && total->count != a.count)
      throw InputError(total->where,
                       total->why + " conflicts with " + a.why + " = " + std::to_string(a.count));
    if (!total) total = a;
  }
  if (!nodes && per_node && per_node->count > 0) {
    if (total) {
      if (total->count == 0)
        throw InputError(total->where, total->why + " conflicts with " + per_node->why);
      if (total->count % per_node->count != 0)
        throw InputError(total->where,
                         total->why + " is not a whole number of nodes of " + per_node->why);
      nodes = total->count / per_node->count;
      nodes_why = total->why + " / " + per_node->why;
      nodes_where = total->where;
    } else {
      nodes = 1;  // Slurm's default node count
      nodes_why = "the default of one node";
      nodes_where = per_node->where;
    }
  }
  if (nodes && per_node) {
    const Int derived = nodes * per_node->count;
    if (total && total->count != derived)
      throw InputError(total->where, total->why + " conflicts with " + per_node->why + " on " +
                                         std::to_string(nodes) + " nodes (" + nodes_why +
                                         ") = " + std::to_string(derived));
    std::string type = total && !total->type.empty() ? total->type : per_node->type;
    total = Accels{derived, type, per_node->why + " on " + std::to_string(nodes) + " nodes",
                   per_node->where};
  } else if (nodes && total) {
    if (total->count % nodes != 0)
      throw InputError(total->where, "cannot split " + total->why + " evenly over " +
                                         std::to_string(nodes) + " nodes (" + nodes_why +
                                         "): give a multiple of the node count");
    per_node = Accels{total->count / nodes, total->type, total->why, total->where};
    if (per_node->count > kMaxDevicesPerNode)
      throw InputError(total->where, total->why + " on " + std::to_string(nodes) + " nodes (" +
                                         nodes_why + ") is " + std::to_string(per_node->count) +
                                         " per node; a node has at most " +
                                         std::to_string(kMaxDevicesPerNode));
  }

  // One type for the job: the options that name one must agree.
  std::optional<Accels> typed;
  for (const auto* g : {&o.accel_total, &o.accel_per_node, &o.accel_per_task}) {
    if (!*g || (*g)->value.type.empty()) continue;
    Accels a = accels_of(**g);
    if (!typed) {
      typed = a;
    } else if (normalize_name(typed->type) != normalize_name(a.type)) {
      throw InputError(a.where, a.why + " asks for type " + quote_value(a.type) + " but " +
                                    typed->why + " for " + quote_value(typed->type));
    }
  }

  if (total && total->count > kMaxJobAccels)
    throw InputError(total->where, total->why + " asks for " + std::to_string(total->count) +
                                       " accelerators (at most " + std::to_string(kMaxJobAccels) +
                                       ")");
  if (nodes > kMaxJobNodes)
    throw InputError(nodes_where, std::to_string(nodes) + " nodes (" + nodes_why +
                                      ") is more than " + std::to_string(kMaxJobNodes));
  s.nodes = static_cast<int>(nodes);
  s.accel_count = total ? static_cast<int>(total->count) : 0;
  s.accel_per_node = s.accel_count > 0 && per_node ? static_cast<int>(per_node->count) : 0;
  s.accel_type = s.accel_count > 0 && typed ? typed->type : "";

  // Tasks.
  if (per_node_tasks) {
    s.tasks_per_node = static_cast<int>(per_node_tasks);
    if (ntasks && nodes &&
        (ntasks > nodes * per_node_tasks || ntasks <= (nodes - 1) * per_node_tasks))
      throw InputError(o.ntasks->where, describe(*o.ntasks) + " does not match " +
                                            describe(*o.tasks_per_node) + " on " +
                                            std::to_string(nodes) + " nodes (" + nodes_why + ")");
  } else if (ntasks && nodes) {
    if (ntasks < nodes)
      throw InputError(o.ntasks->where, describe(*o.ntasks) + " is fewer tasks than the " +
                                            std::to_string(nodes) + " nodes (" + nodes_why + ")");
    s.tasks_per_node = static_cast<int>(ceil_div(ntasks, nodes));
  }
  if (ntasks) s.ntasks = static_cast<int>(ntasks);
  if (!ntasks && nodes * s.tasks_per_node > kMaxJobTasks)
    throw InputError(o.tasks_per_node ? o.tasks_per_node->where : nodes_where,
                     "the job would start " + std::to_string(nodes * s.tasks_per_node) +
                         " tasks (at most " + std::to_string(kMaxJobTasks) + ")");
}

// --nodelist and --exclude against each other and the node count.
void reconcile_nodes(const JobOptions& o, JobSpec& s) {
  if (!o.nodelist) return;
  const auto& listed = o.nodelist->value;
  const Int count = static_cast<Int>(listed.size());
  if (s.nodes > 0 && count > s.nodes)
    throw InputError(o.nodelist->where, describe(*o.nodelist) + " names " + std::to_string(count) +
                                            " nodes but the job has " + std::to_string(s.nodes));
  for (const auto& name : listed)
    if (std::find(s.exclude.begin(), s.exclude.end(), name) != s.exclude.end())
      throw InputError(o.nodelist->where,
                       "node " + quote_value(name) + " is both in --nodelist and --exclude");
  s.nodelist = listed;
}

void reconcile_memory(const JobOptions& o, JobSpec& s) {
  if (!o.mem) return;
  const auto& m = *o.mem;
  double mib = static_cast<double>(m.value.mib);
  if (m.value.per == JobOptions::MemPer::kCpu) {
    if (s.nodes == 0 && s.ntasks > 1)
      throw InputError(m.where, describe(m) +
                                    " needs the tasks per node: give -N or "
                                    "--ntasks-per-node, or use --mem");
    mib *= std::max(1.0, std::ceil(s.cpus_per_task)) * s.tasks_per_node;
  } else if (m.value.per == JobOptions::MemPer::kGpu) {
    if (s.accel_count == 0)
      throw InputError(m.where, describe(m) + " but the job asks for no accelerators");
    if (s.accel_per_node == 0)
      throw InputError(m.where, describe(m) +
                                    " needs the accelerators per node: give -N or "
                                    "--gpus-per-node, or use --mem");
    mib *= s.accel_per_node;
  }
  if (mib > static_cast<double>(kMaxMemMib))
    throw InputError(m.where, describe(m) + " comes to " + std::to_string(static_cast<Int>(mib)) +
                                  " MiB per node (at most " + std::to_string(kMaxMemMib) + ")");
  s.mem_mib = static_cast<std::int64_t>(mib);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void apply_option(JobOptions& opts, const Directive& d) {
  const OptionInfo* info = find_long(d.name);
  if (!info)
    throw InputError(d.where, unknown_message(d.option.empty() ? d.name : d.option, d.line > 0));
  if (info->arg == Arg::kRequired && !d.value)
    throw InputError(d.where, d.option + " needs a value");
  if (info->arg == Arg::kNone && d.value) throw InputError(d.where, d.option + " takes no value");
  apply_known(opts, *info, d);
}

void apply_option(JobOptions& opts, std::string_view option, std::optional<std::string_view> value,
                  const std::string& where) {
  const OptionInfo* info = find_any(option);
  if (!info) throw InputError(where, unknown_message(option, false));
  Directive d;
  d.name = std::string(info->name);
  d.option = option.substr(0, 1) == "-" ? std::string(option) : "--" + std::string(option);
  if (value) d.value = std::string(*value);
  d.where = where;
  apply_option(opts, d);
}

JobSpec finish_job_spec(const JobOptions& opts, CatalogSource catalog) {
  JobSpec s = opts.spec;
  reconcile_shape(opts, s);
  reconcile_nodes(opts, s);
  reconcile_memory(opts, s);
  if (opts.retries) {
    if (opts.requeue && !opts.requeue->value && opts.retries->value > 0)
      throw InputError(opts.retries->where,
                       describe(*opts.retries) + " conflicts with " + describe(*opts.requeue));
    s.max_retries = opts.retries->value;
  } else if (opts.requeue) {
    s.max_retries = opts.requeue->value ? kDefaultRequeueRetries : 0;
  }
  s.env.insert(s.env.end(), opts.exports.env.begin(), opts.exports.env.end());
  if (catalog && !s.accel_type.empty()) {
    std::string where = "--gpus";
    for (const auto* g : {&opts.accel_total, &opts.accel_per_node, &opts.accel_per_task})
      if (*g && !(*g)->value.type.empty()) {
        where = (*g)->where;
        break;
      }
    const Catalog& c = catalog();
    s.accel_type = c.name(c.resolve(s.accel_type, where));
  }
  return s;
}

std::vector<Directive> read_script_directives(std::string_view text, std::string_view file_name,
                                              std::vector<OptionWarning>* warnings) {
  std::vector<Directive> out;
  bool in_header = true;
  int line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const auto body = directive_body(line);
    const std::string where = std::string(file_name) + ":" + std::to_string(line_no);
    if (!in_header) {
      if (body && warnings)
        warnings->push_back({where,
                             "directive after the first command is ignored (like sbatch, "
                             "only the comment block at the top is read)"});
      continue;
    }
    if (body) {
      read_words(split_words(*body, where), where, line_no, out);
    } else if (!line.empty() && line[0] != '#' && !trim(line).empty()) {
      in_header = false;
    }
  }
  return out;
}

std::vector<Directive> read_option_args(const std::vector<std::string>& args,
                                        std::size_t* operands) {
  std::vector<Directive> out;
  const std::size_t first = read_words(args, "", 0, out);
  if (operands) {
    *operands = first;
  } else if (first < args.size()) {
    throw InputError(args[first], "unexpected argument " + quote_value(args[first]));
  }
  return out;
}

bool is_ignored_option(std::string_view option) {
  const OptionInfo* info = find_any(option);
  return info && info->kind == Kind::kIgnored;
}

std::string script_problem(std::string_view text) {
  if (text.substr(0, 2) != "#!")
    return "the script does not start with #! and an interpreter (for instance #!/bin/sh), so it "
           "cannot be executed; sbatch rejects it too";
  if (const auto cr = text.find("\r\n"); cr != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(cr), '\n');
    return "the script has DOS line breaks (\\r\\n, first on line " + std::to_string(line) +
           ") instead of UNIX ones (\\n); convert it, e.g. with dos2unix";
  }
  return "";
}

JobScript parse_job_script(std::string_view text, std::string_view file_name,
                           const std::vector<Directive>& overrides, CatalogSource catalog,
                           const SubmitTime& when) {
  JobOptions opts;
  opts.when = when;
  opts.spec.script = std::string(text);
  const auto slash = file_name.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  if (base != "-") opts.spec.name = std::string(base);  // sbatch names a job after its script
  JobScript r;
  std::vector<OptionWarning> late;  // directives after the first command
  r.directives = read_script_directives(text, file_name, &late);
  for (const auto& d : r.directives) apply_option(opts, d);
  opts.warnings.insert(opts.warnings.end(), late.begin(),
                       late.end());  // script warnings in line order
  for (const auto& d : overrides) apply_option(opts, d);
  r.spec = finish_job_spec(opts, catalog);
  r.warnings = std::move(opts.warnings);
  r.exports = std::move(opts.exports);
  return r;
}

}  // namespace zs
