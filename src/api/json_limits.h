// The bounds the JSON codec enforces when decoding, and a check of a record against them.
// A store calls check_codec_limits before writing a record, so that whatever it writes it can
// decode again when it loads (a record the codec would reject must never reach the disk).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/accounting.h"
#include "core/job_record.h"

namespace zs {

inline constexpr int kMaxJsonCount = 1'000'000;             // accel_count, nodes, devices...
inline constexpr std::size_t kMaxJsonListEntries = 10'000;  // argv, env, after_ok, assignment...
inline constexpr std::size_t kMaxJsonStringBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t kMaxJsonScriptBytes = std::size_t{4} << 20;  // 4 MiB, `script` only
inline constexpr std::int64_t kMaxJsonMemMib = std::int64_t{1} << 40;     // 1 EiB
inline constexpr TimeMs kMaxJsonTimeMs = kNever;  // sums of two times cannot overflow
// Ids are stored as SQL BIGINT, so they stay below 2^63.
inline constexpr JobId kMaxJobId = static_cast<JobId>(std::numeric_limits<std::int64_t>::max());

// Throw InputError (where = the field's JSON path, e.g. "spec.argv[3]") for the first value the
// decoder would reject: out-of-range numbers, NaN, too many entries, too long strings, strings
// with NUL bytes or invalid UTF-8.
void check_codec_limits(const JobSpec& spec);
void check_codec_limits(const JobRecord& job);
void check_codec_limits(const NodeRecord& node);
void check_codec_limits(const UsageRecord& usage);

}  // namespace zs
