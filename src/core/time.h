// Time in the scheduling core: integer milliseconds on an abstract clock.
// The simulator's clock starts at the first submit; the controller's is wall-clock ms since the
// epoch. Integers keep every decision bit-for-bit reproducible.
#pragma once
#include <cstdint>
#include <limits>

namespace zs {

using TimeMs = std::int64_t;

inline constexpr TimeMs kNever = std::numeric_limits<TimeMs>::max() / 4;  // far future, no overflow
inline constexpr TimeMs kMsPerSecond = 1000;

constexpr TimeMs seconds_to_ms(double s) {
  return static_cast<TimeMs>(s * 1000.0 + (s >= 0 ? 0.5 : -0.5));
}
constexpr double ms_to_seconds(TimeMs ms) {
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace zs
