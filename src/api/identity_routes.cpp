// The routes of tenants, users and tokens (`zs admin`, docs/api.md): part of HttpServer.
#include <chrono>

#include "api/audit_log.h"
#include "api/http_json.h"
#include "api/http_server.h"
#include "api/json_codec.h"
#include "api/json_fields.h"

namespace zs {

using nlohmann::json;

namespace {

// A token as the API shows it: never the hash (nor, of course, the secret).
json token_json(const TokenRecord& t) {
  json j = to_json(t);
  j.erase("hash");
  return j;
}

std::string string_field(const json& body, const char* name, bool required = true) {
  auto it = body.find(name);
  if (it == body.end()) {
    if (required) throw InputError(name, "missing");
    return "";
  }
  if (!it->is_string()) throw InputError(name, "expected a string");
  return it->get<std::string>();
}

void only_fields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw InputError(json_fields::printable(key, 64), "unknown field");
}

}  // namespace

// Tenants, users and tokens (`zs admin`): read by operators and cluster admins, changed by
// cluster admins. A created token's text is in the answer and nowhere else.
void HttpServer::add_identity_routes() {
  if (!identities_) return;
  IdentityApi& ids = *identities_;
  auto needs = [](Action a) { return RouteAccess{RouteAccess::Kind::action, a}; };

  route("GET", "/api/v1/tenants", needs(Action::read_identities),
        [&ids](http::Request&, http::Response& res, const Principal&) {
          json out = json::array();
          for (const auto& t : ids.tenants()) out.push_back(to_json(t));
          send_json(res, 200, json{{"tenants", std::move(out)}});
        });
  route("POST", "/api/v1/tenants", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          const json body = parse_body(req);
          only_fields(body, {"name"});
          TenantRecord t = ids.create_tenant(string_field(body, "name"));
          audit(who, "created tenant " + t.name);
          send_json(res, 201, json{{"tenant", to_json(t)}});
        });
  route("DELETE", "/api/v1/tenants/*", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          ids.delete_tenant(req.matches[1]);
          audit(who, "deleted tenant " + req.matches[1]);
          send_json(res, 200, json{{"deleted", req.matches[1]}});
        });

  route("GET", "/api/v1/users", needs(Action::read_identities),
        [&ids](http::Request&, http::Response& res, const Principal&) {
          json out = json::array();
          for (const auto& u : ids.users()) out.push_back(to_json(u));
          send_json(res, 200, json{{"users", std::move(out)}});
        });
  route("POST", "/api/v1/users", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          const json body = parse_body(req);
          only_fields(body, {"name", "role", "tenants", "unix_user"});
          UserRecord u;
          u.name = string_field(body, "name");
          const std::string role = string_field(body, "role");
          auto parsed = parse_role(role);
          if (!parsed)
            throw InputError("role", "unknown role '" + json_fields::printable(role, 64) +
                                         "' (one of " + std::string(kRoleNames) + ")");
          u.role = *parsed;
          if (auto it = body.find("tenants"); it != body.end()) {
            if (!it->is_array()) throw InputError("tenants", "expected an array of names");
            for (const auto& t : *it) {
              if (!t.is_string()) throw InputError("tenants", "expected an array of names");
              u.tenants.push_back(t.get<std::string>());
            }
          }
          u.unix_user = string_field(body, "unix_user", false);
          UserRecord made = ids.create_user(std::move(u));
          audit(who, "created user " + made.name + " (" + std::string(to_string(made.role)) +
                         ", unix user " + made.unix_user + ")");
          send_json(res, 201, json{{"user", to_json(made)}});
        });
  // Changes what is given: {"role", "tenants", "unix_user"}.
  route("PATCH", "/api/v1/users/*", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          const json body = parse_body(req);
          only_fields(body, {"role", "tenants", "unix_user"});
          UserChange change;
          if (body.contains("role")) {
            const std::string role = string_field(body, "role");
            change.role = parse_role(role);
            if (!change.role)
              throw InputError("role", "unknown role '" + json_fields::printable(role, 64) +
                                           "' (one of " + std::string(kRoleNames) + ")");
          }
          if (auto it = body.find("tenants"); it != body.end()) {
            if (!it->is_array()) throw InputError("tenants", "expected an array of names");
            change.tenants.emplace();
            for (const auto& t : *it) {
              if (!t.is_string()) throw InputError("tenants", "expected an array of names");
              change.tenants->push_back(t.get<std::string>());
            }
          }
          if (body.contains("unix_user")) change.unix_user = string_field(body, "unix_user");
          UserRecord made = ids.update_user(req.matches[1], change);
          audit(who, "changed user " + made.name + " (" + std::string(to_string(made.role)) +
                         ", unix user " + made.unix_user + ")");
          send_json(res, 200, json{{"user", to_json(made)}});
        });
  route("DELETE", "/api/v1/users/*", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          ids.delete_user(req.matches[1]);
          audit(who, "deleted user " + req.matches[1] + " and revoked its tokens");
          send_json(res, 200, json{{"deleted", req.matches[1]}});
        });

  route("GET", "/api/v1/tokens", needs(Action::read_identities),
        [&ids](http::Request&, http::Response& res, const Principal&) {
          json out = json::array();
          for (const auto& t : ids.tokens()) out.push_back(token_json(t));
          send_json(res, 200, json{{"tokens", std::move(out)}});
        });
  // {"user": NAME} or {"node": NAME}, and optionally "expires_in_s".
  route("POST", "/api/v1/tokens", needs(Action::manage_identities),
        [&ids](http::Request& req, http::Response& res, const Principal& who) {
          const json body = parse_body(req);
          only_fields(body, {"user", "node", "expires_in_s"});
          const bool node = body.contains("node");
          if (node == body.contains("user"))
            throw InputError("user", "name either a \"user\" or a \"node\"");
          const std::string subject = string_field(body, node ? "node" : "user");
          TimeMs expires_ms = 0;
          if (auto it = body.find("expires_in_s"); it != body.end()) {
            if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 ||
                it->get<std::int64_t>() > 100LL * 365 * 86'400)
              throw InputError("expires_in_s", "expected whole seconds, 1 to 100 years");
            expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         it->get<std::int64_t>() * 1000;
          }
          NewToken made =
              ids.create_token(node ? TokenKind::node : TokenKind::user, subject, expires_ms);
          audit(who, "created " + std::string(node ? "node credential" : "token") + " " +
                         made.record.id + " for " + subject);
          json out = token_json(made.record);
          out["token"] = made.text;
          send_json(res, 201, json{{"token", std::move(out)}});
        });
  auto revoke = [&ids](http::Request& req, http::Response& res, const Principal& who) {
    TokenRecord t = ids.revoke_token(req.matches[1]);
    audit(who, "revoked token " + t.id + " of " + t.subject);
    send_json(res, 200, json{{"token", token_json(t)}});
  };
  route("POST", "/api/v1/tokens/*/revoke", needs(Action::manage_identities), revoke);
  route("DELETE", "/api/v1/tokens/*", needs(Action::manage_identities), revoke);
}

}  // namespace zs
