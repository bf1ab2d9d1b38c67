#include "cli/demo_workload.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/http_client.h"
#include "api/json_codec.h"
#include "cli/table.h"

namespace zs::cli {
namespace {

// Each rank contributes rank+1; rank 0 sums over TCP and sends the total back to every rank.
constexpr const char* kAllReduce = R"PY(
import os, socket, sys, time
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
devices = next((v for k, v in os.environ.items() if k.endswith("VISIBLE_DEVICES")), "-")
value = rank + 1
if rank == 0:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port)); srv.listen(world); srv.settimeout(60)
    peers, total = [], value
    for _ in range(world - 1):
        c, _ = srv.accept(); total += int(c.recv(64).decode()); peers.append(c)
    for c in peers:
        c.sendall(str(total).encode()); c.close()
else:
    deadline = time.time() + 60
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=5); break
        except OSError:
            if time.time() > deadline: raise
            time.sleep(0.05)
    s.sendall(str(value).encode()); total = int(s.recv(64).decode())
expected = world * (world + 1) // 2
print(f"rank {rank}/{world} node {os.environ['NODE_RANK']} ({os.environ['ZS_NODE']}) devices {devices}: "
      f"allreduce sum = {total} (expected {expected}) via {addr}:{port}", flush=True)
sys.exit(0 if total == expected else 1)
)PY";

JobSpec base_spec(const DemoCluster& c, const std::string& name) {
  JobSpec s;
  s.name = name;
  s.work_dir = c.work_dir;
  s.walltime = 5 * 60 * 1000;
  s.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  return s;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int run_demo(ApiClient& client, const DemoCluster& c) {
  std::filesystem::create_directories(c.work_dir);
  const std::string script = c.work_dir + "/allreduce.py";
  std::ofstream(script) << kAllReduce;

  const int gang_nodes = std::min(c.nodes, 3);
  std::vector<JobSpec> jobs;
  JobSpec gang = base_spec(c, "allreduce-gang");
  gang.argv = {"python3", script};
  gang.nodes = gang_nodes;
  gang.accel_type = c.accel_type;
  gang.accel_count = gang_nodes * c.accels_per_node;
  gang.accel_per_node = c.accels_per_node;
  jobs.push_back(gang);

  JobSpec array = base_spec(c, "array-task");
  array.script =
      "#!/bin/sh\necho \"array task $ZS_ARRAY_TASK_ID on $ZS_NODE: "
      "$(env | grep VISIBLE_DEVICES)\"\nsleep 1\n";
  array.accel_type = c.accel_type;
  array.accel_count = 1;
  array.array = "0-7";
  array.stdout_path = "demo-array-%a.out";
  jobs.push_back(array);

  JobSpec cpu = base_spec(c, "cpu-only");
  cpu.argv = {"sh", "-c", "echo cpu-only job on $ZS_NODE with $SLURM_NTASKS task"};
  jobs.push_back(cpu);

  std::printf("demo: submitting a %d-node gang (%d x %s), an 8-task array, a CPU-only job\n",
              gang_nodes, gang.accel_count, c.accel_type.c_str());
  nlohmann::json batch{{"jobs", nlohmann::json::array()}};
  for (const auto& j : jobs) batch["jobs"].push_back(to_json(j));
  auto ids = client.post("/api/v1/jobs", batch).at("ids").get<std::vector<JobId>>();
  const JobId gang_id = ids.front();

  JobSpec after = base_spec(c, "after-gang");
  after.argv = {"sh", "-c", "echo the gang finished, so this ran"};
  after.after_ok = {gang_id};
  ids.push_back(client.post("/api/v1/jobs", to_json(after)).at("id").get<JobId>());

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  std::vector<JobRecord> records;
  for (;;) {
    records.clear();
    bool all_done = true;
    for (JobId id : ids) {
      records.push_back(
          job_record_from_api_json(client.get("/api/v1/jobs/" + std::to_string(id)).at("job")));
      all_done = all_done && is_terminal(records.back().state);
    }
    if (all_done || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  Table t({"JOBID", "NAME", "STATE", "NODES", "RUNTIME"});
  bool ok = true;
  for (JobId id = ids.front(); id <= ids.back(); ++id) {
    JobRecord r =
        job_record_from_api_json(client.get("/api/v1/jobs/" + std::to_string(id)).at("job"));
    std::string nodes;
    for (const auto& a : r.assignment) nodes += (nodes.empty() ? "" : ",") + a.node;
    std::string label = r.array_task_id >= 0
                            ? std::to_string(r.array_job_id) + "_" + std::to_string(r.array_task_id)
                            : std::to_string(r.id);
    t.add({label, r.spec.name, std::string(to_string(r.state)), nodes,
           r.start_ms && r.end_ms ? elapsed(r.end_ms - r.start_ms) : "-"});
    ok = ok && r.state == JobState::completed;
  }
  std::printf("\n");
  t.print();
  std::printf("\ngang output (%s/zs-%llu.out):\n%s", c.work_dir.c_str(),
              static_cast<unsigned long long>(gang_id),
              read_text(c.work_dir + "/zs-" + std::to_string(gang_id) + ".out").c_str());
  std::printf("array task 0 output: %s", read_text(c.work_dir + "/demo-array-0.out").c_str());
  std::printf("dependent job output: %s",
              read_text(c.work_dir + "/zs-" + std::to_string(ids.back()) + ".out").c_str());
  std::printf("\ndemo %s\n",
              ok ? "succeeded: every job completed" : "FAILED: see the states above");
  return ok ? 0 : 1;
}

}  // namespace zs::cli
