// Renders policy metrics as an aligned table, JSON or CSV.
#pragma once
#include <string>
#include <vector>

#include "sim/metrics.h"

namespace zs {

enum class ReportFormat { kTable, kJson, kCsv };

// `with_tenants` adds the per-tenant breakdown (table: one block per policy; JSON: "tenants").
std::string render_report(const std::vector<PolicyMetrics>& policies, ReportFormat format,
                          bool with_tenants);

}  // namespace zs
