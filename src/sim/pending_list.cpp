#include "sim/pending_list.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace zs {

void PendingList::add(std::uint32_t rank, const PendingJob& job) {
  if (!sorted_) {
    at_[rank] = static_cast<std::uint32_t>(jobs_.size());
  } else if (ranks_.size() > head_ && rank < ranks_.back()) {
    joining_.emplace_back(rank, job);
    return;
  }
  // Arrivals come in rank order, so a sorted list mostly grows at its end.
  count(job.job->priority, +1);
  jobs_.push_back(job);
  ranks_.push_back(rank);
  if (listener_) listener_->joined(rank, job);
}

void PendingList::drop(std::uint32_t rank) {
  if (sorted_) {
    leaving_.push_back(rank);
    return;
  }
  const std::uint32_t at = at_[rank];
  if (at == kNone)
    throw std::logic_error("job of rank " + std::to_string(rank) + " is not pending");
  count(jobs_[at].job->priority, -1);
  if (listener_) listener_->left(rank);
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
  std::vector<std::size_t> at(leaving_.size());  // their positions in jobs_, ascending
  std::size_t from = head_;
  for (std::size_t l = 0; l < leaving_.size(); ++l) {
    from = static_cast<std::size_t>(
        std::lower_bound(ranks_.begin() + static_cast<std::ptrdiff_t>(from), ranks_.end(),
                         leaving_[l]) -
        ranks_.begin());
    if (from == ranks_.size() || ranks_[from] != leaving_[l])
      throw std::logic_error("job of rank " + std::to_string(leaving_[l]) + " is not pending");
    count(jobs_[from].job->priority, -1);
    if (listener_) listener_->left(leaving_[l]);
    at[l] = from;
  }
  auto move_stretch = [&](std::size_t lo, std::size_t hi, std::size_t to, bool left) {
    const auto b = static_cast<std::ptrdiff_t>(lo), e = static_cast<std::ptrdiff_t>(hi),
               t = static_cast<std::ptrdiff_t>(to);
    if (left) {
      std::move(jobs_.begin() + b, jobs_.begin() + e, jobs_.begin() + t);
      std::move(ranks_.begin() + b, ranks_.begin() + e, ranks_.begin() + t);
    } else {
      std::move_backward(jobs_.begin() + b, jobs_.begin() + e, jobs_.begin() + t);
      std::move_backward(ranks_.begin() + b, ranks_.begin() + e, ranks_.begin() + t);
    }
  };
  const std::size_t n = at.size();
  const std::size_t before = at.back() - head_ - (n - 1), after = jobs_.size() - at.front() - n;
  if (after <= before) {
    // Close the gaps by moving the jobs behind them forward.
    std::size_t to = at.front();
    for (std::size_t l = 0; l < n; ++l) {
      const std::size_t next = l + 1 < n ? at[l + 1] : jobs_.size();
      move_stretch(at[l] + 1, next, to, true);
      to += next - at[l] - 1;
    }
    jobs_.resize(to);
    ranks_.resize(to);
  } else {
    // Close them by moving the jobs before them back; the list then starts later.
    std::size_t to = at.back() + 1;
    for (std::size_t l = n; l-- > 0;) {
      const std::size_t lo = l > 0 ? at[l - 1] + 1 : head_;
      move_stretch(lo, at[l], to, false);
      to -= at[l] - lo;
    }
    head_ = to;
  }
  leaving_.clear();
  // Give the unused front back now and then (amortized O(1) per job).
  if (head_ > 0 && (head_ == jobs_.size() || head_ >= 4096 + jobs_.size() / 2)) {
    jobs_.erase(jobs_.begin(), jobs_.begin() + static_cast<std::ptrdiff_t>(head_));
    ranks_.erase(ranks_.begin(), ranks_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void PendingList::insert_joining() {
  if (joining_.empty()) return;
  std::size_t end = jobs_.size();  // not yet moved: [0, end)
  std::size_t to = end + joining_.size();
  jobs_.resize(to);
  ranks_.resize(to);
  for (std::size_t k = joining_.size(); k-- > 0;) {
    const std::size_t at = static_cast<std::size_t>(
        std::upper_bound(ranks_.begin() + static_cast<std::ptrdiff_t>(head_),
                         ranks_.begin() + static_cast<std::ptrdiff_t>(end), joining_[k].first) -
        ranks_.begin());
    std::move_backward(jobs_.begin() + at, jobs_.begin() + end, jobs_.begin() + to);
    std::move_backward(ranks_.begin() + at, ranks_.begin() + end, ranks_.begin() + to);
    to -= end - at + 1;
    end = at;
    jobs_[to] = joining_[k].second;
    count(jobs_[to].job->priority, +1);
    ranks_[to] = joining_[k].first;
    if (listener_) listener_->joined(ranks_[to], jobs_[to]);
  }
  joining_.clear();
}

void PendingList::count(std::int32_t priority, int delta) {
  auto it = std::find_if(priorities_.begin(), priorities_.end(),
                         [&](const auto& p) { return p.first == priority; });
  if (it == priorities_.end()) it = priorities_.insert(priorities_.end(), {priority, 0});
  it->second += static_cast<std::uint32_t>(delta);
  if (it->second == 0) priorities_.erase(it);
}

}  // namespace zs
