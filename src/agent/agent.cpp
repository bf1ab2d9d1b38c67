#include "agent/agent.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include "agent/agent_clock.h"
#include "api/api_error.h"
#include "api/auth_token.h"
#include "api/file_slice.h"
#include "api/http_client.h"
#include "api/http_listener.h"
#include "api/http_router.h"
#include "api/json_fields.h"
#include "api/tls_socket.h"
#include "api/token_file.h"
#include "core/input_error.h"
#include "core/output_pattern.h"

namespace zs {
namespace {

constexpr std::int64_t kInventoryRefreshMs = 5'000;
// Exits per report: an agent that was cut off for long may hold many, and a report must stay
// far below the controller's request limit (48 MiB); the rest go in the next ones.
constexpr std::size_t kMaxExitsPerReport = 1'000;
constexpr std::size_t kMaxDeviceProblems = 64;

std::int64_t machine_mem_mib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") return kib / 1024;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

void sleep_ms(std::int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

Agent::Agent(AgentOptions options) : options_(std::move(options)) {
  if (options_.name.empty()) throw InputError("--name", "an agent needs a node name");
  if (options_.work_dir.empty()) throw InputError("--work-dir", "an agent needs a work directory");
  for (const auto& [flag, value] :
       {std::pair{"--leaf", &options_.leaf}, {"--spine", &options_.spine}})
    for (char c : *value)
      if (value->size() > 64 ||
          (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.'))
        throw InputError(flag, "a switch name has at most 64 letters, digits, '-', '_' or '.'");
  // Sent in every report: bounded and printable, or every sync would be refused.
  if (options_.address.size() > 255 ||
      std::any_of(options_.address.begin(), options_.address.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x21 || c == 0x7f; }))
    throw InputError("--address", "expected a host name or address (at most 255 characters)");
  options_.work_dir = std::filesystem::absolute(options_.work_dir).lexically_normal().string();
  while (options_.work_dir.size() > 1 && options_.work_dir.back() == '/')
    options_.work_dir.pop_back();
  // Before anything in the directory is touched: a second agent there would take over the
  // first one's tasks and records.
  lock_.emplace(options_.work_dir);
  self_ = own_account(&self_known_);
  if (options_.single_user && self_.uid == 0)
    throw InputError("--single-user",
                     "an agent running as root runs each job as its own Unix user; "
                     "--single-user is for an agent that is not root");
  if (self_.uid != 0)
    std::fprintf(stderr, "zs agent %s: %s\n", options_.name.c_str(),
                 run_as_summary(self_, options_.single_user).c_str());
  // The lease an earlier agent on this directory renewed goes on for the tasks it left.
  lease_file_ = options_.work_dir + "/lease";
  if (!options_.token_file.empty()) token_ = read_token_file(options_.token_file, "--token-file");
  kernel_boot_ = kernel_boot_id();
  if (auto lease = read_node_lease(lease_file_); lease && lease->kernel_boot == kernel_boot_) {
    lease_deadline_ = lease_written_ = lease->deadline_ms;
    lease_grace_written_ = lease->grace_ms;
  }
  // Now, while the process is small and has a single thread (shim.h).
  shim_ = std::make_unique<Shim>(lease_file_);
  if (!shim_->ok()) throw std::runtime_error(shim_->error());
  boot_id_ = work_dir_instance_id(options_.work_dir);
  if (boot_id_.empty()) boot_id_ = random_hex_id();
  records_.emplace(options_.work_dir + "/attempts");
  install_srun();
  start_log_server();

  std::string kind = options_.discovery;
  if (kind.empty()) kind = options_.accelerators.empty() ? "auto" : "fake";
  DiscoveryOptions d;
  d.fake_spec = options_.accelerators;
  d.fake_health_file = options_.work_dir + "/fake-health";
  std::string error;
  discovery_ = make_discovery(kind, d, error);
  if (!discovery_) throw InputError("--discovery", kind + ": " + error);
  inventory_ = discovery_->discover();
  inventory_at_ms_ = now_ms();
  fake_ = kind == "fake";
  const bool fake = fake_;
  const int count = static_cast<int>(inventory_.devices.size());
  if (options_.cpus <= 0)
    options_.cpus =
        fake && count > 0 ? 16.0 * count : static_cast<double>(std::thread::hardware_concurrency());
  if (options_.mem_mib <= 0)
    options_.mem_mib = fake && count > 0 ? 128LL * 1024 * count : machine_mem_mib();
  if (options_.cgroups) {
    // One parent per agent instance: agents with the same node name on one host (tests, or a
    // second cluster) must not share, sweep or kill each other's cgroups.
    const std::string parent = "zhisuan/" + options_.name + "-" + work_dir_tag(options_.work_dir);
    CgroupConfig config;
    config.parent = parent;
    CgroupLimits limits = CgroupLimits::detect(config);
    TrackerConfig tc;
    tc.parent = parent;
    CgroupTracker tracker = CgroupTracker::detect(tc);
    cgroup_status_ = tracker.status() + "; " + limits.status();
    if (limits.available()) cgroups_ = std::move(limits);
    if (tracker.available()) tracker_ = std::move(tracker);
  } else {
    cgroup_status_ = "no cgroups (--no-cgroups): tasks are tracked by process group only";
  }
  // Last before the eventfd: re-adopting signals and kills, so every refusal of the options
  // must come first.
  adopt_attempts();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0)
    throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
}

Agent::~Agent() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  for (auto& [key, a] : attempts_)
    for (auto& t : a.tasks)
      if (t.pidfd >= 0) ::close(t.pidfd);
}

std::string Agent::describe() const {
  std::lock_guard lk(mu_);
  std::string s = options_.name + ": " + std::to_string(inventory_.devices.size()) + " x " +
                  (inventory_.accel_type.empty() ? "no accelerators" : inventory_.accel_type) +
                  " (" + inventory_.source + "), " + std::to_string(options_.cpus) + " cpus, " +
                  std::to_string(options_.mem_mib) + " MiB; " + cgroup_status_;
  for (const auto& w : inventory_.warnings) s += "\n  warning: " + w;
  return s;
}

void Agent::stop() {
  stopping_ = true;
  exits_cv_.notify_all();
  wake_supervisor();
}

void Agent::wake_supervisor() {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);  // full counter: awake anyway
}

void Agent::block_child_signal() {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, nullptr);
}

void Agent::run() {
  // Orphaned grandchildren of our tasks are reparented to us, so the supervisor reaps them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // SIGCHLD stays blocked in every thread; the supervisor reads it from a signalfd, so an idle
  // agent sleeps instead of polling (64 agents on one machine must not burn a core).
  block_child_signal();
  std::thread supervisor([this] { supervise_loop(); });
  std::thread exits([this] { exits_loop(); });
  std::thread logs([this] { logs_server_->serve(); });
  // Named for `top -H` and for the tests that check what each thread does while idle.
  pthread_setname_np(supervisor.native_handle(), "zs-supervise");
  pthread_setname_np(exits.native_handle(), "zs-exits");
  pthread_setname_np(logs.native_handle(), "zs-logs");
  sync_loop();
  exits_cv_.notify_all();
  logs_server_->stop();
  supervisor.join();
  exits.join();
  logs.join();
  // Nothing left to track: this agent's own cgroup parents go (the shared "zhisuan" above them
  // stays, another agent may be creating its parent there). Leftovers of a `kill -9` are found
  // by the next agent on this work directory.
  std::lock_guard lk(mu_);
  if (attempts_.empty()) {
    if (tracker_) ::rmdir(tracker_->parent_dir().c_str());
    if (cgroups_)
      for (const auto& d : cgroups_->parent_dirs()) ::rmdir(d.c_str());
  }
}

// <work_dir>/bin/srun runs `zs srun` of this very binary. Without it (no /proc, unwritable
// directory) tasks simply find whatever srun their PATH has.
void Agent::install_srun() {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec || self.empty()) return;
  const std::string dir = options_.work_dir + "/bin";
  std::filesystem::create_directories(dir, ec);
  std::string quoted = "'";
  for (char c : self) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string path = dir + "/srun", tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "#!/bin/sh\n# srun inside Zhisuan jobs: steps run in the job's own tasks "
           "(docs/job-scripts.md)\nexec "
        << quoted << " srun \"$@\"\n";
    if (!out) return;
  }
  if (::chmod(tmp.c_str(), 0755) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) return;
  bin_dir_ = dir;
}

void Agent::start_log_server() {
  http::ListenerOptions lo;
  lo.host = options_.address.empty() ? "127.0.0.1" : options_.address;
  lo.port = 0;
  lo.max_threads = 16;
  if (!options_.logs_listen.empty()) {
    const auto colon = options_.logs_listen.rfind(':');
    const std::string port =
        colon == std::string::npos ? "" : options_.logs_listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
      throw InputError("--logs-listen", "expected HOST:PORT, got '" + options_.logs_listen + "'");
    lo.host = options_.logs_listen.substr(0, colon);
    lo.port = std::stoi(port);
  }
  auto on_error = [](int status, const std::string& message, http::Response& res) {
    res.status = status;
    res.set_content(nlohmann::json{{"error",
                                    {{"code", status == 404 ? "not_found" : "bad_request"},
                                     {"message", message}}}}
                        .dump(),
                    "application/json");
  };
  if (options_.tls_cert.empty() != options_.tls_key.empty())
    throw InputError(options_.tls_cert.empty() ? "--tls-cert" : "--tls-key",
                     "--tls-cert and --tls-key go together");
  if (!options_.tls_cert.empty()) {
    try {
      lo.tls = tls::Context::server(options_.tls_cert, options_.tls_key);
    } catch (const std::runtime_error& e) {
      throw InputError("--tls-key", e.what());
    }
  }
  http::Router router;
  router.add("GET", "/api/v1/attempts/*/log",
             [this](http::Request& q, http::Response& r) { serve_log(q, r); });
  logs_server_ = std::make_unique<http::Listener>(
      lo,
      [router, on_error](http::Request& q, http::Response& r) { router.dispatch(q, r, on_error); },
      on_error);
  int port = 0;
  try {
    port = logs_server_->bind();
  } catch (const std::runtime_error& e) {
    throw InputError("--logs-listen", e.what());
  }
  // Advertise where the controller can reach it: a wildcard listen address means --address.
  std::string host = lo.host == "0.0.0.0" || lo.host == "::" ? options_.address : lo.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  logs_url_ = (lo.tls ? "https://" : "http://") + host + ":" + std::to_string(port);
  logs_key_ = issue_token().text;  // random; the controller learns it from our reports
}

void Agent::serve_log(http::Request& req, http::Response& res) {
  auto fail = [&res](int status, const std::string& code, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(),
                    "application/json");
  };
  // Only the controller knows the key (from this agent's reports): no one else reads logs here.
  const std::string* auth = req.header("Authorization");
  const std::string expected = "Bearer " + logs_key_;
  if (!auth || !same_hash(*auth, expected))
    return fail(401, "unauthenticated", "logs are served to the controller only");
  const std::string& id = req.matches[1];
  AttemptKey key;
  const auto dot = id.find('.');
  const char* end = id.data() + id.size();
  auto [p1, e1] = std::from_chars(id.data(), id.data() + std::min(dot, id.size()), key.job);
  bool ok = dot != std::string::npos && e1 == std::errc() && p1 == id.data() + dot;
  if (ok) {
    auto [p2, e2] = std::from_chars(id.data() + dot + 1, end, key.attempt);
    ok = e2 == std::errc() && p2 == end;
  }
  std::uint64_t offset = 0;
  if (const std::string* o = req.param("offset")) {
    auto [p3, e3] = std::from_chars(o->data(), o->data() + o->size(), offset);
    if (e3 != std::errc() || p3 != o->data() + o->size())
      return fail(400, "invalid", "offset: expected a non-negative integer");
  }
  const std::string stream = req.has_param("stream") ? req.param_value("stream") : "stdout";
  if (!ok) return fail(400, "invalid", "expected JOB.ATTEMPT, got '" + id + "'");
  if (stream != "stdout" && stream != "stderr")
    return fail(400, "invalid", "stream: expected stdout or stderr");
  std::string path;
  FileIdentity written;
  {
    std::lock_guard lk(mu_);
    auto it = logs_.find(key);
    if (it == logs_.end()) return fail(404, "not_found", "no attempt " + id + " ran here");
    path = stream == "stderr" ? it->second.err : it->second.out;
    written = stream == "stderr" ? it->second.err_id : it->second.out_id;
  }
  // Only the file the attempt opened (as its user): a path swapped since for a link to a file
  // the user may not read is refused, however the agent could open it.
  std::string data;
  if (std::string problem = read_file_slice(path, offset, kMaxLogSlice, data, &written);
      !problem.empty())
    res.set_header("X-ZS-Log-Error", json_fields::printable(path + ": " + problem, 512));
  res.set_header("X-ZS-Next-Offset", std::to_string(offset + data.size()));
  res.set_content(std::move(data), "text/plain; charset=utf-8");
}

AgentReport Agent::report() {
  std::lock_guard lk(mu_);
  AgentReport r;
  r.boot_id = boot_id_;
  r.address = options_.address;
  r.leaf = options_.leaf;
  r.spine = options_.spine;
  r.logs_url = logs_url_;
  r.logs_key = logs_key_;
  r.accel_type = inventory_.accel_type;
  r.accel_count = static_cast<int>(inventory_.devices.size());
  for (const auto& d : inventory_.devices) {
    if (d.healthy) continue;
    if (d.index >= 0 && d.index < 64) r.unhealthy |= std::uint64_t{1} << d.index;
    if (r.device_problems.size() < kMaxDeviceProblems)
      r.device_problems.push_back(bounded_text(std::to_string(d.index) + ": " + d.problem));
  }
  r.cpus = options_.cpus;
  r.mem_mib = options_.mem_mib;
  r.discovery = bounded_text(inventory_.source);
  for (const auto& [key, a] : attempts_) r.running.push_back(RunningAttempt{key, a.header.devices});
  for (const auto& [key, e] : unacked_) {
    if (r.exits.size() >= kMaxExitsPerReport) break;
    r.exits.push_back(e);
  }
  r.wait_ms = heartbeat_ms_;
  return r;
}

void Agent::sync_loop() {
  ApiClient client(options_.controller_url, 30'000);
  if (!token_.empty()) client.set_token(token_);
  const std::string path = "/api/v1/agents/" + options_.name + "/sync";
  std::int64_t backoff = 100;
  bool warned = false;
  while (!stopping_) {
    // A fake inventory is a file read: refresh it every sync, so a test's health change shows
    // within a heartbeat. Vendor tools cost more: every few seconds.
    if (fake_ || now_ms() - inventory_at_ms_ >= kInventoryRefreshMs) {
      Inventory fresh = discovery_->discover();
      std::lock_guard lk(mu_);
      inventory_ = std::move(fresh);
      inventory_at_ms_ = now_ms();
    }
    const std::int64_t sent = boot_clock_ms();
    try {
      AgentOrders orders = agent_orders_from_json(client.post(path, to_json(report())));
      lease_answered(sent, orders);  // before any launch: the shims read it
      if (warned)
        std::fprintf(stderr, "zs agent %s: controller reachable again\n", options_.name.c_str());
      warned = false;
      backoff = 100;
      obey(orders);
    } catch (const ApiError& e) {
      if (e.code() == "refused") lease_refused(sent);
      if (!warned)
        std::fprintf(stderr, "zs agent %s: %s (retrying)\n", options_.name.c_str(), e.what());
      warned = true;
      sleep_ms(backoff);
      // At most a second, and a quarter of the lease: a refused retry renews the lease, and
      // must come well before it runs out.
      std::int64_t cap = 1000;
      {
        std::lock_guard lk(mu_);
        if (lease_ms_ > 0) cap = std::clamp<std::int64_t>(lease_ms_ / 4, 20, 1000);
      }
      backoff = std::min<std::int64_t>(backoff * 2, cap);
    } catch (const InputError& e) {
      std::fprintf(stderr, "zs agent %s: bad orders from the controller: %s\n",
                   options_.name.c_str(), e.what());
      sleep_ms(backoff);
    }
  }
}

void Agent::obey(const AgentOrders& orders) {
  std::lock_guard lk(mu_);
  heartbeat_ms_ = orders.heartbeat_ms;
  kill_grace_ms_ = orders.kill_grace_ms;
  for (const auto& key : orders.acked) acknowledged(key);
  for (const auto& launch : orders.launches) {
    const AttemptKey& key = launch.key;
    if (attempts_.count(key)) continue;  // already running: launches are idempotent
    if (auto d = done_.find(key); d != done_.end()) {
      unacked_[key] = d->second;  // already finished: say so again
      continue;
    }
    start_attempt(launch);
  }
  const std::int64_t now = now_ms();
  for (const auto& kill : orders.kills) {
    auto it = attempts_.find(kill.key);
    if (it != attempts_.end()) {
      stop_attempt(it->second, "killed", now, kill.checkpoint);
    } else if (!done_.count(kill.key)) {
      NodeExit e{kill.key, 0, "killed before it started", now};
      remember_done(e);
      unacked_[kill.key] = e;
    }
  }
  if (!unacked_.empty()) exits_cv_.notify_all();
  // New walltimes or kill grace periods may fall before the supervisor's current sleep ends.
  if (!orders.launches.empty() || !orders.kills.empty()) wake_supervisor();
}

void Agent::lease_answered(std::int64_t sent, const AgentOrders& orders) {
  std::lock_guard lk(mu_);
  lease_ms_ = orders.lease_ms;
  lease_grace_ms_ = orders.kill_grace_ms;
  renew_lease(sent, orders.lease_ms, orders.kill_grace_ms);
}

void Agent::lease_refused(std::int64_t sent) {
  std::lock_guard lk(mu_);
  if (lease_ms_ > 0) renew_lease(sent, lease_ms_, lease_grace_ms_);
}

void Agent::renew_lease(std::int64_t sent, std::int64_t lease_ms, std::int64_t grace_ms) {
  std::string error;
  if (lease_ms <= 0) {  // a controller without leases: tasks are never stopped for one
    if (lease_deadline_ == 0) return;
    lease_deadline_ = lease_written_ = 0;
    lease_grace_written_ = -1;
    if (::unlink(lease_file_.c_str()) != 0 && errno != ENOENT)
      error = "cannot remove " + lease_file_ + ": " + std::strerror(errno);
  } else {
    const std::int64_t deadline = sent + lease_ms;
    if (deadline <= lease_deadline_) return;  // the answer to an older request
    lease_deadline_ = deadline;
    // The file (what the shims go by) may lag by a tenth of the lease: a write per answer
    // would be one per heartbeat for nothing. Lagging only makes the shims stop tasks earlier.
    if (lease_written_ > 0 && deadline - lease_written_ < lease_ms / 10 &&
        lease_grace_written_ == grace_ms)
      return;
    error = write_node_lease(lease_file_, NodeLease{kernel_boot_, deadline, grace_ms});
    if (error.empty()) {
      lease_written_ = deadline;
      lease_grace_written_ = grace_ms;
    }
  }
  if (!error.empty() && !lease_warned_)
    std::fprintf(stderr, "zs agent %s: %s\n", options_.name.c_str(), bounded_text(error).c_str());
  lease_warned_ = !error.empty();
}

// Sends exits as soon as they happen (the sync long-poll may be parked at the controller).
void Agent::exits_loop() {
  ApiClient client(options_.controller_url, 30'000);
  if (!token_.empty()) client.set_token(token_);
  const std::string path = "/api/v1/agents/" + options_.name + "/exits";
  std::unique_lock lk(mu_);
  while (!stopping_) {
    exits_cv_.wait_for(lk, std::chrono::milliseconds(500),
                       [&] { return stopping_ || !unacked_.empty(); });
    if (stopping_ || unacked_.empty()) continue;
    AgentReport r;
    for (const auto& [key, e] : unacked_) {
      if (r.exits.size() >= kMaxExitsPerReport) break;
      r.exits.push_back(e);
    }
    lk.unlock();
    bool ok = false;
    const std::int64_t sent = boot_clock_ms();
    try {
      AgentOrders orders = agent_orders_from_json(client.post(path, to_json(r)));
      lease_answered(sent, orders);
      lk.lock();
      for (const auto& key : orders.acked) acknowledged(key);
      ok = true;
    } catch (const ApiError& e) {
      if (e.code() == "refused") lease_refused(sent);
      lk.lock();
    } catch (const std::exception&) {
      lk.lock();
    }
    if (!ok) {
      lk.unlock();
      sleep_ms(200);  // the sync loop reports them too; this only makes them faster
      lk.lock();
    }
  }
}

}  // namespace zs
