#include "decision_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace zs::test {

std::string describe_decisions(const Decisions& d, const ShareIndex* index) {
  std::ostringstream s;
  for (const auto& x : d.starts) {
    s << "start " << x.job << " type " << x.type << (x.backfilled ? " backfilled" : "") << ":";
    for (const Slot& slot : x.placement) s << " " << slot.node << "/" << slot.devices;
    s << "\n";
  }
  for (const auto& x : d.preemptions)
    s << "preempt " << x.job << " for " << x.for_job << (x.reclaim ? " reclaim" : "") << "\n";
  for (const auto& x : d.rejections) s << "reject " << x.job << ": " << x.reason << "\n";
  for (const auto& x : d.reservations) {
    s << "reserve " << x.job << " type " << x.type << " at " << x.at << ":";
    for (const Slot& slot : x.placement) s << " " << slot.node << "/" << slot.devices;
    s << "\n";
  }
  for (const auto& x : d.holds) {
    s << "hold for " << x.for_job << " type " << x.type << ":";
    for (const Slot& slot : x.placement) s << " " << slot.node << "/" << slot.devices;
    s << "\n";
  }
  std::map<JobId, std::string> waits;
  for (const auto& x : d.waits) waits[x.job] = d.wait_reasons.at(x.reason);
  for (const auto& x : d.group_waits) {
    EXPECT_NE(index, nullptr) << "group waits without a share index";
    if (!index) break;
    for (std::uint32_t r = index->first(x.group, x.from); r != ShareIndex::kEnd && r < x.to;
         r = index->first(x.group, r + 1))
      waits[index->job(r).id] = d.wait_reasons.at(x.reason);
  }
  for (const auto& [job, why] : waits) s << "wait " << job << ": " << why << "\n";
  s << "wake " << d.wake_at << "\n";
  return s.str();
}

std::vector<PendingJob> in_submit_order(std::span<const PendingJob> pending) {
  std::vector<PendingJob> sorted(pending.begin(), pending.end());
  std::sort(sorted.begin(), sorted.end(), [](const PendingJob& a, const PendingJob& b) {
    return a.job->submit != b.job->submit ? a.job->submit < b.job->submit : a.job->id < b.job->id;
  });
  return sorted;
}

}  // namespace zs::test
