#include "api/http_client.h"

#include <httplib.h>

#include <cstdlib>

#include "api/api_error.h"
#include "core/input_error.h"

namespace zs {
namespace {

[[noreturn]] void throw_unreachable(const std::string& url, httplib::Error error) {
  std::string why = error == httplib::Error::Connection ? "connection refused or timed out"
                    : error == httplib::Error::Read     ? "no answer (read timed out or closed)"
                    : error == httplib::Error::Write    ? "the request could not be sent"
                    : error == httplib::Error::ConnectionTimeout ? "connection timed out"
                                                                 : httplib::to_string(error);
  throw ApiError(0, "unreachable",
                 "cannot reach the controller at " + url + ": " + why +
                     " (is `zs controller` or `zs up` running? set --controller or ZS_CONTROLLER)");
}

nlohmann::json decode(const std::string& url, const httplib::Result& r) {
  if (!r) throw_unreachable(url, r.error());
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status >= 200 && r->status < 300) {
    if (body.is_discarded())
      throw ApiError(502, "bad_response", "the controller answered with something not JSON");
    return body;
  }
  if (!body.is_discarded() && body.is_object() && body.contains("error") &&
      body["error"].is_object()) {
    const auto& e = body["error"];
    auto str = [&](const char* k) {
      return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
    };
    throw ApiError(r->status, str("code"), str("message"), str("field"));
  }
  throw ApiError(r->status, "http_error",
                 "the controller answered HTTP " + std::to_string(r->status));
}

}  // namespace

ApiClient::ApiClient(const std::string& base_url, int timeout_ms) : base_url_(base_url) {
  if (base_url.rfind("http://", 0) != 0 || base_url.size() <= 7)
    throw InputError("--controller",
                     "expected a URL like http://127.0.0.1:7070, got '" + base_url + "'");
  std::string rest = base_url.substr(7);
  if (rest.find('/') != std::string::npos && rest.find('/') != rest.size() - 1)
    throw InputError("--controller", "the URL must not have a path: '" + base_url + "'");
  if (!rest.empty() && rest.back() == '/') base_url_.pop_back();
  client_ = std::make_unique<httplib::Client>(base_url_);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
  set_timeout_ms(timeout_ms);
}

ApiClient::~ApiClient() = default;

void ApiClient::set_timeout_ms(int ms) {
  client_->set_connection_timeout(ms / 1000, (ms % 1000) * 1000);
  client_->set_read_timeout(ms / 1000, (ms % 1000) * 1000);
  client_->set_write_timeout(ms / 1000, (ms % 1000) * 1000);
}

nlohmann::json ApiClient::get(const std::string& path) {
  return decode(base_url_, client_->Get(path));
}

nlohmann::json ApiClient::post(const std::string& path, const nlohmann::json& body) {
  return post_text(path, body.dump());
}

nlohmann::json ApiClient::post_text(const std::string& path, const std::string& json_body) {
  return decode(base_url_, client_->Post(path, json_body, "application/json"));
}

std::string ApiClient::get_text(const std::string& path,
                                std::map<std::string, std::string>& headers) {
  auto r = client_->Get(path);
  if (!r) throw_unreachable(base_url_, r.error());
  if (r->status != 200) decode(base_url_, r);
  for (const auto& [k, v] : r->headers) headers[k] = v;
  return r->body;
}

std::string default_controller_url(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("ZS_CONTROLLER"); env && *env) return env;
  return "http://127.0.0.1:7070";
}

}  // namespace zs
