// Reclaims in progress (docs/tenants.md): the devices a reclaim freed are held for the job that
// reclaimed them until it starts. They are kept in the store (setting "reclaim_holds", JSON) so
// that a controller restarted in between still gives them to that job, and every start is
// checked against them, as the simulator's decision checker does (kHeld).
#include <nlohmann/json.hpp>

#include <cstdio>

#include "controller/controller.h"

namespace zs {

namespace {

constexpr const char* kHoldsKey = "reclaim_holds";
constexpr std::size_t kMaxStoredHolds = 100'000;

}  // namespace

void Controller::store_reclaim_holds() {
  nlohmann::json list = nlohmann::json::array();
  for (const ReclaimHold& h : reclaim_holds_) {
    nlohmann::json devices = nlohmann::json::array();
    for (const NodeAssignment& a : h.devices)
      devices.push_back({{"node", a.node}, {"devices", a.devices}});
    list.push_back({{"job", h.for_job}, {"type", catalog_.name(h.type)}, {"devices", devices}});
  }
  std::string text = list.dump();
  if (text == stored_reclaim_holds_) return;
  stored_reclaim_holds_ = text;
  unwritten_.settings.emplace_back(kHoldsKey, std::move(text));
}

// Only holds of jobs that still wait, on types and devices that exist, are kept: anything else
// (a job cancelled meanwhile, a damaged entry) is dropped, and the job competes like any other.
void Controller::load_reclaim_holds() {
  auto text = store_->load_setting(kHoldsKey);
  if (!text) return;
  stored_reclaim_holds_ = *text;
  const nlohmann::json list = nlohmann::json::parse(*text, nullptr, false);
  if (!list.is_array()) {
    std::fprintf(stderr, "zs controller: the stored reclaim holds are unreadable: dropped\n");
    return;
  }
  for (const auto& entry : list) {
    if (reclaim_holds_.size() >= kMaxStoredHolds) break;
    try {
      ReclaimHold h;
      h.for_job = entry.at("job").get<JobId>();
      auto type = catalog_.find(entry.at("type").get<std::string>());
      if (!type || !pending_.count(h.for_job)) continue;
      h.type = *type;
      bool valid = true;
      for (const auto& part : entry.at("devices")) {
        NodeAssignment a;
        a.node = part.at("node").get<std::string>();
        a.devices = part.at("devices").get<std::vector<int>>();
        for (int d : a.devices) valid = valid && d >= 0 && d < 64;
        valid = valid && !a.node.empty() && a.node.size() <= 256;
        h.devices.push_back(std::move(a));
      }
      if (valid) reclaim_holds_.push_back(std::move(h));
    } catch (const nlohmann::json::exception&) {
      // one damaged entry: dropped
    }
  }
}

std::string Controller::reclaim_hold_problem(JobId job,
                                             const std::vector<NodeAssignment>& assignment) const {
  for (const ReclaimHold& h : reclaim_holds_) {
    if (h.for_job == job) continue;
    for (const NodeAssignment& held : h.devices)
      for (const NodeAssignment& a : assignment) {
        if (a.node != held.node) continue;
        for (int d : a.devices)
          if (std::find(held.devices.begin(), held.devices.end(), d) != held.devices.end())
            return "device " + std::to_string(d) + " of " + a.node + " is held for job " +
                   std::to_string(h.for_job) + " (a reclaim)";
      }
  }
  return "";
}

}  // namespace zs
