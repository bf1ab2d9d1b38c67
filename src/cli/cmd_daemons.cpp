// zs controller / zs agent: the two daemons, in the foreground (systemd or `zs up` runs them).
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/agent.h"
#include "api/http_client.h"
#include "api/http_server.h"
#include "api/tls_socket.h"
#include "api/token_file.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "controller/controller.h"
#include "core/input_error.h"
#include "sim/tenants_file.h"
#include "store/store.h"

namespace zs::cli {
namespace {

std::pair<std::string, int> host_port(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw InputError("--listen", "expected HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw InputError("--listen", "bad port in '" + listen + "'");
  return {host.empty() ? "127.0.0.1" : host, port};
}

// The Unix account this process runs as (the first admin is bound to it).
std::string unix_user_name() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name && *pw->pw_name)
    return pw->pw_name;
  if (::geteuid() == 0) return "root";
  throw InputError("controller", "the user running the controller (uid " +
                                     std::to_string(::geteuid()) + ") has no name in passwd");
}

// Every connection is a descriptor: take all the process may have (the soft limit is often
// 1024, the hard one much more), as servers that expect thousands of clients do.
void raise_descriptor_limit() {
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
}

}  // namespace

void register_controller(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string listen = "127.0.0.1:7070", state_dir, policy = "easy";
    TimeMs heartbeat_ms = 1000, node_lost_ms = 0, node_lease_ms = 0, kill_grace_ms = 10'000;
    int threads = 4096, agent_threads = 64;
    int max_conns = 0, max_conns_per_peer = 512, request_timeout_s = 10;
    double max_request_mib = 48;
    double keep_finished_s = 86'400;
    double forecast_interval_s = 5;
    bool keep_unfit_jobs = false;
    bool insecure_no_auth = false;
    bool reissue_admin_token = false;
    std::string tls_cert, tls_key, agents_ca_file, tenants;
    bool kill_grace_given = false;
    std::string las_thresholds;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("controller", "Run the controller: state, API and scheduler");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to serve the API on")
      ->capture_default_str();
  cmd->add_option("--state-dir", flags->state_dir,
                  "Directory of the SQLite state (created if missing)")
      ->required();
  cmd->add_option("--policy", flags->policy,
                  "Scheduling policy (fifo, easy, las, hetero, easy-pred, spf, gittins; srtf in zs "
                  "sim only)")
      ->capture_default_str();
  cmd->add_option("--heartbeat-ms", flags->heartbeat_ms, "Agents sync at least this often")
      ->capture_default_str()
      ->check(CLI::Range(20, 3'600'000));
  cmd->add_option("--node-lost-ms", flags->node_lost_ms,
                  "A node silent this long is lost (0 = 1.5 x heartbeat)")
      ->check(CLI::Range(0, 36'000'000));
  cmd->add_option("--node-lease-ms", flags->node_lease_ms,
                  "A lost node's running jobs are given up (requeued) this long plus the kill "
                  "grace after it fell silent; its agent stops them by then (0 = the larger of "
                  "10 s and 2 x node-lost)")
      ->check(CLI::Range(0, 36'000'000));
  cmd->add_option("--kill-grace-ms", flags->kill_grace_ms,
                  "SIGTERM (or a preempted job's --signal) to SIGKILL when stopping tasks "
                  "(default: the tenants file's preemption.grace, else 10000)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000))
      ->each([flags](const std::string&) { flags->kill_grace_given = true; });
  cmd->add_option("--las-thresholds", flags->las_thresholds,
                  "las/srtf queue thresholds in accelerator-seconds of attained service "
                  "(default 3600,36000; docs/policies.md)");
  cmd->add_option("--tenants", flags->tenants,
                  "Tenants file (docs/tenants.md): guaranteed quotas per accelerator type, "
                  "borrowing and reclaim, fair share, prices, preemption grace and minimum run");
  cmd->add_option("--threads", flags->threads,
                  "HTTP threads for requests, started as needed (a connection holds one only "
                  "while a whole request is served)")
      ->capture_default_str()
      ->check(CLI::Range(8, 65536));
  cmd->add_option("--agent-threads", flags->agent_threads,
                  "HTTP threads kept for the agents' routes, which other clients cannot take")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-conns", flags->max_conns,
                  "Open HTTP connections in all (0 = what the descriptor limit allows)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000'000));
  cmd->add_option("--max-conns-per-peer", flags->max_conns_per_peer,
                  "Open HTTP connections from one client address; more are refused with 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--request-timeout-s", flags->request_timeout_s,
                  "A request must arrive whole within this (plus 1 s per MiB of body), else 408")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--max-request-mib", flags->max_request_mib, "Largest accepted request body")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 4096.0));
  cmd->add_option("--keep-finished-s", flags->keep_finished_s,
                  "Forget finished jobs this long after they end (0 = never), like MinJobAge")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0 * 365 * 86'400));
  cmd->add_option("--forecast-interval-s", flags->forecast_interval_s,
                  "Forecast the waiting jobs' start times at most this often (zs queue --start; "
                  "0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86'400.0));
  cmd->add_flag("--keep-unfit-jobs", flags->keep_unfit_jobs,
                "Accept jobs that can never fit the nodes known so far (nodes are to join)");
  cmd->add_flag("--reissue-admin-token", flags->reissue_admin_token,
                "Write a new token for the cluster admin named after the Unix user running the "
                "controller to STATE_DIR/admin.token (for an admin who lost theirs), then serve");
  cmd->add_flag("--insecure-no-auth", flags->insecure_no_auth,
                "No authentication: whoever reaches the port acts as a cluster admin and any "
                "agent speaks for any node. For experiments on a private machine only");
  cmd->add_option("--tls-cert", flags->tls_cert,
                  "Serve the API over HTTPS only, with this certificate chain (PEM, the "
                  "controller's certificate first; docs/security-tls.md)");
  cmd->add_option("--tls-key", flags->tls_key, "The private key of --tls-cert (PEM, mode 0600)");
  cmd->add_option("--agents-ca-file", flags->agents_ca_file,
                  "CA certificates (PEM) to verify agents' https:// log servers with (default "
                  "$ZS_CA_FILE, else the system's CA store)");
  cmd->callback([flags, &exit_code] {
    block_stop_signals();
    auto [host, port] = host_port(flags->listen);
    if (flags->tls_cert.empty() != flags->tls_key.empty())
      throw InputError(flags->tls_cert.empty() ? "--tls-cert" : "--tls-key",
                       "--tls-cert and --tls-key go together");
    std::shared_ptr<tls::Context> tls;
    if (!flags->tls_cert.empty()) {
      try {
        tls = tls::Context::server(flags->tls_cert, flags->tls_key);
      } catch (const std::runtime_error& e) {
        throw InputError("--tls-key", e.what());
      }
    }
    if (!flags->agents_ca_file.empty()) tls::set_client_ca_file(flags->agents_ca_file);
    std::error_code ec;
    std::filesystem::create_directories(flags->state_dir, ec);
    if (ec)
      throw InputError("--state-dir", "cannot create " + flags->state_dir + ": " + ec.message());
    // The state holds every job's script and environment: the owner's alone.
    if (::chmod(flags->state_dir.c_str(), 0700) != 0)
      throw InputError("--state-dir", "cannot make " + flags->state_dir +
                                          " private (chmod 700): " + std::strerror(errno));
    ControllerOptions options;
    options.policy = flags->policy;
    options.heartbeat_ms = flags->heartbeat_ms;
    options.node_lost_ms = flags->node_lost_ms;
    options.node_lease_ms = flags->node_lease_ms;
    if (!flags->tenants.empty()) {
      // Checked against the cluster as nodes join (the controller reports any shortfall).
      auto shares =
          std::make_shared<TenantShares>(load_tenants_file(flags->tenants, Catalog::builtin()));
      options.shares = std::move(shares);
    }
    // Else the shares' grace (the file's, or those applied before), set by the controller.
    options.kill_grace_ms = flags->kill_grace_ms;
    options.kill_grace_given = flags->kill_grace_given;
    if (!flags->las_thresholds.empty())
      options.sched.las_thresholds_accel_s =
          parse_las_thresholds(flags->las_thresholds, "--las-thresholds");
    options.keep_finished_ms = static_cast<TimeMs>(flags->keep_finished_s * 1000);
    options.keep_unfit_jobs = flags->keep_unfit_jobs;
    options.forecast_interval_ms = static_cast<TimeMs>(flags->forecast_interval_s * 1000);
    auto store = open_sqlite_store(flags->state_dir + "/state.db");
    const std::string described = store->describe();
    Controller controller(options, std::move(store));
    const std::string me = unix_user_name();
    if (!flags->insecure_no_auth) {
      // A new cluster: its first administrator is whoever started the controller.
      const std::string token_path = flags->state_dir + "/admin.token";
      auto keep = [&](const std::string& token) {
        write_token_file(token_path, token, "--state-dir");
      };
      if (flags->reissue_admin_token && !controller.identities().users().empty()) {
        controller.identities().reissue_admin_token(me, keep);
        std::fprintf(stderr,
                     "zs controller: a new token for cluster admin '%s' is in %s (its other "
                     "tokens stay valid: revoke them with zs admin token revoke)\n",
                     me.c_str(), token_path.c_str());
      } else if (controller.identities().bootstrap_admin(me, me, keep))
        std::fprintf(stderr,
                     "zs controller: created cluster admin '%s' (runs jobs as Unix user %s) in "
                     "tenant 'default'; its token is in %s (mode 0600): export "
                     "ZS_TOKEN=$(cat %s), or zs login --token-file %s\n",
                     me.c_str(), me.c_str(), token_path.c_str(), token_path.c_str(),
                     token_path.c_str());
    } else {
      std::fprintf(stderr,
                   "zs controller: WARNING: --insecure-no-auth: NO AUTHENTICATION. Anyone who "
                   "can reach %s:%d is a cluster admin (as Unix user %s), and any process can "
                   "pose as any node. Use this on a private machine only.\n",
                   host.c_str(), port, me.c_str());
    }
    HttpServerOptions http;
    http.require_auth = !flags->insecure_no_auth;
    http.insecure_user = me;
    http.host = host;
    http.port = port;
    http.threads = flags->threads;
    http.agent_threads = flags->agent_threads;
    http.max_connections = flags->max_conns;
    http.max_connections_per_peer = flags->max_conns_per_peer;
    http.request_timeout_s = flags->request_timeout_s;
    http.tls = tls;
    raise_descriptor_limit();
    http.max_body_bytes = static_cast<std::size_t>(flags->max_request_mib * 1024 * 1024);
    HttpServer server(controller, &controller.identities(), http);
    int bound = 0;
    try {
      bound = server.bind();
    } catch (const std::runtime_error& e) {
      throw InputError("--listen", e.what());
    }
    controller.start();
    std::fprintf(stderr, "zs controller: listening on %s://%s:%d, state in %s, policy %s%s\n",
                 tls ? "https" : "http", host.c_str(), bound, described.c_str(),
                 flags->policy.c_str(),
                 flags->insecure_no_auth ? ", NO AUTHENTICATION" : ", tokens required");
    std::thread stopper([&server] {
      wait_for_stop_signal();
      server.stop();
    });
    server.serve();
    release_stop_waiters();
    stopper.join();
    controller.stop();
    exit_code = 0;
  });
}

void register_agent(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AgentOptions>();
  auto* cmd = app.add_subcommand("agent", "Run a node agent: report devices, run tasks");
  cmd->add_option("--controller", options->controller_url,
                  "Controller URL (default $ZS_CONTROLLER or http://127.0.0.1:7070)");
  cmd->add_option("--name", options->name, "This node's name")->required();
  cmd->add_option("--work-dir", options->work_dir,
                  "Directory for job scripts and attempt records (created if missing, mode 0700; "
                  "one agent at a time)")
      ->required();
  cmd->add_option("--accelerators", options->accelerators,
                  "Declared (fake) devices, e.g. 8xMLU590; implies --discovery fake");
  cmd->add_option("--discovery", options->discovery, "fake, nvidia, cambricon, ascend or auto");
  cmd->add_option("--address", options->address,
                  "Address other nodes reach this one at (MASTER_ADDR)")
      ->capture_default_str();
  cmd->add_option("--cpus", options->cpus,
                  "CPU cores to offer (default: 16 per fake device, else all)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--mem-mib", options->mem_mib,
                  "Memory to offer in MiB (default: 128 GiB per fake device, else all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  cmd->add_flag("!--no-cgroups", options->cgroups,
                "No cgroups: no CPU/memory limits, tasks tracked by process group only");
  cmd->add_flag("--kill-tasks-on-exit", options->kill_tasks_on_exit,
                "Kill every task when the agent stops (default: tasks run on and the next agent "
                "on this work directory re-adopts them)");
  cmd->add_option("--leaf", options->leaf,
                  "Leaf switch this node hangs off: multi-node gangs are packed under one");
  cmd->add_option("--spine", options->spine, "Spine switch above that leaf");
  cmd->add_option("--token-file", options->token_file,
                  "File holding this node's credential (zs admin node-token create NAME); must "
                  "not be readable by other users");
  cmd->add_flag("--single-user", options->single_user,
                "For an agent that is not root: run every job as this agent's Unix user (by "
                "default it refuses the jobs of other users; as root, jobs run as their users)");
  cmd->add_option(
      "--logs-listen", options->logs_listen,
      "HOST:PORT to serve job logs to the controller on (default: --address, any port)");
  cmd->add_option("--tls-cert", options->tls_cert,
                  "Serve job logs over HTTPS only, with this certificate chain (PEM; its names "
                  "must include --address)");
  cmd->add_option("--tls-key", options->tls_key, "The private key of --tls-cert (PEM, mode 0600)");
  auto ca_file = std::make_shared<std::string>();
  cmd->add_option("--ca-file", *ca_file,
                  "CA certificates (PEM) to verify an https:// controller with (default "
                  "$ZS_CA_FILE, else the system's CA store)");
  cmd->callback([options, ca_file, &exit_code] {
    block_stop_signals();
    if (!ca_file->empty()) tls::set_client_ca_file(*ca_file);
    Agent::block_child_signal();  // before the stopper thread exists
    options->controller_url = default_controller_url(options->controller_url);
    Agent agent(*options);
    std::fprintf(stderr, "zs agent: %s, controller %s\n", agent.describe().c_str(),
                 options->controller_url.c_str());
    std::thread stopper([&agent] {
      wait_for_stop_signal();
      agent.stop();
    });
    agent.run();
    release_stop_waiters();
    stopper.join();
    exit_code = 0;
  });
}

}  // namespace zs::cli
