// zs nodes [drain|resume NAME]: the nodes as the controller sees them (like sinfo -N).
#include <cstdio>

#include "api/http_client.h"
#include "cli/client_auth.h"
#include "cli/commands.h"
#include "cli/table.h"

namespace zs::cli {

void register_nodes(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string controller, reason, node;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("nodes", "List nodes, or drain/resume one");
  cmd->add_option("--controller", f->controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_flag("--json", f->json, "JSON for scripts");
  cmd->callback([cmd, f, &exit_code] {
    if (!cmd->get_subcommands().empty()) return;  // drain/resume ran instead
    ApiClient client = controller_client(f->controller);
    nlohmann::json answer = client.get("/api/v1/nodes");
    if (f->json) {
      std::printf("%s\n", answer.dump(2).c_str());
      exit_code = 0;
      return;
    }
    Table t({"NODE", "STATE", "ACCEL", "ALLOC", "CPUS", "MEM_GIB", "JOBS", "SWITCH", "REASON"});
    for (const auto& n : answer.at("nodes")) {
      const int count = n.value("accel_count", 0);
      const std::string type = n.value("accel_type", "");
      std::string reason = n.value("reason", "");
      std::string state = n.value("state", "");
      // A drained node that stopped answering stays drained: say both (Slurm's DOWN+DRAIN).
      const std::string drain = n.value("drain_reason", "");
      if (state == "down" && !drain.empty()) {
        state = "down+drain";
        reason += (reason.empty() ? "drained: " : "; drained: ") + drain;
      }
      for (const auto& p : n.value("device_problems", std::vector<std::string>{}))
        reason += (reason.empty() ? "device " : "; device ") + p;
      char cpus[32], mem[32];
      std::snprintf(cpus, sizeof cpus, "%g/%g", n.value("cpus_used", 0.0), n.value("cpus", 0.0));
      std::snprintf(mem, sizeof mem, "%.0f", n.value("mem_mib", 0.0) / 1024.0);
      // spine/leaf as the agent reported them; "-" for the default switches
      const std::string leaf = n.value("leaf", ""), spine = n.value("spine", "");
      const std::string where = spine.empty() && leaf.empty() ? "-"
                                                              : (spine.empty() ? "" : spine + "/") +
                                                                    (leaf.empty() ? "-" : leaf);
      t.add({n.value("name", ""), state, count ? std::to_string(count) + "x" + type : "-",
             std::to_string(n.value("allocated", 0)) + "/" + std::to_string(count), cpus, mem,
             std::to_string(n.value("jobs", 0)), where, reason});
    }
    t.print();
    exit_code = 0;
  });
  for (bool drain : {true, false}) {
    auto* sub = cmd->add_subcommand(drain ? "drain" : "resume",
                                    drain ? "Stop giving a node new work (running jobs continue)"
                                          : "Give a drained node work again");
    sub->add_option("node", f->node, "Node name")->required();
    if (drain) sub->add_option("--reason", f->reason, "Why (shown by zs nodes)");
    sub->add_option("--controller", f->controller, "Controller URL");
    add_token_file_option(sub);
    sub->callback([f, drain, &exit_code] {
      ApiClient client = controller_client(f->controller);
      nlohmann::json body = nlohmann::json::object();
      if (!f->reason.empty()) body["reason"] = f->reason;
      auto answer = client.post("/api/v1/nodes/" + f->node + (drain ? "/drain" : "/resume"), body);
      std::printf("%s %s\n", terminal_safe(f->node).c_str(),
                  terminal_safe(answer.at("node").value("state", "")).c_str());
      exit_code = 0;
    });
  }
}

}  // namespace zs::cli
