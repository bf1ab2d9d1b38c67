#include "scenario_inputs.h"

#include "core/input_error.h"
#include "core/text.h"
#include "sim/cluster_file.h"
#include "sim/tenants_file.h"
#include "sim/trace.h"
#include "sim/workload_adjust.h"

namespace zs::test {

ScenarioInputs load_scenario_inputs(const Scenario& sc) {
  const Catalog& catalog = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();
  ScenarioInputs in;
  if (!sc.cluster_yaml.empty())
    in.cluster = parse_cluster_yaml(sc.cluster_yaml, sc.source, catalog);
  else if (std::filesystem::exists(sc.dir / sc.cluster))
    in.cluster = load_cluster((sc.dir / sc.cluster).string(), catalog);
  else
    in.cluster = load_cluster(sc.cluster, catalog);

  TraceOptions topt;
  topt.format = "canonical";
  WorkloadAdjust adj;
  SimOptions& opt = in.sim;
  bool min_run_given = false;
  for (const auto& [k, v] : sc.options) {
    const std::string where = sc.source + ": option " + k;
    auto number = [&] {
      auto d = parse_double(v);
      if (!d || *d < 0) throw InputError(where, "'" + v + "' is not a non-negative number");
      return *d;
    };
    if (k == "preempt-cost-s") {
      opt.preempt_cost_ms = seconds_to_ms(number());
    } else if (k == "walltime") {
      adj.walltime = parse_walltime_rule(v);
    } else if (k == "seed") {
      adj.seed = static_cast<std::uint64_t>(number());
    } else if (k == "load") {
      adj.load = number();
    } else if (k == "las-thresholds") {
      opt.sched.las_thresholds_accel_s.clear();
      for (auto p : split(v, ',')) {
        auto d = parse_double(p);
        if (!d || *d <= 0) throw InputError(where, "'" + std::string(p) + "' is not > 0");
        opt.sched.las_thresholds_accel_s.push_back(*d);
      }
    } else if (k == "las-promote") {
      opt.sched.las_promote_factor = number();
      if (opt.sched.las_promote_factor <= 0) throw InputError(where, "must be > 0");
    } else if (k == "starvation-h") {
      const double h = number();
      if (h <= 0) throw InputError(where, "must be > 0");
      opt.sched.starvation_ms = seconds_to_ms(h * 3600);
    } else if (k == "min-run-s") {
      opt.sched.min_run_ms = seconds_to_ms(number());
      min_run_given = true;
    } else if (k == "recorded-on") {
      topt.recorded_type = catalog.resolve(v, where);
    }
  }
  Trace trace = read_trace_text(sc.jobs_csv, sc.source, topt, catalog, speeds);
  adjust_workload(trace.jobs, adj);
  in.jobs = std::move(trace.jobs);
  if (!sc.tenants_yaml.empty()) {
    auto shares =
        std::make_shared<TenantShares>(parse_tenants_yaml(sc.tenants_yaml, sc.source, catalog));
    check_tenants_against(*shares, in.cluster, catalog, sc.source);
    in.shares = shares;
    opt.use_shares(*in.shares, min_run_given);
  }
  return in;
}

}  // namespace zs::test
