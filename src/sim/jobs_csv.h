// `zs sim --jobs-out FILE.csv`: one row per job and policy, for analysis in pandas or a
// spreadsheet (docs/trace-format.md, "Per-job output").
#pragma once
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"
#include "sim/simulator.h"

namespace zs {

// The header line's columns, in order.
inline constexpr std::string_view kJobsCsvHeader =
    "policy,id,tenant,user,submit_s,first_start_s,start_s,end_s,type,count,nodes,attempts,"
    "preemptions,accel_hours,cost,reason,partition";

// One CSV field (RFC 4180): as is, or in double quotes (quotes doubled) when it holds a comma,
// a quote, a line break or leading/trailing spaces.
std::string csv_field(std::string_view s);

// Writes the header and, for each result in order, its jobs in input order. Times are the
// outcome's absolute trace times in seconds (3 decimals); a start or end that never happened is
// an empty cell, as are the type of a job that never ran and the reason of one not rejected.
void write_jobs_csv(std::ostream& out, const std::vector<SimResult>& results,
                    const Catalog& catalog);

}  // namespace zs
