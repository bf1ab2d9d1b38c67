// zs bench sched: times scheduling passes on a synthetic snapshot (sizing the scheduler).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "cli/commands.h"
#include "core/input_error.h"
#include "sched/policy.h"
#include "sim/forecast.h"
#include "sim/synthetic.h"

namespace zs::cli {

namespace {
struct BenchArgs {
  int jobs = 100000, nodes = 10000, per_node = 8, passes = 15, tenants = 0;
  double busy = 0.9;
  std::string policy = "easy", type = "MLU590";
  std::uint64_t seed = 1;
};

// The synthetic snapshot both benchmarks time; `repeat_flag` names their --passes / --runs.
SyntheticSnapshot synthetic_for(const BenchArgs& a, const std::string& command,
                                const char* repeat_flag) {
  if (a.jobs < 0 || a.nodes <= 0 || a.per_node <= 0 || a.per_node > 64 || a.passes <= 0)
    throw InputError(command, std::string("--jobs >= 0, --nodes >= 1, --per-node 1..64 and ") +
                                  repeat_flag + " >= 1 are required");
  if (a.busy < 0 || a.busy > 1) throw InputError("--busy", "must be between 0 and 1");
  if (a.tenants < 0 || a.tenants > 100'000) throw InputError("--tenants", "must be 0..100000");
  SyntheticSpec spec;
  spec.nodes = a.nodes;
  spec.per_node = a.per_node;
  spec.type = a.type;
  spec.pending_jobs = a.jobs;
  spec.busy_fraction = a.busy;
  spec.seed = a.seed;
  spec.tenants = a.tenants;
  return make_synthetic_snapshot(spec, Catalog::builtin());
}

int run_bench(const BenchArgs& a) {
  auto policy = make_policy(a.policy);
  SyntheticSnapshot syn = synthetic_for(a, "zs bench sched", "--passes");
  Snapshot snap = syn.snapshot();
  std::vector<double> ms;
  std::size_t starts = 0, reclaims = 0, holds = 0, waits = 0;
  for (int i = 0; i < a.passes; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    Decisions d = policy->decide(snap, syn.now);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    starts = d.starts.size();
    reclaims = d.preemptions.size();
    holds = d.holds.size();
    waits = d.waits.size();
  }
  std::sort(ms.begin(), ms.end());
  fmt::print("policy {}: {} pending jobs, {} running, {} nodes x {} {}; {} starts per pass\n",
             a.policy, a.jobs, syn.running.size(), a.nodes, a.per_node, a.type, starts);
  if (a.tenants > 0)
    fmt::print("tenants {}: {} reclaims, {} holds, {} waiting over their limit per pass\n",
               a.tenants, reclaims, holds, waits);
  fmt::print("passes {}: min {:.2f} ms, max {:.2f} ms\n", a.passes, ms.front(), ms.back());
  fmt::print("median pass ms: {:.3f}\n", ms[ms.size() / 2]);
  return 0;
}

// zs bench forecast: times a start-time forecast of every waiting job (the snapshot's copy, as
// a controller takes it under its lock, and the replay) on the same synthetic snapshot.
int run_bench_forecast(const BenchArgs& a) {
  auto policy = make_policy(a.policy);
  if (policy->needs_oracle())
    throw InputError("--policy", a.policy + " needs the real run times: it cannot forecast");
  SyntheticSnapshot syn = synthetic_for(a, "zs bench forecast", "--runs");
  const Snapshot snap = syn.snapshot();
  std::vector<double> copy_ms, run_ms;
  std::size_t estimated = 0;
  TimeMs last = 0;
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < a.passes; ++i) {
    const auto t0 = Clock::now();
    const ForecastInput in = capture_forecast(snap, syn.now);
    const auto t1 = Clock::now();
    const auto starts = forecast_starts(in, *policy);
    const auto t2 = Clock::now();
    copy_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    run_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    estimated = 0;
    last = 0;
    for (const auto& s : starts)
      if (s.start >= 0) {
        ++estimated;
        last = std::max(last, s.start - syn.now);
      }
  }
  std::sort(copy_ms.begin(), copy_ms.end());
  std::sort(run_ms.begin(), run_ms.end());
  fmt::print("policy {}: {} pending jobs, {} running, {} nodes x {} {}\n", a.policy, a.jobs,
             syn.running.size(), a.nodes, a.per_node, a.type);
  fmt::print("estimates: {} of {} jobs, the last start {:.1f} h ahead\n", estimated, a.jobs,
             static_cast<double>(last) / 3.6e6);
  fmt::print("runs {}: replay min {:.1f} ms, max {:.1f} ms\n", a.passes, run_ms.front(),
             run_ms.back());
  fmt::print("median copy ms: {:.3f}\n", copy_ms[copy_ms.size() / 2]);
  fmt::print("median forecast ms: {:.3f}\n", run_ms[run_ms.size() / 2]);
  return 0;
}
}  // namespace

namespace {
// The synthetic snapshot's options, the same for both benchmarks.
void add_synthetic_options(CLI::App& cmd, BenchArgs& a) {
  cmd.add_option("--jobs", a.jobs, "Pending jobs (sizes 1-512 accelerators)")
      ->capture_default_str();
  cmd.add_option("--nodes", a.nodes, "Nodes")->capture_default_str();
  cmd.add_option("--per-node", a.per_node, "Accelerators per node")->capture_default_str();
  cmd.add_option("--policy", a.policy, "Policy")->capture_default_str();
  cmd.add_option("--type", a.type, "Accelerator type")->capture_default_str();
  cmd.add_option("--busy", a.busy, "Fraction of accelerators held by running jobs")
      ->capture_default_str();
  cmd.add_option("--tenants", a.tenants,
                 "Spread the jobs over N tenants with quotas (equal guarantees adding up to the "
                 "cluster, borrowing none/some/unlimited) and fair-share usage")
      ->capture_default_str();
  cmd.add_option("--seed", a.seed, "Seed of the synthetic workload")->capture_default_str();
}
}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto* bench = app.add_subcommand("bench", "Benchmarks for sizing Zhisuan");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchArgs>();
  auto* sched =
      bench->add_subcommand("sched", "Median time of one scheduling pass on a synthetic snapshot");
  add_synthetic_options(*sched, *args);
  sched->add_option("--passes", args->passes, "Passes to time")->capture_default_str();
  sched->callback([args, &exit_code] { exit_code = run_bench(*args); });
  auto fargs = std::make_shared<BenchArgs>();
  fargs->jobs = 10000;
  fargs->passes = 5;
  auto* forecast = bench->add_subcommand(
      "forecast", "Median time of a start-time forecast of every waiting job (synthetic snapshot)");
  add_synthetic_options(*forecast, *fargs);
  forecast->add_option("--runs", fargs->passes, "Forecasts to time")->capture_default_str();
  forecast->callback([fargs, &exit_code] { exit_code = run_bench_forecast(*fargs); });
  register_bench_submit(*bench, exit_code);
}

}  // namespace zs::cli
