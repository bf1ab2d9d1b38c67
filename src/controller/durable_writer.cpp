#include "controller/durable_writer.h"

#include <iterator>
#include <utility>

namespace zs {
namespace {

template <class T>
void append(std::vector<T>& into, std::vector<T>& from) {
  std::move(from.begin(), from.end(), std::back_inserter(into));
}

// Identity changes never share a group with another identity change (IdentityRegistry writes
// one at a time and waits), so applying every removal after every upsert loses nothing.
void append(WriteBatch& into, WriteBatch& b) {
  append(into.jobs, b.jobs);
  append(into.nodes, b.nodes);
  append(into.removed_nodes, b.removed_nodes);
  append(into.tenants, b.tenants);
  append(into.users, b.users);
  append(into.tokens, b.tokens);
  append(into.removed_tenants, b.removed_tenants);
  append(into.removed_users, b.removed_users);
}

}  // namespace

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
    for (std::size_t i = 1; i < group.size(); ++i) append(merged, group[i].batch);
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
