// The agent's clock: wall-clock milliseconds, the unit of walltimes, records and reports.
#pragma once
#include <chrono>
#include <cstdint>

namespace zs {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace zs
