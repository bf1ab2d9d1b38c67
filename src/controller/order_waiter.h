// The parked sync of one node — at most one: a newer sync of the node replaces it — and how to
// wake it when orders arrive. It holds no thread: `wake` only schedules the answer (see
// ClusterApi::begin_agent_sync). Guarded by the controller's mutex.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>

namespace zs {

class OrderWaiter {
 public:
  // Parks a sync; returns its id. The one it replaces is retired.
  std::uint64_t park(std::function<void()> wake) {
    retire();
    parked_ = next_++;
    wake_ = std::move(wake);
    return parked_;
  }
  // Orders arrived (or the controller stops): the parked sync is to collect them now.
  void notify_all() {
    if (auto w = std::exchange(wake_, nullptr)) w();
  }
  // A newer sync of the node is answered: the parked one (a dead agent's, or a restarted one's
  // old request) is woken and then finds nothing to take, so no orders go to a stale request.
  void retire() {
    notify_all();
    parked_ = 0;
  }
  // True if `id` is the parked sync, which is then over (it takes the node's orders).
  bool take(std::uint64_t id) {
    if (id == 0 || id != parked_) return false;
    parked_ = 0;
    wake_ = nullptr;
    return true;
  }

 private:
  std::uint64_t parked_ = 0;
  std::uint64_t next_ = 1;
  std::function<void()> wake_;
};

}  // namespace zs
