// Groups of jobs by what is known of them before they run (user, job name, requested walltime,
// tenant, requested count), narrowest first: what the online learners (core/runtime_predictor.h,
// core/service_distribution.h) learn per group, falling back from narrow groups without enough
// history to broader ones.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "core/job.h"

namespace zs {

// The groups, narrowest first. A level is skipped for a job that lacks one of its features (an
// empty user or name).
enum class JobGroupLevel : std::uint8_t {
  kUserNameCount,
  kUserName,
  kUserWalltimeCount,
  kUserWalltime,
  kUserCount,
  kUser,
  kTenantNameCount,
  kTenantName,
  kNameCount,
  kName,
  kTenantCount,
  kTenant,
  kCount,
  kAll,
  kNone,  // no history at all
};
inline constexpr std::size_t kJobGroupLevels = static_cast<std::size_t>(JobGroupLevel::kNone);
std::string_view job_group_level_name(JobGroupLevel l);

// A job's group at each level as a 64-bit hash (0: the level does not apply to it).
using JobGroupKeys = std::array<std::uint64_t, kJobGroupLevels>;
JobGroupKeys job_group_keys(const Job& job);

// Levels without a user or job name: at most tenants x sizes groups, so a learner that caps
// its groups (hostile names) still learns them.
inline bool is_broad_level(JobGroupLevel l) {
  return l >= JobGroupLevel::kTenantCount;
}

}  // namespace zs
