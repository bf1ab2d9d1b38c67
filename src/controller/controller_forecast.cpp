// Start-time forecasts ("when will my job start?", docs/prediction.md): the queue a pass saw,
// replayed forward on predicted run times through the same policy (sim/forecast.h).
//
// A pass copies its snapshot when a forecast is due (at most every forecast_interval_ms while
// jobs wait); the forecast thread replays the copy without holding mu_ - a forecast of 10,000
// jobs takes up to a second, which no pass, submit or agent should wait for - and publishes
// the estimates under forecast_mu_ for the API to read.
#include <chrono>

#include "controller/controller.h"

namespace zs {

bool Controller::forecast_due(TimeMs now) const {
  return options_.forecast_interval_ms > 0 && !pending_.empty() && now >= next_forecast_ms_;
}

void Controller::capture_for_forecast(const Snapshot& snapshot, TimeMs now) {
  if (!forecast_due(now)) return;
  // The due time always moves on: a capture the thread has not taken yet is replaced by this
  // newer one, never left to make every pass until then capture again.
  next_forecast_ms_ = now + options_.forecast_interval_ms;
  auto job = std::make_unique<ForecastJob>();
  job->input = capture_forecast(snapshot, now, options_.forecast_max_jobs);
  job->shares = options_.shares;
  std::lock_guard lk(forecast_mu_);
  forecast_input_ = std::move(job);
  forecast_wake_.notify_one();
}

void Controller::forecast_and_publish(const ForecastJob& job) {
  std::vector<StartForecast> starts;
  try {
    starts = forecast_starts(job.input, *policy_);
  } catch (const std::exception& e) {
    // A policy that breaks a rule in the replay is a bug; the live pass checks its own
    // decisions. No estimates rather than wrong ones.
    std::fprintf(stderr, "zs controller: start-time forecast failed: %s\n", e.what());
  }
  std::lock_guard lk(forecast_mu_);
  estimates_.clear();
  for (const StartForecast& f : starts)
    if (f.start >= 0) estimates_[f.job] = f.start;
}

void Controller::forecast_loop() {
  std::unique_lock lk(forecast_mu_);
  while (true) {
    forecast_wake_.wait(lk, [&] { return forecast_stopping_ || forecast_input_ != nullptr; });
    if (forecast_stopping_) return;
    std::unique_ptr<ForecastJob> job = std::move(forecast_input_);
    lk.unlock();
    forecast_and_publish(*job);
    lk.lock();
  }
}

void Controller::run_forecast_for_test() {
  std::unique_ptr<ForecastJob> job;
  {
    std::lock_guard lk(forecast_mu_);
    job = std::move(forecast_input_);
  }
  if (job) forecast_and_publish(*job);
}

std::optional<TimeMs> Controller::estimated_start(JobId id) const {
  {
    std::lock_guard lk(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->rec.state != JobState::pending) return std::nullopt;
  }
  std::lock_guard lk(forecast_mu_);
  auto it = estimates_.find(id);
  if (it == estimates_.end()) return std::nullopt;
  return it->second;
}

}  // namespace zs
