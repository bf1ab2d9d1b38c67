// Group commit: batches queued by many threads are written together, in one store transaction
// (one fsync). No writer thread: the first waiter that finds the store idle becomes the leader,
// writes everything queued so far and wakes the others (the leader/follower pattern saves two
// thread hand-offs per request when the load is light). Batches become durable in the order
// they were queued, so a later state change never lands without an earlier one.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>

#include "store/store.h"

namespace zs {

class DurableWriter {
 public:
  explicit DurableWriter(Store& store) : store_(store) {}
  DurableWriter(const DurableWriter&) = delete;
  DurableWriter& operator=(const DurableWriter&) = delete;

  struct Outcome {
    bool done = false;
    std::exception_ptr error;
  };
  using Ticket = std::shared_ptr<Outcome>;

  // Queues a batch without waiting. Callers that queue while holding their own state lock get
  // their batches committed in the order their changes were made.
  Ticket enqueue(WriteBatch batch);
  // Blocks until the ticket's batch is durable. Throws StoreError when its transaction failed.
  void wait(const Ticket& ticket);
  void write(WriteBatch batch) { wait(enqueue(std::move(batch))); }
  // Runs `f(store)` with no commit in progress (e.g. a purge): waits for the current leader,
  // then holds the store; batches queued meanwhile are written right after.
  template <class F>
  void run_alone(F&& f) {
    std::unique_lock lk(mu_);
    done_cv_.wait(lk, [this] { return !busy_; });
    busy_ = true;
    lk.unlock();
    std::exception_ptr error;
    try {
      f(store_);
    } catch (...) {
      error = std::current_exception();
    }
    lk.lock();
    busy_ = false;
    done_cv_.notify_all();
    if (error) std::rethrow_exception(error);
  }

  std::uint64_t transactions() const;  // committed so far, for /metrics and benchmarks

 private:
  struct Pending {
    WriteBatch batch;
    Ticket outcome;
  };

  Store& store_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;  // a leader is writing
  std::uint64_t transactions_ = 0;
};

}  // namespace zs
