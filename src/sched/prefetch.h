// Walks over many jobs (the waiting queue, the running jobs) touch each job's record once, and
// the records lie far apart in memory: the first touch is a cache miss, which on a long queue
// is most of what looking at a job costs (docs/benchmarks.md). Such walks ask for the record of
// the job kPrefetchAhead places on while they work on this one.
#pragma once
#include <cstddef>

#include "core/job.h"

namespace zs {

inline constexpr std::size_t kPrefetchAhead = 8;

// A pass reads the fields at the start of a Job (core/job.h puts them first): its first three
// cache lines.
inline void prefetch_job(const Job* job) {
  const char* at = reinterpret_cast<const char*>(job);
  __builtin_prefetch(at);
  __builtin_prefetch(at + 64);
  __builtin_prefetch(at + 128);
}

// Walks over running jobs that read only the size of each: the one line that holds it.
inline void prefetch_accel_count(const Job* job) {
  __builtin_prefetch(&job->accel_count);
}

}  // namespace zs
