// JSON forms of the live-cluster records, shared by the HTTP API, the CLI and the store.
// Decoding is strict: a wrong type, an out-of-range value or an unknown field throws
// InputError whose where() is the field's JSON path (e.g. "accel_count", "env[2]"), which the
// API returns as {"error":{"field":...}}. The bounds are in api/json_limits.h.
#pragma once
#include <nlohmann/json.hpp>

#include "core/accounting.h"
#include "core/identity_record.h"
#include "core/job_record.h"

namespace zs {

nlohmann::json to_json(const JobSpec& spec);
JobSpec job_spec_from_json(const nlohmann::json& j);  // missing fields keep their defaults

nlohmann::json to_json(const NodeAssignment& a);
nlohmann::json to_json(const JobRecord& job);
JobRecord job_record_from_json(const nlohmann::json& j);
// A job as GET /api/v1/jobs[/ID] shows it: the record plus what only the API adds (its
// estimated start, estimated_start_ms), which is not part of the record.
JobRecord job_record_from_api_json(nlohmann::json j);

nlohmann::json to_json(const NodeRecord& node);
NodeRecord node_record_from_json(const nlohmann::json& j);

// Identities (issue 15). A token record carries its hash: for the store, never for API output.
nlohmann::json to_json(const TenantRecord& tenant);
TenantRecord tenant_record_from_json(const nlohmann::json& j);
nlohmann::json to_json(const UserRecord& user);
UserRecord user_record_from_json(const nlohmann::json& j);
nlohmann::json to_json(const TokenRecord& token);
TokenRecord token_record_from_json(const nlohmann::json& j);

// Accounting (issue 16): one record per attempt of a job.
nlohmann::json to_json(const UsageRecord& usage);
UsageRecord usage_record_from_json(const nlohmann::json& j);

}  // namespace zs
