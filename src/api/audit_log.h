// The audit trail (issue 15): identity and node changes and denied requests, one line each on
// the controller's stderr ("zs audit: 2026-12-06T11:40:02Z user ada (cluster-admin): created
// tenant lab"). Never a secret: tokens appear by id only, environment values never. Denials come
// from anyone, so they are capped (at most 50 lines a second; the rest are counted and the count
// is logged with the next line that gets through).
#pragma once
#include <string>
#include <string_view>

#include "core/access.h"

namespace zs {

// A change made by `who`.
void audit(const Principal& who, std::string_view what);
// A request refused with `status` (401, 403, 404 on another tenant's job, 429).
void audit_denial(std::string_view peer, std::string_view method, std::string_view path, int status,
                  std::string_view why);

}  // namespace zs
