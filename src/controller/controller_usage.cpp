// Accounting in the live controller (docs/tenants.md, "Accounting"): one usage record per
// attempt, written with the attempt's end, and written again when its devices are all released
// if that came later (a killed attempt's grace period is billed: the devices were not free).
// A record is keyed by (job, attempt), so rewriting it replaces it: an attempt is billed once.
// Fair share is charged the same run, in two parts when the release comes after the end.
//
// What a controller crash loses: an attempt ended (its first record is durable with the job's
// new state) whose devices were released only after the crash is billed until the end, not
// until the release; the grace period after a crash is not billed.
#include <algorithm>
#include <cstdio>

#include "controller/controller.h"
#include "controller/durable_writer.h"
#include "core/input_error.h"

namespace zs {

namespace {

std::string usage_state(JobState how) {
  switch (how) {
    case JobState::pending:
      return "preempted";  // end_attempt's requeue of a preemption
    case JobState::completed:
      return "completed";
    case JobState::cancelled:
      return "cancelled";
    case JobState::timeout:
      return "timeout";
    case JobState::node_fail:
      return "node_fail";
    default:
      return "failed";
  }
}

// Fair share looks this far back when it is rebuilt from the records: older usage has decayed
// to less than 2^-30 of what it was.
constexpr int kHalfLivesKept = 30;

// Records read from the store at once by a usage report (a few ms of store time each).
constexpr std::size_t kUsagePageRows = 5000;

}  // namespace

UsageRecord Controller::usage_record_of(const LiveJob& job, JobState how, int exit_code,
                                        TimeMs end) const {
  UsageRecord r;
  r.tenant = job.rec.spec.tenant;
  r.user = job.rec.spec.user;
  r.job = job.rec.id;
  r.attempt = job.rec.attempt;
  r.start_ms = job.rec.start_ms;
  r.end_ms = std::max(end, r.start_ms);
  r.exit_code = exit_code;
  r.state = usage_state(how);
  r.accel_count = std::max(0, job.rec.spec.accel_count);
  // The type the attempt ran on (a job may name none); a job without accelerators is "cpu"
  // and costs nothing.
  r.accel_type = "cpu";
  std::optional<TypeId> type;
  if (r.accel_count > 0 && !job.rec.assignment.empty()) {
    auto node = nodes_.find(job.rec.assignment.front().node);
    if (node != nodes_.end()) {
      type = catalog_.find(node->second.rec.accel_type);
      r.accel_type = type ? catalog_.name(*type) : node->second.rec.accel_type;
    }
  }
  // Prices come from the tenants file; without one (or without its `prices`), an
  // accelerator-hour costs 1, so bills are in accelerator-hours.
  r.price_per_hour = r.accel_count == 0 ? 0.0
                     : !type            ? (options_.shares ? 0.0 : 1.0)
                     : options_.shares  ? options_.shares->price(*type)
                                        : 1.0;
  return r;
}

bool Controller::held_anywhere(const AttemptKey& key) const {
  auto it = jobs_.find(key.job);
  if (it != jobs_.end() && it->second->rec.attempt == key.attempt) {
    for (const auto& a : it->second->rec.assignment)
      if (auto n = nodes_.find(a.node); n != nodes_.end() && n->second.holds.count(key))
        return true;
    return false;
  }
  return std::any_of(nodes_.begin(), nodes_.end(),
                     [&](const auto& n) { return n.second.holds.count(key) > 0; });
}

void Controller::bill_attempt(const LiveJob& job, JobState how, int exit_code, TimeMs end) {
  if (job.rec.start_ms <= 0 || job.rec.attempt <= 0) return;
  UsageRecord rec = usage_record_of(job, how, exit_code, end);
  const AttemptKey key{job.rec.id, job.rec.attempt};
  bill(rec, rec.start_ms);
  if (held_anywhere(key)) unreleased_usage_[key] = std::move(rec);
}

void Controller::attempt_released(const AttemptKey& key, TimeMs when) {
  auto it = unreleased_usage_.find(key);
  if (it == unreleased_usage_.end() || held_anywhere(key)) return;
  UsageRecord rec = std::move(it->second);
  unreleased_usage_.erase(it);
  const TimeMs billed_until = rec.end_ms;
  if (when <= billed_until) return;  // gone before the end was recorded: nothing more to bill
  rec.end_ms = when;
  bill(rec, billed_until);
}

// Queues the record for the next write and charges fair share for [charged_from, end].
void Controller::bill(const UsageRecord& rec, TimeMs charged_from) {
  if (std::string problem = usage_record_problem(rec); !problem.empty()) {
    // Never a batch the store refuses (it would fail every flush after it): dropped, and said.
    ++unbillable_;
    std::fprintf(stderr, "zs controller: job %llu attempt %d is not billed: %s\n",
                 static_cast<unsigned long long>(rec.job), rec.attempt, problem.c_str());
    return;
  }
  unwritten_.usage.push_back(rec);
  if (!options_.shares || rec.accel_count == 0) return;
  fair_.charge(static_cast<std::size_t>(tenant_index(rec.tenant)),
               rec.accel_count * rec.price_per_hour / 3.6e6, charged_from, rec.end_ms);
}

void Controller::load_fair_share_history(TimeMs now) {
  if (!options_.shares) return;
  const TimeMs back = fair_.half_life() * kHalfLivesKept;
  for (const UsageRecord& r : store_->load_usage(UsageQuery(now > back ? now - back : 0, kNever)))
    if (r.accel_count > 0)
      fair_.charge(static_cast<std::size_t>(tenant_index(r.tenant)),
                   r.accel_count * r.price_per_hour / 3.6e6, r.start_ms, r.end_ms);
}

// The service of the jobs that may run again (waiting or running), from their ended attempts'
// records: what las and srtf order them by, as if the controller had never stopped.
void Controller::load_attained_service() {
  TimeMs since = kNever;
  for (const auto& [id, job] : pending_) since = std::min(since, job->rec.submit_ms);
  for (const auto& [id, job] : running_) since = std::min(since, job->rec.submit_ms);
  if (since == kNever) return;
  for (const UsageRecord& r : store_->load_usage(UsageQuery(since, kNever))) {
    auto it = jobs_.find(r.job);
    if (it == jobs_.end() || is_terminal(it->second->rec.state)) continue;
    LiveJob& job = *it->second;
    if (job.rec.state == JobState::running && r.attempt >= job.rec.attempt) continue;
    job.attained_accel_ms += (r.end_ms - r.start_ms) * r.accel_count;
    if (r.end_ms >= job.last_end_ms) {
      job.last_end_ms = r.end_ms;
      job.last_run_ms = r.end_ms - r.start_ms;
    }
  }
}

UsageAnswer Controller::usage(UsageWindow window, const std::vector<std::string>& tenants) {
  if (window.end <= window.start) throw InputError("end", "the window ends before it starts");
  UsageAnswer answer;
  std::map<AttemptKey, UsageRecord> live;  // what memory knows better than the store
  {
    std::lock_guard lk(mu_);
    answer.now = now_ms();
    auto wanted = [&](const UsageRecord& r) {
      return (tenants.empty() ||
              std::find(tenants.begin(), tenants.end(), r.tenant) != tenants.end()) &&
             in_window(r, window);
    };
    // Not yet durable (the next flush writes them), then those still holding devices.
    for (const UsageRecord& r : unwritten_.usage)
      if (wanted(r)) live[{r.job, r.attempt}] = r;
    for (const auto& [key, r] : unreleased_usage_) {
      UsageRecord now_too = r;
      now_too.end_ms = std::max(r.end_ms, answer.now);
      if (wanted(now_too)) live[key] = std::move(now_too);
    }
    for (const auto& [id, job] : running_) {
      UsageRecord r = usage_record_of(*job, JobState::running, 0, answer.now);
      r.state = "running";
      if (wanted(r)) live[{r.job, r.attempt}] = std::move(r);
    }
    if (options_.shares) answer.shortfall = options_.shares->shortfalls(cluster_, catalog_);
  }
  // Page by page, each read alone on the store: commits go on between pages.
  const UsageQuery query(window.start, window.end, tenants);
  std::optional<UsageKey> after;
  do {
    UsagePage page;
    writer_->run_alone(
        [&](Store& store) { page = store.load_usage_page(query, after, kUsagePageRows); });
    for (UsageRecord& r : page.records) live.try_emplace({r.job, r.attempt}, std::move(r));
    after = page.next;
  } while (after);
  answer.records.reserve(live.size());
  for (auto& [key, r] : live) answer.records.push_back(std::move(r));
  return answer;
}

}  // namespace zs
