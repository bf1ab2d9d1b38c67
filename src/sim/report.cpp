#include "sim/report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sim/jobs_csv.h"

namespace zs {

namespace {

// Rounds to 6 significant decimals so JSON output is stable and readable.
double r6(double v) {
  return std::round(v * 1e6) / 1e6;
}

std::string human_duration(double s) {
  if (s < 120) return fmt::format("{:.1f}s", s);
  if (s < 2 * 3600) return fmt::format("{:.1f}m", s / 60);
  if (s < 2 * 86400) return fmt::format("{:.2f}h", s / 3600);
  return fmt::format("{:.2f}d", s / 86400);
}

// A clairvoyant policy's name carries a star in tables (srtf*).
std::string shown_name(const PolicyMetrics& p) {
  return p.clairvoyant ? p.policy + "*" : p.policy;
}

// The best average JCT among the policies of one kind (nullptr if none finished a job).
const PolicyMetrics* best_of(const std::vector<PolicyMetrics>& ps, bool clairvoyant) {
  const PolicyMetrics* best = nullptr;
  for (const auto& p : ps)
    if (p.clairvoyant == clairvoyant && p.jobs > 0 && (!best || p.avg_jct_s < best->avg_jct_s))
      best = &p;
  return best;
}

std::string table(const std::vector<PolicyMetrics>& ps, bool with_tenants) {
  std::string out = fmt::format(
      "{:<10} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>6} {:>6} {:>7}\n",
      "policy", "jobs", "rej", "avg JCT", "p50 JCT", "p95 JCT", "p99 JCT", "avg queue", "slowdown",
      "makespan", "util", "frag", "preempt");
  for (const auto& p : ps)
    out += fmt::format(
        "{:<10} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9.2f} {:>9} {:>5.1f}% {:>5.1f}% "
        "{:>7}\n",
        shown_name(p), p.jobs, p.rejected, human_duration(p.avg_jct_s), human_duration(p.p50_jct_s),
        human_duration(p.p95_jct_s), human_duration(p.p99_jct_s), human_duration(p.avg_queue_s),
        p.avg_bounded_slowdown, human_duration(p.makespan_s), 100 * p.utilization,
        100 * p.fragmentation, p.preemptions);
  // The best a cluster can run (no clairvoyance) and the best with it, named separately: an
  // oracle is a yardstick, not a choice.
  const PolicyMetrics* best = best_of(ps, false);
  const PolicyMetrics* oracle = best_of(ps, true);
  if (ps.size() > 1 && (best || oracle)) {
    if (best) {
      out += fmt::format("best average JCT: {}", best->policy);
      for (const auto& p : ps)
        if (p.policy == "fifo" && best->avg_jct_s > 0 && &p != best)
          out += fmt::format(" ({:.2f}x better than fifo)", p.avg_jct_s / best->avg_jct_s);
    }
    if (oracle) {
      out += fmt::format("{}best clairvoyant: {}",
                         best ? "; "
                              : "best average JCT: none without "
                                "clairvoyance; ",
                         shown_name(*oracle));
      if (best && oracle->avg_jct_s > 0)
        out += fmt::format(" ({} is {:.2f}x its average JCT)", best->policy,
                           best->avg_jct_s / oracle->avg_jct_s);
    }
    out += "\n";
  }
  bool any_clairvoyant = false;
  for (const auto& p : ps) any_clairvoyant = any_clairvoyant || p.clairvoyant;
  if (any_clairvoyant)
    out +=
        "* clairvoyant: knows the real run times (srtf reads them; easy and hetero read walltimes "
        "made from them under --walltime exact or 2x)\n";
  // The run-time predictor, learning online in each run (docs/prediction.md).
  if (!ps.empty() && ps.front().predictions > 0) {
    out += fmt::format(
        "\nrun-time predictions (made at submit from the jobs ended before):\n"
        "{:<10} {:>11} {:>13} {:>14} {:>7}\n",
        "policy", "predictions", "mean abs err", "median rel err", "under");
    for (const auto& p : ps)
      out += fmt::format("{:<10} {:>11} {:>13} {:>13.1f}% {:>6.1f}%\n", shown_name(p),
                         p.predictions, human_duration(p.prediction_mae_s),
                         100 * p.prediction_median_rel, 100 * p.prediction_under_share);
  }
  // Start-time forecasts (zs sim --forecasts N, docs/prediction.md).
  bool forecasts = false;
  for (const auto& p : ps) forecasts = forecasts || p.forecasts + p.forecasts_without_estimate > 0;
  if (forecasts) {
    out += fmt::format(
        "\nstart-time forecasts (made at submit for jobs that waited, against their start):\n"
        "{:<10} {:>9} {:>11} {:>13} {:>13} {:>7} {:>12}\n",
        "policy", "forecasts", "no estimate", "median error", "p90 error", "early", "median wait");
    for (const auto& p : ps)
      out +=
          fmt::format("{:<10} {:>9} {:>11} {:>13} {:>13} {:>6.1f}% {:>12}\n", shown_name(p),
                      p.forecasts, p.forecasts_without_estimate,
                      human_duration(p.forecast_median_abs_s), human_duration(p.forecast_p90_abs_s),
                      100 * p.forecast_early_share, human_duration(p.forecast_median_wait_s));
  }
  if (with_tenants) {
    for (const auto& p : ps) {
      out += fmt::format(
          "\n{} per tenant:\n{:<20} {:>7} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6} {:>8}\n",
          p.policy, "tenant", "jobs", "avg JCT", "avg queue", "accel-h", "cost", "preempt", "guar",
          "avg used");
      for (const auto& t : p.tenants)
        out += fmt::format("{:<20} {:>7} {:>10} {:>10} {:>10.1f} {:>10.1f} {:>7} {:>6} {:>8.1f}\n",
                           t.tenant.empty() ? "-" : t.tenant, t.jobs, human_duration(t.avg_jct_s),
                           human_duration(t.avg_queue_s), t.accel_hours, t.cost, t.preemptions,
                           t.guaranteed, t.avg_used);
      out += fmt::format("{:<20} {:>7} {:>10} {:>10} {:>10.1f} {:>10.1f} {:>7}\n", "total", p.jobs,
                         "", "", p.accel_hours, p.cost, p.preemptions);
    }
  }
  return out;
}

std::string json(const std::vector<PolicyMetrics>& ps, bool with_tenants) {
  nlohmann::ordered_json root;
  root["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : ps) {
    nlohmann::ordered_json j;
    j["policy"] = p.policy;
    j["jobs"] = p.jobs;
    j["rejected"] = p.rejected;
    j["avg_jct_s"] = r6(p.avg_jct_s);
    j["p50_jct_s"] = r6(p.p50_jct_s);
    j["p95_jct_s"] = r6(p.p95_jct_s);
    j["p99_jct_s"] = r6(p.p99_jct_s);
    j["avg_queue_s"] = r6(p.avg_queue_s);
    j["avg_bounded_slowdown"] = r6(p.avg_bounded_slowdown);
    j["makespan_s"] = r6(p.makespan_s);
    j["utilization"] = r6(p.utilization);
    j["fragmentation"] = r6(p.fragmentation);
    j["preemptions"] = p.preemptions;
    j["backfilled"] = p.backfilled;
    j["killed_at_walltime"] = p.killed_at_walltime;
    j["accel_hours"] = r6(p.accel_hours);
    j["cost"] = r6(p.cost);
    j["clairvoyant"] = p.clairvoyant;
    j["predictor"] = {{"predictions", p.predictions},
                      {"mean_abs_error_s", r6(p.prediction_mae_s)},
                      {"median_relative_error", r6(p.prediction_median_rel)},
                      {"under_predicted_share", r6(p.prediction_under_share)}};
    if (p.forecasts + p.forecasts_without_estimate > 0)
      j["forecast"] = {{"forecasts", p.forecasts},
                       {"without_estimate", p.forecasts_without_estimate},
                       {"median_abs_error_s", r6(p.forecast_median_abs_s)},
                       {"p90_abs_error_s", r6(p.forecast_p90_abs_s)},
                       {"early_share", r6(p.forecast_early_share)},
                       {"median_wait_s", r6(p.forecast_median_wait_s)}};
    if (with_tenants) {
      j["tenants"] = nlohmann::ordered_json::array();
      for (const auto& t : p.tenants)
        j["tenants"].push_back({{"tenant", t.tenant},
                                {"jobs", t.jobs},
                                {"avg_jct_s", r6(t.avg_jct_s)},
                                {"avg_queue_s", r6(t.avg_queue_s)},
                                {"accel_hours", r6(t.accel_hours)},
                                {"cost", r6(t.cost)},
                                {"preemptions", t.preemptions},
                                {"guaranteed", t.guaranteed},
                                {"avg_used", r6(t.avg_used)}});
    }
    root["policies"].push_back(std::move(j));
  }
  return root.dump(2) + "\n";
}

std::string csv(const std::vector<PolicyMetrics>& ps, bool with_tenants) {
  std::string out =
      "policy,jobs,rejected,avg_jct_s,p50_jct_s,p95_jct_s,p99_jct_s,avg_queue_s,avg_bounded_"
      "slowdown,"
      "makespan_s,utilization,fragmentation,preemptions,backfilled,killed_at_walltime,accel_"
      "hours,cost,clairvoyant,pred_mae_s,pred_median_rel_error,pred_under_share,forecasts,"
      "forecast_median_abs_s,forecast_p90_abs_s\n";
  for (const auto& p : ps)
    out += fmt::format(
        "{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.4f},{:.3f},{:.6f},{:.6f},{},{},{},{:.6f},"
        "{:.6f},{},{:.3f},{:.6f},{:.6f},{},{:.3f},{:.3f}\n",
        p.policy, p.jobs, p.rejected, p.avg_jct_s, p.p50_jct_s, p.p95_jct_s, p.p99_jct_s,
        p.avg_queue_s, p.avg_bounded_slowdown, p.makespan_s, p.utilization, p.fragmentation,
        p.preemptions, p.backfilled, p.killed_at_walltime, p.accel_hours, p.cost,
        p.clairvoyant ? "true" : "false", p.prediction_mae_s, p.prediction_median_rel,
        p.prediction_under_share, p.forecasts, p.forecast_median_abs_s, p.forecast_p90_abs_s);
  if (with_tenants) {
    out +=
        "\npolicy,tenant,jobs,avg_jct_s,avg_queue_s,accel_hours,cost,preemptions,guaranteed,avg_"
        "used\n";
    for (const auto& p : ps)
      for (const auto& t : p.tenants)
        out += fmt::format("{},{},{},{:.3f},{:.3f},{:.6f},{:.6f},{},{},{:.6f}\n", p.policy,
                           csv_field(t.tenant), t.jobs, t.avg_jct_s, t.avg_queue_s, t.accel_hours,
                           t.cost, t.preemptions, t.guaranteed, t.avg_used);
  }
  return out;
}

}  // namespace

std::string render_report(const std::vector<PolicyMetrics>& policies, ReportFormat format,
                          bool with_tenants) {
  switch (format) {
    case ReportFormat::kJson:
      return json(policies, with_tenants);
    case ReportFormat::kCsv:
      return csv(policies, with_tenants);
    case ReportFormat::kTable:
      break;
  }
  return table(policies, with_tenants);
}

}  // namespace zs
