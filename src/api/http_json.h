// JSON answers and bodies of the API's routes (http_server.cpp, identity_routes.cpp).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "api/http_message.h"
#include "core/input_error.h"

namespace zs {

inline void send_json(http::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// {"error": {"code", "message", "field"}} (docs/api.md, "Errors").
inline void send_error(http::Response& res, int status, const std::string& code,
                       const std::string& message, const std::string& field = "") {
  nlohmann::json e{{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  send_json(res, status, nlohmann::json{{"error", e}});
}

// A request's body as a JSON object, or the 400 that says why not.
inline nlohmann::json parse_body(const http::Request& req) {
  if (req.body.empty()) throw InputError("", "empty request body: expected a JSON object");
  nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "malformed_json", "the request body is not valid JSON");
  if (!j.is_object()) throw InputError("", "expected a JSON object");
  return j;
}

}  // namespace zs
