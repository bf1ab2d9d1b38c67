// zs bench submit: load on a running controller — N keep-alive clients submitting jobs one per
// request (or in batches), then optionally waiting until every job has finished (end to end).
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "api/api_error.h"
#include "api/http_client.h"
#include "api/json_codec.h"
#include "cli/client_auth.h"
#include "cli/commands.h"
#include "core/input_error.h"

namespace zs::cli {
namespace {

struct SubmitBenchArgs {
  std::string controller;
  int clients = 16;
  int jobs = 20'000;
  int batch = 1;
  std::string accel;  // TYPE:N, "" = no accelerators
  std::string command = "true";
  bool wait = false;
  std::string work_dir = "/tmp";
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Active (pending + running) jobs, from /metrics: cheaper than listing them.
long active_jobs(ApiClient& client) {
  std::map<std::string, std::string> headers;
  std::string text = client.get_text("/metrics", headers);
  long active = 0;
  for (const char* name : {"zs_jobs_pending ", "zs_jobs_running "}) {
    auto at = text.find(std::string("\n") + name);
    if (at != std::string::npos)
      active += std::stol(text.substr(at + 1 + std::string(name).size()));
  }
  return active;
}

int run_submit_bench(const SubmitBenchArgs& a) {
  if (a.clients < 1 || a.jobs < 1 || a.batch < 1)
    throw InputError("zs bench submit", "--clients, --jobs and --batch must be >= 1");
  JobSpec spec;
  spec.name = "bench";
  spec.argv = {"sh", "-c", a.command};
  spec.work_dir = a.work_dir;
  spec.stdout_path = "/dev/null";
  if (!a.accel.empty()) {
    auto colon = a.accel.rfind(':');
    if (colon == std::string::npos) throw InputError("--accel", "expected TYPE:N");
    spec.accel_type = a.accel.substr(0, colon);
    spec.accel_count = std::stoi(a.accel.substr(colon + 1));
  }
  // Bodies are serialized once: the load generator shares the machine and must stay cheap.
  const std::string one = to_json(spec).dump();
  std::string many = "{\"jobs\":[";
  for (int i = 0; i < a.batch; ++i) many += (i ? "," : "") + one;
  many += "]}";

  std::atomic<int> next{0};
  std::atomic<long> submitted{0}, failed{0};
  std::string first_error;
  std::mutex error_mu;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < a.clients; ++c) {
    clients.emplace_back([&] {
      ApiClient client = controller_client(a.controller, 60'000);
      for (;;) {
        const int start = next.fetch_add(a.batch);
        if (start >= a.jobs) return;
        const int n = std::min(a.batch, a.jobs - start);
        try {
          if (a.batch == 1) {
            client.post_text("/api/v1/jobs", one);
          } else if (n == a.batch) {
            client.post_text("/api/v1/jobs", many);
          } else {
            std::string last = "{\"jobs\":[";
            for (int i = 0; i < n; ++i) last += (i ? "," : "") + one;
            client.post_text("/api/v1/jobs", last + "]}");
          }
          submitted += n;
        } catch (const std::exception& e) {
          failed += n;
          std::lock_guard lk(error_mu);
          if (first_error.empty()) first_error = e.what();
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  const double submit_s = seconds_since(t0);
  fmt::print("submitted: {} jobs ({} failed) by {} clients, {} per request\n", submitted.load(),
             failed.load(), a.clients, a.batch);
  if (!first_error.empty()) fmt::print("first error: {}\n", first_error);
  fmt::print("submit_time_s: {:.3f}\nsubmit_rate_jobs_per_s: {:.0f}\n", submit_s,
             submitted.load() / submit_s);
  if (a.wait) {
    ApiClient client = controller_client(a.controller, 60'000);
    while (active_jobs(client) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double e2e_s = seconds_since(t0);
    fmt::print("e2e_time_s: {:.3f}\ne2e_rate_jobs_per_s: {:.0f}\n", e2e_s,
               submitted.load() / e2e_s);
  }
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

void register_bench_submit(CLI::App& bench, int& exit_code) {
  auto a = std::make_shared<SubmitBenchArgs>();
  auto* cmd = bench.add_subcommand(
      "submit", "Submit load on a running controller (durable submits, end to end)");
  cmd->add_option("--controller", a->controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_option("--clients", a->clients, "Concurrent keep-alive clients")->capture_default_str();
  cmd->add_option("--jobs", a->jobs, "Jobs in all")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Jobs per request (1 = one job per request)")
      ->capture_default_str();
  cmd->add_option("--accel", a->accel, "TYPE:N accelerators per job (default: none)");
  cmd->add_option("--command", a->command, "What each job runs (sh -c)")->capture_default_str();
  cmd->add_option("--work-dir", a->work_dir, "Jobs' working directory")->capture_default_str();
  cmd->add_flag("--wait", a->wait, "Wait until every job has finished (end-to-end rate)");
  cmd->callback([a, &exit_code] { exit_code = run_submit_bench(*a); });
}

}  // namespace zs::cli
