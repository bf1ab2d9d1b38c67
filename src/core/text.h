// Small pure string helpers shared by the parsers (no I/O).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
// Lower-case, spaces and underscores folded to '-': "Ascend 910B3" and "ascend_910b3" compare
// equal.
std::string normalize_name(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);

// Strict numeric parsing: the whole (trimmed) text must be a number, else nullopt.
std::optional<std::int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);  // finite values only

// Durations such as "90", "90s", "15m", "2h", "3d", "1-12:00:00", "12:30:00", "30:00" -> seconds.
std::optional<std::int64_t> parse_duration_s(std::string_view s);

}  // namespace zs
