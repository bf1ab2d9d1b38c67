// zs up: a whole cluster on this machine — one controller and N agents on loopback, one work
// dir — until Ctrl-C. With --demo it submits the demo workload, prints the result and stops.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "api/api_error.h"
#include "api/http_client.h"
#include "api/token_file.h"
#include "cli/commands.h"
#include "cli/demo_workload.h"
#include "cli/signals.h"
#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/input_error.h"
#include "core/time.h"

namespace zs::cli {
namespace {

pid_t spawn_self(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // the cluster goes when `zs up` goes, however it ends
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    if (out) dup2(fileno(stdout), 2);
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

struct Flags {
  int nodes = 3;
  std::vector<std::string> accelerators{"8xMLU590"};
  int port = 7070;
  std::string work_dir;
  TimeMs heartbeat_ms = 1000;
  int nodes_per_leaf = 0;  // 0: every agent under the default leaf switch
  bool demo = false;
  bool keep = false;
};

}  // namespace

void register_up(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<Flags>();
  auto* cmd =
      app.add_subcommand("up", "Start a local cluster: a controller and agents on loopback");
  cmd->add_option("--nodes", f->nodes, "Agents to start")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--accelerators", f->accelerators,
                  "Devices per agent, e.g. 8xMLU590; several values alternate over the agents")
      ->capture_default_str();
  cmd->add_option("--port", f->port, "Controller port on 127.0.0.1")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--work-dir", f->work_dir, "State, logs and job files (default: a new temp dir)");
  cmd->add_option("--heartbeat-ms", f->heartbeat_ms, "Agent heartbeat")->capture_default_str();
  cmd->add_option("--nodes-per-leaf", f->nodes_per_leaf,
                  "Put the agents under leaf switches leaf1, leaf2, ... of this many nodes")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--demo", f->demo, "Submit the demo workload, print the result, stop");
  cmd->add_flag("--keep", f->keep, "With --demo: keep the cluster running afterwards");
  cmd->callback([f, &exit_code] {
    for (const auto& spec : f->accelerators) {
      auto x = spec.find('x');
      if (x == std::string::npos || x == 0)
        throw InputError("--accelerators", "expected COUNTxTYPE, got '" + spec + "'");
      Catalog::builtin().resolve(spec.substr(x + 1), "--accelerators");
    }
    if (f->work_dir.empty()) {
      char tmpl[] = "/tmp/zs-up-XXXXXX";
      if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a work dir in /tmp");
      f->work_dir = tmpl;
    }
    std::filesystem::create_directories(f->work_dir);
    f->work_dir = std::filesystem::absolute(f->work_dir).string();
    block_stop_signals();

    const std::string url = "http://127.0.0.1:" + std::to_string(f->port);
    std::vector<pid_t> children;
    auto stop_all = [&children] {
      for (pid_t p : children) kill(p, SIGTERM);
      for (pid_t p : children) waitpid(p, nullptr, 0);
    };
    // Every agent here connects from 127.0.0.1 (a sync and an exits connection each): the
    // per-address limit must leave the usual room for the CLI beside them.
    children.push_back(spawn_self(
        {"controller", "--listen", "127.0.0.1:" + std::to_string(f->port), "--state-dir",
         f->work_dir + "/controller", "--heartbeat-ms", std::to_string(f->heartbeat_ms),
         "--kill-grace-ms", "2000", "--max-conns-per-peer", std::to_string(512 + 4 * f->nodes)},
        f->work_dir + "/controller.log"));
    ApiClient client(url, 5000);
    const std::string token_path = f->work_dir + "/controller/admin.token";
    bool up = false;
    for (int i = 0; i < 600 && !up; ++i) {
      try {
        client.get("/api/v1/health");
        up = true;
      } catch (const ApiError&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      int status = 0;
      if (waitpid(children.front(), &status, WNOHANG) == children.front()) break;
    }
    if (!up) {
      stop_all();
      std::fprintf(stderr,
                   "zs up: the controller did not start (port %d in use?); see %s/controller.log\n",
                   f->port, f->work_dir.c_str());
      exit_code = 1;
      return;
    }
    // The controller made its first admin (us) before it listened; agents get node credentials.
    client.set_token(read_token_file(token_path, "zs up"));
    const std::string env_path = f->work_dir + "/client.env";
    {
      std::FILE* env = std::fopen(env_path.c_str(), "w");
      if (!env) throw std::runtime_error("cannot write " + env_path);
      std::fprintf(env, "export ZS_CONTROLLER=%s\nexport ZS_TOKEN=\"$(cat %s)\"\n", url.c_str(),
                   token_path.c_str());
      std::fclose(env);
    }
    for (int i = 0; i < f->nodes; ++i) {
      const std::string name = "node" + std::to_string(i + 1);
      const std::string& accel = f->accelerators[i % f->accelerators.size()];
      // The cluster's jobs end with it: Ctrl-C must not leave tasks running.
      std::vector<std::string> args{"agent",
                                    "--controller",
                                    url,
                                    "--name",
                                    name,
                                    "--accelerators",
                                    accel,
                                    "--work-dir",
                                    f->work_dir + "/" + name,
                                    "--kill-tasks-on-exit"};
      if (f->nodes_per_leaf > 0)
        args.insert(args.end(), {"--leaf", "leaf" + std::to_string(i / f->nodes_per_leaf + 1)});
      const std::string node_token = f->work_dir + "/" + name + ".token";
      write_token_file(node_token,
                       client.post("/api/v1/tokens", nlohmann::json{{"node", name}})
                           .at("token")
                           .at("token")
                           .get<std::string>(),
                       "zs up");
      args.insert(args.end(), {"--token-file", node_token});
      children.push_back(spawn_self(args, f->work_dir + "/" + name + ".log"));
    }
    int ready = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ready < f->nodes && std::chrono::steady_clock::now() < deadline) {
      ready = 0;
      const nlohmann::json nodes = client.get("/api/v1/nodes");
      for (const auto& n : nodes.at("nodes")) ready += n.value("state", "") == "up";
      if (ready < f->nodes) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("zs up: controller %s and %d/%d agents ready (work dir %s)\n", url.c_str(), ready,
                f->nodes, f->work_dir.c_str());
    if (ready < f->nodes) {
      stop_all();
      std::fprintf(stderr, "zs up: not every agent registered; see the logs in %s\n",
                   f->work_dir.c_str());
      exit_code = 1;
      return;
    }
    std::printf(
        "  . %s   # sets ZS_CONTROLLER and ZS_TOKEN (you are its cluster admin)\n"
        "  zs submit --accel %s:1 -- nvidia-smi-or-your-command\n"
        "  zs queue; zs nodes; zs logs <id> -f\n",
        env_path.c_str(),
        f->accelerators.front().substr(f->accelerators.front().find('x') + 1).c_str());
    std::fflush(stdout);
    if (f->demo) {
      const std::string& first = f->accelerators.front();
      DemoCluster demo;
      demo.nodes = f->nodes;
      demo.accels_per_node = std::stoi(first.substr(0, first.find('x')));
      demo.accel_type = first.substr(first.find('x') + 1);
      demo.work_dir = f->work_dir + "/demo";
      exit_code = run_demo(client, demo);
      std::fflush(stdout);
      if (!f->keep) {
        stop_all();
        return;
      }
    }
    std::printf("Ctrl-C stops the cluster.\n");
    std::fflush(stdout);
    wait_for_stop_signal();
    std::printf("\nzs up: stopping\n");
    stop_all();
  });
}

}  // namespace zs::cli
