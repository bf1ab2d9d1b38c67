#include "controller/durable_writer.h"

#include <iterator>
#include <utility>

namespace zs {

DurableWriter::Ticket DurableWriter::enqueue(WriteBatch batch) {
  auto outcome = std::make_shared<Outcome>();
  std::lock_guard lk(mu_);
  // An empty batch is done at once unless earlier batches are still in flight: a caller that
  // waits on it must not act before them.
  if (batch.empty() && queue_.empty() && !busy_) {
    outcome->done = true;
    return outcome;
  }
  queue_.push_back({std::move(batch), outcome});
  return outcome;
}

void DurableWriter::wait(const Ticket& ticket) {
  std::unique_lock lk(mu_);
  while (!ticket->done) {
    if (busy_) {
      done_cv_.wait(lk);
      continue;
    }
    // Lead: write everything queued so far (our own batch is among it, or already done).
    std::deque<Pending> group;
    group.swap(queue_);
    busy_ = true;
    lk.unlock();

    WriteBatch merged = std::move(group.front().batch);
    for (std::size_t i = 1; i < group.size(); ++i) {
      auto& b = group[i].batch;
      std::move(b.jobs.begin(), b.jobs.end(), std::back_inserter(merged.jobs));
      std::move(b.nodes.begin(), b.nodes.end(), std::back_inserter(merged.nodes));
      std::move(b.removed_nodes.begin(), b.removed_nodes.end(),
                std::back_inserter(merged.removed_nodes));
    }
    std::exception_ptr error;
    try {
      if (!merged.empty()) store_.write(merged);
    } catch (...) {
      error = std::current_exception();
    }

    lk.lock();
    busy_ = false;
    if (!error) ++transactions_;
    for (auto& p : group) {
      p.outcome->done = true;
      p.outcome->error = error;
    }
    done_cv_.notify_all();
  }
  if (ticket->error) std::rethrow_exception(ticket->error);
}

std::uint64_t DurableWriter::transactions() const {
  std::lock_guard lk(mu_);
  return transactions_;
}

}  // namespace zs
