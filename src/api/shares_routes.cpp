// The tenants' shares (zs admin apply / zs admin shares, docs/api.md): part of HttpServer.
#include "api/audit_log.h"
#include "api/http_json.h"
#include "api/http_server.h"
#include "api/json_fields.h"

namespace zs {

using nlohmann::json;

void HttpServer::add_shares_routes() {
  ClusterApi& api = api_;
  auto needs = [](Action a) { return RouteAccess{RouteAccess::Kind::action, a}; };

  route("GET", "/api/v1/shares", needs(Action::read_identities),
        [&api](http::Request&, http::Response& res, const Principal&) {
          const SharesView v = api.shares();
          send_json(res, 200,
                    json{{"enabled", v.enabled}, {"yaml", v.yaml}, {"shortfall", v.shortfall}});
        });

  // {"yaml": the file's text, "source": its name for error messages, "dry_run": bool}
  route("POST", "/api/v1/shares", needs(Action::manage_identities),
        [&api](http::Request& req, http::Response& res, const Principal& who) {
          const json body = parse_body(req);
          std::string yaml, source = "tenants file";
          bool dry_run = false;
          for (const auto& [key, value] : body.items()) {
            if (key == "yaml") {
              if (!value.is_string()) throw InputError("yaml", "expected the file's text");
              yaml = value.get<std::string>();
            } else if (key == "source") {
              if (!value.is_string()) throw InputError("source", "expected a string");
              source = value.get<std::string>();
              if (std::string problem = json_fields::text_problem(source, 256); !problem.empty())
                throw InputError("source", problem);
              for (unsigned char c : source)
                if (c < 0x20 || c == 0x7f)
                  throw InputError("source", "control characters are not allowed");
            } else if (key == "dry_run") {
              if (!value.is_boolean()) throw InputError("dry_run", "expected true or false");
              dry_run = value.get<bool>();
            } else {
              throw InputError(json_fields::printable(key, 64),
                               "unknown field (expected yaml, source, dry_run)");
            }
          }
          if (!body.contains("yaml")) throw InputError("yaml", "missing: the tenants file's text");
          const ApplyResult r = api.apply_shares(yaml, source, dry_run);
          if (!dry_run)
            audit(who, "applied tenants file " + source + " (" + std::to_string(r.added.size()) +
                           " added, " + std::to_string(r.changed.size()) + " changed, " +
                           std::to_string(r.unchanged.size()) + " unchanged" +
                           (r.settings_changed ? ", settings changed" : "") + ")");
          send_json(res, 200,
                    json{{"added", r.added},
                         {"changed", r.changed},
                         {"unchanged", r.unchanged},
                         {"created_tenants", r.created_tenants},
                         {"settings_changed", r.settings_changed},
                         {"warnings", r.warnings},
                         {"dry_run", r.dry_run}});
        });
}

}  // namespace zs
