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

// `s` made safe to print on a terminal (defence against terminal injection through job names,
// users, reasons and node names, which come from anyone who can submit or run an agent):
// control characters become visible escapes (\n \r \t, \x1b for other C0 bytes and DEL,
// \u009b for C1 controls), as do bytes that are not valid UTF-8 (\xff) and the invisible
// characters that reorder or break a line (bidirectional overrides U+202A-U+202E, U+2066-U+2069,
// U+200E/U+200F/U+061C, line and paragraph separators U+2028/U+2029). Everything else, UTF-8
// text in any script included, is kept as it is. A backslash is kept too: the output is for
// people, not a reversible encoding.
std::string terminal_safe(std::string_view s);

// Durations such as "90", "90s", "15m", "2h", "3d", "1-12:00:00", "12:30:00", "30:00" -> seconds.
std::optional<std::int64_t> parse_duration_s(std::string_view s);

}  // namespace zs
