// zs submit / queue / job / cancel / logs: what users type every day.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "api/api_error.h"
#include "api/http_client.h"
#include "api/json_codec.h"
#include "api/tls_socket.h"
#include "cli/client_auth.h"
#include "cli/commands.h"
#include "cli/local_zone.h"
#include "cli/table.h"
#include "cli/url_encode.h"
#include "core/hostlist.h"
#include "core/input_error.h"
#include "core/job_script.h"
#include "core/signal_name.h"
#include "core/state_filter.h"
#include "core/text.h"

extern char** environ;

namespace zs::cli {
namespace {

using nlohmann::json;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Who the controller says we are (--me): the token's user, not $USER.
std::string current_user(ApiClient& client) {
  return client.get("/api/v1/whoami").at("name").get<std::string>();
}

// Variables of a surrounding job must not leak into the new one.
bool inherited_job_variable(const std::string& entry) {
  for (const char* p : {"ZS_JOB", "ZS_ARRAY", "ZS_NODE", "ZS_ATTEMPT", "ZS_NTASKS", "ZS_NNODES",
                        "SLURM_", "RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "MASTER_ADDR=",
                        "MASTER_PORT=", "NODE_RANK=", "GROUP_RANK=", "LOCAL_WORLD_SIZE="})
    if (entry.rfind(p, 0) == 0) return true;
  return false;
}

std::vector<std::string> exported_env(const ExportRequest& exports) {
  std::vector<std::string> env;
  if (exports.all) {
    for (char** e = environ; e && *e; ++e)
      if (!inherited_job_variable(*e)) env.emplace_back(*e);
  } else {
    for (const auto& name : exports.names)
      if (const char* v = std::getenv(name.c_str())) env.push_back(name + "=" + v);
  }
  for (const auto& kv : exports.env) env.push_back(kv);
  return env;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot read the job script");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void print_warnings(const std::vector<OptionWarning>& warnings) {
  for (const auto& w : warnings)
    std::fprintf(stderr, "zs: warning: %s: %s\n", terminal_safe(w.where).c_str(),
                 terminal_safe(w.message).c_str());
}

// The node list of a record: "a,b,c".
std::string node_list(const JobRecord& r) {
  std::string s;
  for (const auto& a : r.assignment) s += (s.empty() ? "" : ",") + a.node;
  return s;
}

std::string job_label(const JobRecord& r) {
  if (r.array_task_id >= 0)
    return std::to_string(r.array_job_id) + "_" + std::to_string(r.array_task_id);
  return std::to_string(r.id);
}

std::string accel_label(const JobRecord& r) {
  if (r.spec.accel_count == 0) return "-";
  return (r.spec.accel_type.empty() ? "any" : r.spec.accel_type) + ":" +
         std::to_string(r.spec.accel_count);
}

// `estimates`, when given, gets each waiting job's estimated start (estimated_start_ms).
std::vector<JobRecord> fetch_jobs(ApiClient& client, const std::string& query,
                                  std::map<JobId, std::int64_t>* estimates = nullptr) {
  std::vector<JobRecord> out;
  JobId after = 0;
  for (;;) {
    json page = client.get("/api/v1/jobs?limit=10000&after=" + std::to_string(after) + query);
    for (const auto& j : page.at("jobs")) {
      out.push_back(job_record_from_api_json(j));
      if (estimates && j.contains("estimated_start_ms") &&
          j["estimated_start_ms"].is_number_integer())
        (*estimates)[out.back().id] = j["estimated_start_ms"].get<std::int64_t>();
    }
    if (!page.contains("next_after")) break;
    after = page["next_after"].get<JobId>();
  }
  return out;
}

// A job id as the API takes it in a path: "17", or "17_3" for task 3 of array 17.
std::string job_path_id(const std::string& text) {
  auto digits = [](std::string_view t) {
    return !t.empty() && t.size() < 20 &&
           std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  auto underscore = text.find('_');
  bool ok = underscore == std::string::npos
                ? digits(text)
                : digits(std::string_view(text).substr(0, underscore)) &&
                      digits(std::string_view(text).substr(underscore + 1));
  if (!ok) throw InputError("job id", "expected a job id like 17 or 17_3, got '" + text + "'");
  return text;
}

const char* const kSubmitHelp =
    "Submit a job.\n"
    "  zs submit [options] script.sh [args]     a batch script; its #SBATCH/#ZS lines are read\n"
    "  zs submit [options] -- command [args]    a command\n"
    "  zs submit [options] --wrap 'command'     a command line run by /bin/sh\n"
    "Options are sbatch's: -J/--job-name, -N/--nodes, -n/--ntasks, --ntasks-per-node, -c,\n"
    "--mem, -t/--time, -p, -A, -o, -e, -D, --array, --dependency=afterok:ID, --gres=gpu:N,\n"
    "--gpus, --gpus-per-node, --gpus-per-task, --requeue, --export, -H/--hold,\n"
    "-b/--begin (now+1hour, 16:00, 2025-03-01T08:00), -w/--nodelist and -x/--exclude\n"
    "(hostlists such as node[1-3,5]), --signal=[B:]SIG[@TIME] (a checkpoint signal TIME s\n"
    "before the time limit and at preemption), ... (docs/job-scripts.md), plus\n"
    "  --accel TYPE:N      accelerators for the whole job (TYPE from `zs catalog`, may be "
    "omitted)\n"
    "  --retries N         requeues after a failed rank or a lost node\n"
    "  --parsable          print only the job id (like sbatch --parsable)\n"
    "  --json              print the API's answer\n"
    "  --controller URL    default $ZS_CONTROLLER, else http://127.0.0.1:7070\n"
    "  --token-file F      your API token (default $ZS_TOKEN, else ~/.config/zs/token)\n"
    "  --ca-file F         CA to verify an https:// controller with (default $ZS_CA_FILE)\n";

}  // namespace

int run_submit(const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (w == "--") break;
    if (w == "--help" || w == "-h") {
      std::fputs(kSubmitHelp, stdout);
      return 0;
    }
  }
  bool parsable = false, as_json = false;
  std::string controller, wrap;
  bool has_wrap = false;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      rest.insert(rest.end(), words.begin() + i, words.end());
      break;
    }
    auto value_of = [&](const std::string& name, std::string& out) {
      if (w == name) {
        if (i + 1 >= words.size()) throw InputError(name, "needs a value");
        out = words[++i];
        return true;
      }
      if (w.rfind(name + "=", 0) == 0) {
        out = w.substr(name.size() + 1);
        return true;
      }
      return false;
    };
    if (w == "--parsable")
      parsable = true;
    else if (w == "--json")
      as_json = true;
    else if (value_of("--controller", controller))
      continue;
    else if (std::string token_file; value_of("--token-file", token_file))
      set_token_file(token_file);
    else if (std::string ca_file; value_of("--ca-file", ca_file))
      tls::set_client_ca_file(ca_file);
    else if (value_of("--wrap", wrap))
      has_wrap = true;
    else
      rest.push_back(w);
  }
  // "-- command args" runs a command; otherwise the first operand is a script.
  auto dashes = std::find(rest.begin(), rest.end(), std::string("--"));
  const bool command_form = dashes != rest.end();
  std::vector<std::string> option_words(rest.begin(), dashes);
  std::size_t operands = option_words.size();
  std::vector<Directive> directives = read_option_args(option_words, &operands);
  std::vector<std::string> tail(option_words.begin() + static_cast<long>(operands),
                                option_words.end());
  if (command_form) {
    if (!tail.empty()) throw InputError(tail.front(), "unexpected before --: options only");
    tail.assign(dashes + 1, rest.end());
  }

  JobSpec spec;
  ExportRequest exports;
  std::vector<OptionWarning> warnings;
  const SystemTimeZone local_zone;
  if (has_wrap || command_form || tail.empty()) {
    if (!has_wrap && tail.empty())
      throw InputError("submit", "nothing to run: give a script, --wrap 'command' or -- command");
    JobOptions opts;
    opts.when = {now_ms(), &local_zone};  // --begin=now+1hour counts from the submission
    for (const auto& d : directives) apply_option(opts, d);
    spec = finish_job_spec(opts, &Catalog::builtin);
    exports = opts.exports;
    warnings = opts.warnings;
    if (has_wrap) {
      if (!tail.empty()) throw InputError("--wrap", "give either --wrap or a command, not both");
      spec.script = "#!/bin/sh\n" + wrap + "\n";
      if (spec.name.empty()) spec.name = "wrap";
      if (std::string problem = script_problem(spec.script); !problem.empty())
        throw InputError("--wrap", problem);
    } else {
      spec.argv = tail;
    }
  } else {
    const std::string path = tail.front();
    const std::string text = read_file(path);
    // As sbatch: a script that cannot be executed is refused now, not at launch.
    if (std::string problem = script_problem(text); !problem.empty())
      throw InputError(path, problem);
    JobScript script =
        parse_job_script(text, path, directives, &Catalog::builtin, {now_ms(), &local_zone});
    spec = std::move(script.spec);
    spec.argv.assign(tail.begin() + 1, tail.end());
    exports = script.exports;
    warnings = script.warnings;
  }
  print_warnings(warnings);
  // The job's user is the token's (the controller fills it in); -A picks one of its tenants.
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  if (spec.work_dir.empty())
    spec.work_dir = cwd;
  else if (spec.work_dir.front() != '/')
    spec.work_dir = cwd + "/" + spec.work_dir;
  spec.env = exported_env(exports);

  ApiClient client = controller_client(controller);
  json answer = client.post("/api/v1/jobs", to_json(spec));
  const JobId id = answer.at("ids").at(0).get<JobId>();
  if (as_json)
    std::printf("%s\n", answer.dump().c_str());
  else if (parsable)
    std::printf("%llu\n", static_cast<unsigned long long>(id));
  else
    std::printf("Submitted job %llu\n", static_cast<unsigned long long>(id));
  return 0;
}

int report_api_error(const ApiError& e) {
  // The controller's message may quote anyone's text (a node or job name): no raw controls.
  std::fprintf(stderr, "zs: error: %s%s%s\n", terminal_safe(e.field()).c_str(),
               e.field().empty() ? "" : ": ", terminal_safe(e.what()).c_str());
  return e.status() >= 400 && e.status() < 500 ? kExitBadInput : 1;
}

void register_submit(CLI::App& app, int&) {
  // Listed for `zs --help`; main() hands `zs submit ...` to run_submit before CLI11 parses,
  // because sbatch's option grammar (-J name, -N2, -- command) is not CLI11's.
  app.add_subcommand("submit", "Submit a job (sbatch options, #SBATCH scripts; zs submit --help)");
}

namespace {

// A comma list ("alice,bob") as squeue's -u and -n take it; "" = no constraint.
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view part : split(text, ','))
    if (!trim(part).empty()) out.emplace_back(trim(part));
  return out;
}

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

// What squeue and scancel select jobs by. The controller filters by one state (or the active
// ones), one user and one account; the rest (state lists, several users, names) is done here.
struct JobSelection {
  StateFilter states = StateFilter::active();
  std::vector<std::string> users, names, tenants, partitions;

  std::string query() const {
    std::string q;
    JobState one{};
    if (states.single(one))
      q += "&state=" + std::string(to_string(one));
    else if (states.within_active())
      q += "&state=active";  // a queue listing must not page through every finished job
    if (users.size() == 1) q += "&user=" + url_encode(users.front());
    if (tenants.size() == 1) q += "&tenant=" + url_encode(tenants.front());
    return q;
  }
  bool matches(const JobRecord& r) const {
    return states.contains(r.state) && listed(users, r.spec.user) && listed(names, r.spec.name) &&
           listed(tenants, r.spec.tenant) && listed(partitions, r.spec.partition);
  }
  std::vector<JobRecord> fetch(ApiClient& client,
                               std::map<JobId, std::int64_t>* estimates = nullptr) const {
    if (states.empty()) return {};  // e.g. -t CG: a state no Zhisuan job is ever in
    std::vector<JobRecord> jobs = fetch_jobs(client, query(), estimates);
    std::erase_if(jobs, [&](const JobRecord& r) { return !matches(r); });
    return jobs;
  }
};

}  // namespace

void register_queue(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string controller, state, user, tenant, name, partition;
    bool all = false, json = false, me = false, start = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("queue", "List pending and running jobs (like squeue)");
  cmd->add_option("--controller", f->controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_option("-t,--state,--states", f->state,
                  "Only jobs in these states: a comma list of Slurm's names or short forms "
                  "(PD,R,CD,F,CA,TO,NF, PENDING, ...) or all; case-insensitive");
  cmd->add_option("-u,--user", f->user, "Only these users' jobs (comma list)");
  cmd->add_option("-A,--account", f->tenant, "Only these tenants' jobs (comma list)");
  cmd->add_option("-n,--name", f->name, "Only jobs with these names (comma list)");
  cmd->add_option("-p,--partition", f->partition, "Only jobs of these partitions (comma list)");
  cmd->add_flag("--me", f->me, "Only my jobs");
  cmd->add_flag("-a,--all", f->all, "Include finished jobs (as -t all)");
  cmd->add_flag("--json", f->json, "JSON for scripts");
  cmd->add_flag("--start", f->start,
                "Pending jobs with their estimated start times (like squeue --start): the "
                "controller's forecast of the queue on predicted run times");
  cmd->callback([f, &exit_code] {
    ApiClient client = controller_client(f->controller);
    JobSelection sel;
    if (!f->state.empty())
      sel.states = parse_state_filter(f->state, "--state");
    else if (f->all)
      sel.states = StateFilter::all();
    else if (f->start)
      sel.states = parse_state_filter("PD", "--start");
    sel.users = comma_list(f->me ? current_user(client) : f->user);
    sel.tenants = comma_list(f->tenant);
    sel.names = comma_list(f->name);
    sel.partitions = comma_list(f->partition);
    std::map<JobId, std::int64_t> estimates;
    auto jobs = sel.fetch(client, &estimates);
    auto estimate_of = [&](const JobRecord& r) -> std::optional<std::int64_t> {
      auto it = estimates.find(r.id);
      if (it == estimates.end()) return std::nullopt;
      return it->second;
    };
    if (f->json) {
      json list = json::array();
      for (const auto& j : jobs) {
        json one = to_json(j);
        const auto at = estimate_of(j);
        one["estimated_start_ms"] = at ? json(*at) : json(nullptr);
        list.push_back(std::move(one));
      }
      std::printf("%s\n", json{{"jobs", list}}.dump(2).c_str());
      exit_code = 0;
      return;
    }
    if (f->start) {
      // squeue --start: soonest first, then the jobs without an estimate (N/A).
      std::stable_sort(jobs.begin(), jobs.end(), [&](const JobRecord& a, const JobRecord& b) {
        const auto x = estimate_of(a), y = estimate_of(b);
        if (x.has_value() != y.has_value()) return x.has_value();
        return x && *x < *y;
      });
      Table t(
          {"JOBID", "NAME", "USER", "STATE", "START_TIME", "NODES", "ACCEL", "NODELIST(REASON)"});
      for (const auto& r : jobs) {
        const auto at = estimate_of(r);
        t.add({job_label(r), r.spec.name.substr(0, 24), r.spec.user,
               std::string(to_string(r.state)), at ? local_time_text(*at) : "N/A",
               std::to_string(std::max(1, r.spec.nodes)), accel_label(r),
               r.reason.empty() ? node_list(r) : "(" + r.reason + ")"});
      }
      t.print();
      exit_code = 0;
      return;
    }
    Table t({"JOBID", "NAME", "USER", "STATE", "TIME", "NODES", "ACCEL", "NODELIST(REASON)"});
    const std::int64_t now = now_ms();
    for (const auto& r : jobs) {
      const bool started = r.start_ms > 0 && r.state != JobState::pending;
      const std::int64_t run = !started ? 0 : (r.end_ms ? r.end_ms : now) - r.start_ms;
      t.add({job_label(r), r.spec.name.substr(0, 24), r.spec.user, std::string(to_string(r.state)),
             elapsed(run),
             std::to_string(r.assignment.empty() || r.state == JobState::pending
                                ? std::max(1, r.spec.nodes)
                                : static_cast<int>(r.assignment.size())),
             accel_label(r),
             r.state == JobState::running ? node_list(r)
             : r.reason.empty()           ? node_list(r)
                                          : "(" + r.reason + ")"});
    }
    t.print();
    exit_code = 0;
  });
}

void register_job(CLI::App& app, int& exit_code) {
  auto controller = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("job", "Show one job (like scontrol show job)");
  cmd->add_option("id", *id, "Job id")->required();
  cmd->add_option("--controller", *controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_flag("--json", *as_json, "JSON for scripts");
  cmd->callback([=, &exit_code] {
    ApiClient client = controller_client(*controller);
    json answer = client.get("/api/v1/jobs/" + job_path_id(*id));
    if (*as_json) {
      std::printf("%s\n", answer.dump(2).c_str());
      exit_code = 0;
      return;
    }
    JobRecord r = job_record_from_api_json(answer.at("job"));
    auto line = [](const char* k, const std::string& v) {
      std::printf("%-12s %s\n", k, terminal_safe(v).c_str());  // anyone's text: no raw ESC
    };
    line("JobId",
         job_label(r) + (r.array_task_id >= 0 ? " (job " + std::to_string(r.id) + ")" : ""));
    line("Name", r.spec.name);
    line("User", r.spec.user + (r.spec.tenant.empty() ? "" : " (account " + r.spec.tenant + ")"));
    line("State",
         std::string(to_string(r.state)) + (r.reason.empty() ? "" : " (" + r.reason + ")"));
    line("ExitCode", std::to_string(r.exit_code));
    line("Attempt", std::to_string(r.attempt));
    line("Accel", accel_label(r));
    line("Nodes", r.assignment.empty() ? std::to_string(std::max(1, r.spec.nodes)) : node_list(r));
    for (const auto& a : r.assignment) {
      std::string devices;
      for (int d : a.devices) devices += (devices.empty() ? "" : ",") + std::to_string(d);
      line("  Devices", a.node + ": " + (devices.empty() ? "-" : devices));
    }
    if (r.spec.hold) line("Hold", "yes (zs release " + job_label(r) + " lets it start)");
    if (r.spec.begin_ms) line("BeginTime", local_time_text(r.spec.begin_ms));
    if (r.state == JobState::pending) {
      const json& est = answer.at("job").value("estimated_start_ms", json(nullptr));
      line("StartTime", est.is_number_integer()
                            ? local_time_text(est.get<std::int64_t>()) + " (estimated)"
                            : std::string("unknown (no forecast places it yet)"));
    }
    if (!r.spec.nodelist.empty()) line("ReqNodeList", format_hostlist(r.spec.nodelist));
    if (!r.spec.exclude.empty()) line("ExcNodeList", format_hostlist(r.spec.exclude));
    line("TimeLimit", r.spec.walltime ? elapsed(r.spec.walltime) : "none");
    if (r.spec.signal)
      line("Signal", signal_name(r.spec.signal) + " " + std::to_string(r.spec.signal_time_s) +
                         " s before the time limit and at preemption" +
                         (r.spec.signal_batch ? ", to the batch shell only" : ""));
    const std::int64_t now = now_ms();
    if (r.start_ms) line("RunTime", elapsed((r.end_ms ? r.end_ms : now) - r.start_ms));
    line("WorkDir", r.spec.work_dir);
    line("Command",
         r.spec.script.empty() ? (r.spec.argv.empty() ? "" : r.spec.argv.front()) : "(script)");
    exit_code = 0;
  });
}

namespace {

// Job ids named on the command line that select `r`: "17" selects job 17 and, when 17 is an
// array, every task of it; "17_3" selects that task.
bool named_by(const std::vector<std::string>& ids, const JobRecord& r) {
  if (ids.empty()) return true;
  for (const auto& text : ids) {
    if (text.find('_') != std::string::npos) {
      if (r.array_task_id >= 0 && text == job_label(r)) return true;
    } else if (text == std::to_string(r.id) ||
               (r.array_task_id >= 0 && text == std::to_string(r.array_job_id))) {
      return true;
    }
  }
  return false;
}

}  // namespace

void register_cancel(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string controller, user, state, name, tenant, partition;
    std::vector<std::string> ids;
    bool me = false, verbose = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "cancel",
      "Cancel jobs (like scancel): by id, or every job of a user (-u USER, --me), narrowed by "
      "-t/-n/-A/-p; with ids and filters, the ids that match");
  cmd->add_option("ids", f->ids, "Job ids (17, or 17_3 for one task of an array)");
  cmd->add_option("--controller", f->controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_option("-u,--user", f->user, "Cancel this user's jobs (comma list)");
  cmd->add_flag("--me", f->me, "Cancel my jobs");
  cmd->add_option("-t,--state", f->state,
                  "Only jobs in these states (PENDING/PD, RUNNING/R, comma list)");
  cmd->add_option("-n,--name,--jobname", f->name, "Only jobs with these names (comma list)");
  cmd->add_option("-A,--account", f->tenant, "Only these tenants' jobs (comma list)");
  cmd->add_option("-p,--partition", f->partition, "Only jobs of these partitions (comma list)");
  cmd->add_flag("-v,--verbose", f->verbose, "Say which jobs were cancelled");
  cmd->callback([f, &exit_code] {
    for (const auto& text : f->ids) job_path_id(text);  // bad ids fail before anything is done
    const bool filtered = f->me || !f->user.empty() || !f->state.empty() || !f->name.empty() ||
                          !f->tenant.empty() || !f->partition.empty();
    if (f->ids.empty() && !filtered)
      throw InputError("cancel",
                       "no job given: name job ids, or select jobs with -u USER or --me "
                       "(narrowed by -t, -n, -A, -p)");
    if (f->ids.empty() && f->user.empty() && !f->me)
      throw InputError("cancel",
                       "-t, -n, -A and -p narrow a selection: add -u USER or --me (or job ids), "
                       "so that one command cannot cancel everyone's jobs by accident");
    ApiClient client = controller_client(f->controller);
    // Ids alone go straight to the controller (an array id cancels the whole array there).
    std::vector<std::string> targets = f->ids;
    if (filtered) {
      JobSelection sel;  // only pending and running jobs can be cancelled
      if (!f->state.empty()) {
        StateFilter wanted = parse_state_filter(f->state, "--state");
        sel.states = StateFilter{};
        for (JobState s : {JobState::pending, JobState::running})
          if (wanted.contains(s)) sel.states.add(s);
      }
      sel.users = comma_list(f->me ? current_user(client) : f->user);
      sel.names = comma_list(f->name);
      sel.tenants = comma_list(f->tenant);
      sel.partitions = comma_list(f->partition);
      targets.clear();
      for (const auto& r : sel.fetch(client))
        if (named_by(f->ids, r)) targets.push_back(job_label(r));  // 17_3: that task only
    }
    int failures = 0;
    for (const auto& text : targets) {
      try {
        client.post("/api/v1/jobs/" + job_path_id(text) + "/cancel", json::object());
        if (f->verbose) std::printf("cancelled job %s\n", text.c_str());
      } catch (const ApiError& e) {
        if (e.status() == 0) throw;
        std::fprintf(stderr, "zs: error: job %s: %s\n", terminal_safe(text).c_str(),
                     terminal_safe(e.what()).c_str());
        ++failures;
      }
    }
    if (f->verbose && filtered && targets.empty()) std::printf("no job matched\n");
    exit_code = failures ? 1 : 0;
  });
}

void register_hold(CLI::App& app, int& exit_code) {
  for (bool held : {true, false}) {
    auto controller = std::make_shared<std::string>();
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand(
        held ? "hold" : "release",
        held ? "Keep pending jobs from starting until released (like scontrol hold)"
             : "Let held jobs start (like scontrol release)");
    cmd->add_option("ids", *ids, "Job ids (an array's id: every pending task; 17_3: one task)")
        ->required();
    cmd->add_option("--controller", *controller, "Controller URL");
    add_token_file_option(cmd);
    cmd->callback([=, &exit_code] {
      for (const auto& text : *ids) job_path_id(text);  // bad ids fail before anything is done
      ApiClient client = controller_client(*controller);
      int failures = 0;
      for (const auto& text : *ids) {
        try {
          client.post("/api/v1/jobs/" + job_path_id(text) + (held ? "/hold" : "/release"),
                      json::object());
        } catch (const ApiError& e) {
          if (e.status() == 0) throw;
          std::fprintf(stderr, "zs: error: job %s: %s\n", terminal_safe(text).c_str(),
                       terminal_safe(e.what()).c_str());
          ++failures;
        }
      }
      exit_code = failures ? 1 : 0;
    });
  }
}

void register_logs(CLI::App& app, int& exit_code) {
  auto controller = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto err = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("logs", "Print a job's output (rank 0's file)");
  cmd->add_option("id", *id, "Job id")->required();
  cmd->add_option("--controller", *controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_flag("-f,--follow", *follow, "Keep printing until the job ends");
  cmd->add_flag("--stderr", *err, "The error file (when -e made it separate)");
  cmd->callback([=, &exit_code] {
    ApiClient client = controller_client(*controller);
    const std::string base = "/api/v1/jobs/" + job_path_id(*id) +
                             "/logs?stream=" + (*err ? "stderr" : "stdout") + "&offset=";
    std::uint64_t offset = 0;
    for (;;) {
      std::map<std::string, std::string> headers;
      std::string chunk = client.get_text(base + std::to_string(offset), headers);
      std::fwrite(chunk.data(), 1, chunk.size(), stdout);
      std::fflush(stdout);
      offset += chunk.size();
      if (!*follow) break;
      auto state = job_state_from_string(headers["X-ZS-Job-State"]);
      if (chunk.empty()) {
        if (state && is_terminal(*state)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    }
    exit_code = 0;
  });
}

}  // namespace zs::cli
