#include "sim/pending_list.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace zs {

void PendingList::add(std::uint32_t rank, const PendingJob& job) {
  if (!sorted_) {
    at_[rank] = static_cast<std::uint32_t>(jobs_.size());
  } else if (!ranks_.empty() && rank < ranks_.back()) {
    joining_.emplace_back(rank, job);
    return;
  }
  // Arrivals come in rank order, so a sorted list mostly grows at its end.
  jobs_.push_back(job);
  ranks_.push_back(rank);
}

void PendingList::drop(std::uint32_t rank) {
  if (sorted_) {
    leaving_.push_back(rank);
    return;
  }
  const std::uint32_t at = at_[rank];
  if (at == kNone)
    throw std::logic_error("job of rank " + std::to_string(rank) + " is not pending");
  jobs_[at] = jobs_.back();
  ranks_[at] = ranks_.back();
  at_[ranks_[at]] = at;
  at_[rank] = kNone;
  jobs_.pop_back();
  ranks_.pop_back();
}

// jobs_ = (jobs_ + joining_) - leaving_, in rank order. Moves each stretch of unchanged jobs
// once, in bulk.
void PendingList::settle() {
  if (joining_.empty() && leaving_.empty()) return;
  std::sort(joining_.begin(), joining_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::sort(leaving_.begin(), leaving_.end());
  cancel_rejoined();
  remove_leaving();
  insert_joining();
}

// A job preempted and started again in the same pass never reached jobs_.
void PendingList::cancel_rejoined() {
  std::size_t j = 0, kept_j = 0, kept_l = 0;
  for (std::size_t l = 0; l < leaving_.size(); ++l) {
    while (j < joining_.size() && joining_[j].first < leaving_[l])
      joining_[kept_j++] = joining_[j++];
    if (j < joining_.size() && joining_[j].first == leaving_[l])
      ++j;
    else
      leaving_[kept_l++] = leaving_[l];
  }
  while (j < joining_.size()) joining_[kept_j++] = joining_[j++];
  joining_.resize(kept_j);
  leaving_.resize(kept_l);
}

void PendingList::remove_leaving() {
  if (leaving_.empty()) return;
  auto position = [&](std::size_t from, std::uint32_t rank) {
    return static_cast<std::size_t>(
        std::lower_bound(ranks_.begin() + static_cast<std::ptrdiff_t>(from), ranks_.end(), rank) -
        ranks_.begin());
  };
  std::size_t to = 0, at = position(0, leaving_.front());
  for (std::size_t l = 0; l < leaving_.size(); ++l) {
    if (at == ranks_.size() || ranks_[at] != leaving_[l])
      throw std::logic_error("job of rank " + std::to_string(leaving_[l]) + " is not pending");
    const std::size_t next = l + 1 < leaving_.size() ? position(at, leaving_[l + 1]) : jobs_.size();
    if (l == 0) to = at;
    std::move(jobs_.begin() + at + 1, jobs_.begin() + next, jobs_.begin() + to);
    std::move(ranks_.begin() + at + 1, ranks_.begin() + next, ranks_.begin() + to);
    to += next - at - 1;
    at = next;
  }
  jobs_.resize(to);
  ranks_.resize(to);
  leaving_.clear();
}

void PendingList::insert_joining() {
  if (joining_.empty()) return;
  std::size_t end = jobs_.size();  // not yet moved: [0, end)
  std::size_t to = end + joining_.size();
  jobs_.resize(to);
  ranks_.resize(to);
  for (std::size_t k = joining_.size(); k-- > 0;) {
    const std::size_t at = static_cast<std::size_t>(
        std::upper_bound(ranks_.begin(), ranks_.begin() + static_cast<std::ptrdiff_t>(end),
                         joining_[k].first) -
        ranks_.begin());
    std::move_backward(jobs_.begin() + at, jobs_.begin() + end, jobs_.begin() + to);
    std::move_backward(ranks_.begin() + at, ranks_.begin() + end, ranks_.begin() + to);
    to -= end - at + 1;
    end = at;
    jobs_[to] = joining_[k].second;
    ranks_[to] = joining_[k].first;
  }
  joining_.clear();
}

}  // namespace zs
