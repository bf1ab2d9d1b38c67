// zs sim: replay a trace against a cluster with one or several policies and compare them.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/cluster_file.h"
#include "sim/jobs_csv.h"
#include "sim/metrics.h"
#include "sim/report.h"
#include "sim/simulator.h"
#include "sim/tenants_file.h"
#include "sim/trace.h"
#include "sim/workload_adjust.h"

namespace zs::cli {

namespace {

struct SimArgs {
  std::string cluster, trace, trace_format = "auto", policy = "easy", compare, format = "table";
  std::string walltime = "exact", recorded_on, throughputs, las_thresholds, jobs_out;
  // A tenants file (docs/tenants.md): quotas, fair share, prices and preemption for every
  // policy; per-tenant rows show whenever one is given.
  std::string tenants_file;
  bool min_run_given = false;
  double preempt_cost_s = 30, load = 1.0, las_promote = SchedParams{}.las_promote_factor,
         starvation_h = 48, min_run_s = 300;
  double spf_size_weight = SchedParams{}.spf_size_weight;
  long forecasts = 0;
  std::int64_t limit = 0;
  std::uint64_t seed = 1;
  bool skip_bad_rows = false, per_tenant = false, timing = false, no_progress = false;
  int threads = 0;
  // SWF traces: processors per node, the type every job asks for, and whether a log from a
  // machine larger than the cluster may be replayed on it.
  int swf_per_node = 0;
  std::string swf_type;
  bool swf_ignore_maxprocs = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A one-line progress bar on stderr, only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::size_t n, bool enabled) : parts_(n), enabled_(enabled && isatty(2)) {
    for (auto& p : parts_) p = 0;
  }
  void set(std::size_t i, double f) {
    if (!enabled_) return;
    parts_[i] = static_cast<int>(f * 1000);
    std::lock_guard<std::mutex> lock(mu_);
    double sum = 0;
    for (auto& p : parts_) sum += p.load() / 1000.0;
    const double frac = sum / static_cast<double>(parts_.size());
    const int width = 40, filled = static_cast<int>(frac * width);
    fmt::print(stderr, "\r[{}{}] {:5.1f}%", std::string(filled, '#'),
               std::string(width - filled, '.'), 100 * frac);
    std::fflush(stderr);
  }
  void done() {
    if (enabled_) fmt::print(stderr, "\r{}\r", std::string(50, ' '));
  }

 private:
  std::vector<std::atomic<int>> parts_;
  bool enabled_;
  std::mutex mu_;
};

// The one accelerator type of a cluster, if it has exactly one.
std::optional<TypeId> single_type(const Cluster& c) {
  std::optional<TypeId> only;
  for (TypeId t = 0; t < c.accels_of_type.size(); ++t) {
    if (c.accels_of_type[t] == 0) continue;
    if (only) return std::nullopt;
    only = t;
  }
  return only;
}

// An SWF log names the size of the machine it was recorded on ("; MaxProcs:"): replaying it on
// a smaller cluster rejects every job larger than the cluster, so that needs saying.
void check_swf_against(const Trace& trace, const Cluster& cluster, const Catalog& catalog,
                       const TraceOptions& topt, const SimArgs& a) {
  if (trace.not_run > 0)
    fmt::print(stderr, "zs: skipped {} job(s) of {} that never ran (SWF run time <= 0 or -1)\n",
               trace.not_run, a.trace);
  if (trace.no_size > 0)
    fmt::print(stderr,
               "zs: skipped {} job(s) of {} whose size is unknown (SWF fields 5 and 8 are -1)\n",
               trace.no_size, a.trace);
  if (trace.max_procs <= 0) return;
  const long have = topt.swf_type >= 0
                        ? cluster.accels_of_type[static_cast<std::size_t>(topt.swf_type)]
                        : static_cast<long>(cluster.total_accels());
  const std::string what =
      topt.swf_type >= 0 ? catalog.name(static_cast<TypeId>(topt.swf_type)) : "accelerators";
  if (trace.max_procs <= have) return;
  const std::string msg = "the log's machine had " + std::to_string(trace.max_procs) +
                          " processors (MaxProcs), the cluster has " + std::to_string(have) + " " +
                          what;
  if (!a.swf_ignore_maxprocs)
    throw InputError(a.trace, msg +
                                  "; jobs larger than the cluster would be rejected (replay it "
                                  "anyway with --swf-ignore-maxprocs)");
  fmt::print(stderr, "zs: {}: {}\n", a.trace, msg);
}

int run_sim(const SimArgs& a) {
  ReportFormat fmt_kind = ReportFormat::kTable;
  if (a.format == "json")
    fmt_kind = ReportFormat::kJson;
  else if (a.format == "csv")
    fmt_kind = ReportFormat::kCsv;
  else if (a.format != "table")
    throw InputError("--format", "'" + a.format + "' is not table, json or csv");
  const Catalog& catalog = Catalog::builtin();
  ThroughputTable custom_speeds;
  const ThroughputTable* speeds = &ThroughputTable::builtin();
  if (!a.throughputs.empty()) {
    custom_speeds = ThroughputTable::parse(read_file(a.throughputs), a.throughputs, catalog);
    speeds = &custom_speeds;
  }
  const Cluster cluster = load_cluster(a.cluster, catalog);

  std::vector<std::string> names;
  if (!a.compare.empty()) {
    for (auto n : split(a.compare, ','))
      if (!trim(n).empty()) names.emplace_back(trim(n));
  } else {
    names.push_back(a.policy);
  }
  std::vector<std::unique_ptr<Policy>> policies;
  for (const auto& n : names) policies.push_back(make_policy(n));  // validates names early

  TraceOptions topt;
  topt.format = a.trace_format;
  topt.skip_bad_rows = a.skip_bad_rows;
  if (!a.recorded_on.empty()) topt.recorded_type = catalog.resolve(a.recorded_on, "--recorded-on");
  if (a.swf_per_node < 0 || a.swf_per_node > 1'000'000)
    throw InputError("--swf-per-node", "must be 1..1000000 (0: the scheduler chooses)");
  topt.swf_per_node = a.swf_per_node;
  if (!a.swf_type.empty()) {
    const TypeId t = catalog.resolve(a.swf_type, "--swf-type");
    if (t >= cluster.accels_of_type.size() || cluster.accels_of_type[t] == 0)
      throw InputError("--swf-type", "the cluster has no " + catalog.name(t));
    topt.swf_type = static_cast<int>(t);
  } else if (const auto only = single_type(cluster)) {
    topt.swf_type = static_cast<int>(*only);  // the cluster file's type
  }
  Trace trace = read_trace_file(a.trace, topt, catalog, *speeds);
  if (trace.format == "swf") check_swf_against(trace, cluster, catalog, topt, a);
  if (trace.skipped_rows > 0) {
    fmt::print(stderr, "zs: skipped {} bad row(s) of {}:\n", trace.skipped_rows, a.trace);
    for (const auto& m : trace.skipped) fmt::print(stderr, "  {}\n", m);
  }
  WorkloadAdjust adj;
  adj.walltime = parse_walltime_rule(a.walltime);
  adj.seed = a.seed;
  adj.load = a.load;
  adj.limit = a.limit;
  if (a.load <= 0) throw InputError("--load", "must be > 0");
  const WorkloadAdjusted adjusted = adjust_workload(trace.jobs, adj);

  SimOptions opt;
  opt.walltimes_reveal_durations = adjusted.walltimes_reveal_durations > 0;
  opt.preempt_cost_ms = seconds_to_ms(a.preempt_cost_s);
  if (a.preempt_cost_s < 0) throw InputError("--preempt-cost-s", "must be >= 0");
  opt.sched.las_promote_factor = a.las_promote;
  if (!(a.spf_size_weight > 0 && a.spf_size_weight <= 1e6))
    throw InputError("--spf-size-weight", "must be in (0, 1000000]");
  opt.sched.spf_size_weight = a.spf_size_weight;
  if (a.forecasts < 0 || a.forecasts > 1'000'000)
    throw InputError("--forecasts", "must be 0..1000000");
  opt.forecasts = static_cast<std::size_t>(a.forecasts);
  if (a.starvation_h <= 0) throw InputError("--starvation-h", "must be > 0");
  if (a.min_run_s < 0) throw InputError("--min-run-s", "must be >= 0");
  if (a.las_promote <= 0) throw InputError("--las-promote", "must be > 0");
  opt.sched.starvation_ms = seconds_to_ms(a.starvation_h * 3600);
  opt.sched.min_run_ms = seconds_to_ms(a.min_run_s);
  if (!a.las_thresholds.empty())
    opt.sched.las_thresholds_accel_s = parse_las_thresholds(a.las_thresholds, "--las-thresholds");

  // Tenants' shares: checked against this cluster; the file's preemption settings are the
  // defaults of --min-run-s (one mechanism: the flag, when given, wins).
  TenantShares shares;
  if (!a.tenants_file.empty()) {
    shares = load_tenants_file(a.tenants_file, catalog);
    check_tenants_against(shares, cluster, catalog, a.tenants_file);
    opt.use_shares(shares, a.min_run_given);
  }

  // Opened before the (possibly long) simulation so that a path that cannot be written fails now.
  std::ofstream jobs_out;
  if (!a.jobs_out.empty()) {
    jobs_out.open(a.jobs_out, std::ios::binary | std::ios::trunc);
    if (!jobs_out) throw InputError(a.jobs_out, "cannot write file");
  }

  Progress progress(policies.size(), !a.no_progress);
  std::vector<PolicyMetrics> metrics(policies.size());
  std::vector<SimResult> results(a.jobs_out.empty() ? 0 : policies.size());
  std::vector<double> wall_s(policies.size());
  std::vector<std::string> errors(policies.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < policies.size(); i = next++) {
      SimOptions o = opt;
      o.progress = [&progress, i](double f) { progress.set(i, f); };
      const auto t0 = std::chrono::steady_clock::now();
      try {
        SimResult r = simulate(cluster, catalog, speeds, trace.jobs, *policies[i], o);
        metrics[i] = compute_metrics(r, o.shares);
        if (!results.empty()) results[i] = std::move(r);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      wall_s[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  };
  unsigned threads = a.threads > 0 ? static_cast<unsigned>(a.threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(policies.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  progress.done();
  for (std::size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].empty()) throw std::runtime_error("policy " + names[i] + ": " + errors[i]);

  if (fmt_kind == ReportFormat::kTable)
    fmt::print("{} jobs ({} trace) on {}: {} nodes, {} accelerators\n", trace.jobs.size(),
               trace.format, cluster.name.empty() ? a.cluster : cluster.name, cluster.nodes.size(),
               cluster.total_accels());
  if (jobs_out.is_open()) {
    write_jobs_csv(jobs_out, results, catalog);
    jobs_out.close();
    if (!jobs_out) throw InputError(a.jobs_out, "cannot write file");
  }
  fmt::print("{}", render_report(metrics, fmt_kind, a.per_tenant || !a.tenants_file.empty()));
  if (a.timing) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    for (std::size_t i = 0; i < names.size(); ++i)
      fmt::print(stderr, "timing: {} {:.3f} s, {} passes\n", names[i], wall_s[i],
                 metrics[i].passes);
    fmt::print(stderr, "timing: peak RSS {:.1f} MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  }
  return 0;
}

}  // namespace

void register_sim(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand(
      "sim", "Replay a job trace against a cluster and compare scheduling policies");
  cmd->add_option("--cluster", args->cluster,
                  "Cluster YAML file, or inline NODESxPER_NODExTYPE[+...] e.g. 64x8xMLU590")
      ->required();
  cmd->add_option("--trace", args->trace, "Trace file (canonical CSV or a public trace format)")
      ->required();
  cmd->add_option("--trace-format", args->trace_format,
                  "auto, canonical, philly, elasticflow, gavel, gavel-physical, pollux, swf")
      ->capture_default_str();
  cmd->add_option("--policy", args->policy,
                  "Policy: fifo, easy, las, srtf, hetero, easy-pred, spf, gittins")
      ->capture_default_str();
  cmd->add_option(
      "--compare", args->compare,
      "Several policies, comma-separated, run on the same input (e.g. fifo,easy,las,srtf)");
  cmd->add_option("--format", args->format, "Output: table, json or csv")->capture_default_str();
  cmd->add_option("--preempt-cost-s", args->preempt_cost_s,
                  "Restart cost a preempted job pays when it resumes (seconds)")
      ->capture_default_str();
  cmd->add_option("--walltime", args->walltime,
                  "Walltime for jobs without one: exact, 2x, uniform:1-4, 4h, none")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed,
                  "Seed for randomized what-ifs (e.g. --walltime uniform:1-4)")
      ->capture_default_str();
  cmd->add_option("--load", args->load, "Scale the arrival rate (2 = arrivals twice as fast)")
      ->capture_default_str();
  cmd->add_option("--limit", args->limit, "Only the first N jobs by submit time");
  cmd->add_option("--recorded-on", args->recorded_on,
                  "Accelerator type the trace's durations were measured on");
  cmd->add_option("--throughputs", args->throughputs,
                  "Throughput table CSV (default: built-in Gavel table)");
  cmd->add_option("--las-thresholds", args->las_thresholds,
                  "LAS queue thresholds in accelerator-seconds, e.g. 3600,36000");
  cmd->add_option("--las-promote", args->las_promote,
                  "LAS: promote a job waiting longer than this x its last run")
      ->capture_default_str();
  cmd->add_option("--spf-size-weight", args->spf_size_weight,
                  "spf, gittins: a job's key is when it started waiting plus this x its predicted "
                  "time left (gittins: its Gittins rank; larger: closer to shortest-first)")
      ->capture_default_str();
  cmd->add_option("--forecasts", args->forecasts,
                  "Measure start-time forecasts: at N submits spread over the trace, forecast "
                  "the queue forward on predicted run times and compare with the real start")
      ->capture_default_str();
  cmd->add_option(
         "--starvation-h", args->starvation_h,
         "Hours of waiting after which a job joins las' first queue, whatever its last run")
      ->capture_default_str();
  cmd->add_option("--min-run-s", args->min_run_s,
                  "Never preempt a job before it ran this long (default: the tenants file's "
                  "preemption.min_runtime, else 300)")
      ->capture_default_str()
      ->each([args](const std::string&) { args->min_run_given = true; });
  cmd->add_option("--threads", args->threads,
                  "Policies simulated in parallel (default: number of cores)");
  cmd->add_option("--swf-per-node", args->swf_per_node,
                  "SWF: group a job's processors into nodes of N devices (12 with N=8: 2 nodes)");
  cmd->add_option("--swf-type", args->swf_type,
                  "SWF: the accelerator type every job asks for (default: the cluster's type)");
  cmd->add_flag(
      "--swf-ignore-maxprocs", args->swf_ignore_maxprocs,
      "SWF: replay a log whose MaxProcs exceeds the cluster (its large jobs are rejected)");
  cmd->add_flag("--skip-bad-rows", args->skip_bad_rows,
                "Skip and count malformed trace rows instead of failing");
  cmd->add_option("--tenants", args->tenants_file,
                  "Tenants file (docs/tenants.md): guaranteed quotas, borrowing and reclaim, "
                  "fair share, prices, preemption with grace, for every policy");
  cmd->add_flag("--per-tenant", args->per_tenant,
                "Add per-tenant rows: averages, accelerator-hours, cost, preemptions, guarantee");
  cmd->add_option("--jobs-out", args->jobs_out,
                  "Write one CSV row per job and policy to this file (docs/trace-format.md)");
  cmd->add_flag("--timing", args->timing, "Print simulation wall time and peak memory to stderr");
  cmd->add_flag("--no-progress", args->no_progress, "No progress bar");
  cmd->callback([args, &exit_code] { exit_code = run_sim(*args); });
}

}  // namespace zs::cli
