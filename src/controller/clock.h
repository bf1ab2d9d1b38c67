// The controller's clock: wall-clock milliseconds since the epoch (TimeMs in the scheduling
// core is abstract; the live cluster anchors it here).
#pragma once
#include <chrono>

#include "core/time.h"

namespace zs {

inline TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::chrono::system_clock::time_point time_point_of(TimeMs ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace zs
