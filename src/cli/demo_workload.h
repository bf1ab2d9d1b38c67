// The workload `zs up --demo` submits: a multi-node gang whose ranks all-reduce over TCP using
// MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE, an array of single-device tasks, a CPU-only job and
// a job that waits for the gang (afterok). Returns 0 when every job completed as expected.
#pragma once
#include <string>

namespace zs {
class ApiClient;
}

namespace zs::cli {

struct DemoCluster {
  int nodes = 0;
  int accels_per_node = 0;
  std::string accel_type;
  std::string work_dir;  // where the demo's scripts and output files go
};

int run_demo(ApiClient& client, const DemoCluster& cluster);

}  // namespace zs::cli
