// A driver's running jobs as the simulator keeps them - a job starts in the next slot, and the
// last job takes the slot of one that stops - with an index kept beside them (LasRunning,
// GittinsRunning), for the tests that check such an index against the jobs themselves.
#pragma once
#include <cstdint>
#include <vector>

#include "sched/snapshot.h"

namespace zs::test {

struct ModelJob {
  std::uint32_t id;
  RunningJob run;
  TimeMs attained_at_start;  // its service before this run
};

template <class Index>
void start_job(std::vector<ModelJob>& running, Index& index, const ModelJob& j) {
  index.insert(j.id, static_cast<std::uint32_t>(running.size()), j.run, j.attained_at_start);
  running.push_back(j);
}

template <class Index>
void stop_job(std::vector<ModelJob>& running, Index& index, std::uint32_t slot) {
  index.erase(running[slot].id);
  if (slot + 1 != running.size()) {
    running[slot] = running.back();
    index.move(running[slot].id, slot);
  }
  running.pop_back();
}

inline std::vector<RunningJob> runs_of(const std::vector<ModelJob>& running) {
  std::vector<RunningJob> runs;
  for (const ModelJob& j : running) runs.push_back(j.run);
  return runs;
}

}  // namespace zs::test
