// Controller: the agents' long poll. A sync with nothing to answer is parked on its node (an
// OrderWaiter) instead of holding an HTTP thread; it is woken when launches or kills for the
// node arrive, and collects them with agent_orders(). Issue 10: thousands of hostile
// connections must not be able to take the threads that agent syncs need.
#include "controller/controller.h"

namespace zs {

void Controller::take_orders(LiveNode& node, AgentOrders& orders) {
  orders.launches.swap(node.launches);
  orders.kills.swap(node.kills);
  orders.heartbeat_ms = options_.heartbeat_ms;
  orders.kill_grace_ms = options_.kill_grace_ms;
  orders.lease_ms = node_lease_ms();
}

SyncAnswer Controller::answer_sync(LiveNode& node, AgentOrders orders, TimeMs hold_ms,
                                   std::function<void()> wake) {
  SyncAnswer answer;
  if (wake && orders.acked.empty() && hold_ms > 0 && !stopping_ && node.launches.empty() &&
      node.kills.empty()) {
    answer.wait = node.waiter.park(std::move(wake));
    answer.wait_ms = hold_ms;
    return answer;
  }
  node.waiter.retire();
  take_orders(node, orders);
  answer.orders = std::move(orders);
  return answer;
}

AgentOrders Controller::agent_orders(const std::string& name, std::uint64_t wait) {
  std::lock_guard lk(mu_);
  AgentOrders orders;
  orders.heartbeat_ms = options_.heartbeat_ms;
  orders.kill_grace_ms = options_.kill_grace_ms;
  orders.lease_ms = node_lease_ms();
  auto it = nodes_.find(name);
  // A sync that a newer one replaced gets nothing: the orders are the newer one's to take.
  if (it != nodes_.end() && it->second.waiter.take(wait)) take_orders(it->second, orders);
  return orders;
}

}  // namespace zs
