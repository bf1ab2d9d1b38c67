// GET /api/v1/usage: accounting reports (zs usage, docs/api.md, docs/tenants.md). Part of
// HttpServer. The controller hands over whole records; the report (pro-rating, grouping, the
// integer milli-unit totals) is the pure core's (core/accounting.h).
#include <algorithm>

#include "api/http_json.h"
#include "api/http_server.h"
#include "api/json_fields.h"
#include "core/report_time.h"
#include "core/text.h"

namespace zs {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxListed = 256;  // names in one account= or user= list

std::vector<std::string> name_list(const http::Request& req, const char* param) {
  std::vector<std::string> names;
  if (!req.has_param(param)) return names;
  const std::string text = req.param_value(param);
  for (std::string_view part : split(text, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    if (names.size() == kMaxListed)
      throw InputError(param, "at most " + std::to_string(kMaxListed) + " names");
    if (std::string problem = json_fields::text_problem(part, 256); !problem.empty())
      throw InputError(param, problem);
    names.emplace_back(part);
  }
  return names;
}

json row_json(const UsageRow& r, UsageGroup by) {
  json j{{"jobs", r.jobs},
         {"attempts", r.attempts},
         {"accel_ms", r.accel_ms},
         {"accel_hours", r.accel_hours},
         {"cost_milli", r.cost_milli}};
  if (!r.key.empty()) j[std::string(to_string(by))] = r.key;
  if (!r.tenant.empty() && by != UsageGroup::tenant) j["tenant"] = r.tenant;
  if (!r.user.empty() && by != UsageGroup::user) j["user"] = r.user;
  return j;
}

}  // namespace

void HttpServer::add_usage_routes() {
  ClusterApi& api = api_;
  const bool auth = options_.require_auth;
  // ?start=&end= (core/report_time.h; default: this month so far), account= and user= (comma
  // lists), by=tenant|user|type|day|job (default tenant).
  route("GET", "/api/v1/usage", RouteAccess{RouteAccess::Kind::action, Action::read_usage},
        [&api, auth](http::Request& req, http::Response& res, const Principal& who) {
          UsageGroup by = UsageGroup::tenant;
          if (req.has_param("by")) {
            auto g = usage_group_from_string(req.param_value("by"));
            if (!g)
              throw InputError("by", "expected tenant, user, type, day or job, not " +
                                         json_fields::printable(req.param_value("by"), 32));
            by = *g;
          }
          std::vector<std::string> tenants = name_list(req, "account");
          UsageFilter filter;
          for (auto& u : name_list(req, "user")) filter.users.insert(std::move(u));
          // Members, viewers and tenant admins see their own tenants only: asking for another
          // tenant is not an error (it shows nothing), as a listing of jobs does.
          if (auth && !sees_every_tenant(who)) {
            if (tenants.empty()) {
              tenants = who.tenants;
            } else {
              std::erase_if(tenants, [&](const std::string& t) {
                return std::find(who.tenants.begin(), who.tenants.end(), t) == who.tenants.end();
              });
            }
            if (tenants.empty()) tenants.push_back("");  // no tenant of theirs: nothing at all
          }
          // The window is resolved against the controller's clock.
          const TimeMs now = api.clock_ms();
          UsageWindow window;
          window.end =
              req.has_param("end") ? parse_report_time(req.param_value("end"), now, "end") : now;
          window.start = req.has_param("start")
                             ? parse_report_time(req.param_value("start"), now, "start")
                             : utc_month_start(now);
          if (window.end <= window.start)
            throw InputError(
                "end", "the report must end after it starts (" + utc_time_text(window.start) + ")");
          for (const auto& t : tenants) filter.tenants.insert(t);
          const UsageAnswer answer = api.usage(window, tenants);
          json rows = json::array();
          for (const UsageRow& r : summarize(answer.records, window, by, filter))
            rows.push_back(row_json(r, by));
          json out{{"start", utc_time_text(window.start)},
                   {"end", utc_time_text(window.end)},
                   {"start_ms", window.start},
                   {"end_ms", window.end},
                   {"by", std::string(to_string(by))},
                   {"rows", std::move(rows)},
                   {"total", row_json(usage_total(answer.records, window, filter), by)}};
          // Guarantees the nodes up cannot hold (sums per type, no tenant's own figures).
          out["shortfall"] = answer.shortfall;
          send_json(res, 200, out);
        });
}

}  // namespace zs
