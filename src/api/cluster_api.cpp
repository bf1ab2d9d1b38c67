#include "api/cluster_api.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace zs {

AgentOrders ClusterApi::agent_sync(const std::string& node, const AgentReport& report) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  auto w = std::make_shared<Wait>();
  SyncAnswer answer = begin_agent_sync(node, report, [w] {
    std::lock_guard lock(w->mu);
    w->woken = true;
    w->cv.notify_all();
  });
  if (answer.orders) return std::move(*answer.orders);
  {
    std::unique_lock lock(w->mu);
    w->cv.wait_for(lock, std::chrono::milliseconds(answer.wait_ms), [&] { return w->woken; });
  }
  return agent_orders(node, answer.wait);
}

}  // namespace zs
