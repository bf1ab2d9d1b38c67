#include "api/http_client.h"

#include <algorithm>

#include <cstdlib>

#include "api/http_client_connection.h"
#include "api/tls_socket.h"

#include "api/api_error.h"
#include "core/input_error.h"

namespace zs {
namespace {

[[noreturn]] void throw_unreachable(const std::string& url, const http::ClientFailure& f) {
  if (f.kind() == http::ClientFailure::tls) {
    // Never retried in plain text: the server is not who it should be, or not speaking TLS.
    const std::string what = f.what();
    const std::string ca = tls::client_ca_file();
    std::string hint;
    if (what.find("mismatch") != std::string::npos)
      hint =
          " (the certificate does not name the host of the URL: use a name or address it "
          "lists, or reissue it with that name)";
    else if (what.find("certificate verify failed") != std::string::npos)
      hint = " (verified against " + (ca.empty() ? std::string("the system's CA store") : ca) +
             "; set --ca-file or ZS_CA_FILE to the CA that signed its certificate)";
    throw ApiError(0, "tls", "TLS with " + url + " failed: " + what + hint);
  }
  std::string why =
      f.kind() == http::ClientFailure::connect || f.kind() == http::ClientFailure::refused
          ? std::string("connection refused or timed out (") + f.what() + ")"
      : f.kind() == http::ClientFailure::write
          ? std::string("the request could not be sent (") + f.what() + ")"
          : std::string("no answer (") + f.what() + ")";
  // "refused": nothing listened there (the controller is not running), which the agents' node
  // lease relies on (agent.h); every other failure is "unreachable".
  throw ApiError(0, f.kind() == http::ClientFailure::refused ? "refused" : "unreachable",
                 "cannot reach the controller at " + url + ": " + why +
                     " (is `zs controller` or `zs up` running? set --controller or ZS_CONTROLLER)");
}

nlohmann::json decode(const http::ClientResponse& r) {
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 200 && r.status < 300) {
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
    throw ApiError(r.status, str("code"), str("message"), str("field"));
  }
  throw ApiError(r.status, "http_error",
                 "the controller answered HTTP " + std::to_string(r.status));
}

}  // namespace

ApiClient::ApiClient(const std::string& base_url, int timeout_ms) : base_url_(base_url) {
  const bool tls = base_url.rfind("https://", 0) == 0;
  const std::size_t scheme = tls ? 8 : 7;
  if ((!tls && base_url.rfind("http://", 0) != 0) || base_url.size() <= scheme)
    throw InputError("--controller",
                     "expected a URL like http://127.0.0.1:7070 or "
                     "https://HOST:PORT, got '" +
                         base_url + "'");
  std::string rest = base_url.substr(scheme);
  if (rest.find('/') != std::string::npos && rest.find('/') != rest.size() - 1)
    throw InputError("--controller", "the URL must not have a path: '" + base_url + "'");
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
    base_url_.pop_back();
  }
  // host:port, [v6]:port, or host alone (port 80)
  std::string host = rest, port = tls ? "443" : "80";
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos)
      throw InputError("--controller", "unterminated IPv6 address in '" + base_url + "'");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':')
        throw InputError("--controller", "expected :PORT after the address in '" + base_url + "'");
      port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    throw InputError("--controller",
                     "expected a URL like http://127.0.0.1:7070, got '" + base_url + "'");
  connection_ = std::make_unique<http::ClientConnection>(host, port, timeout_ms, tls);
}

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;

void ApiClient::set_timeout_ms(int ms) {
  connection_->set_timeout_ms(ms);
}

http::ClientResponse ApiClient::send(const char* method, const std::string& path,
                                     const std::string& body) {
  try {
    return connection_->request(method, path, "application/json", body);
  } catch (const http::ClientFailure& f) {
    throw_unreachable(base_url_, f);
  }
}

nlohmann::json ApiClient::get(const std::string& path) {
  return decode(send("GET", path));
}

nlohmann::json ApiClient::del(const std::string& path) {
  return decode(send("DELETE", path));
}

nlohmann::json ApiClient::patch(const std::string& path, const nlohmann::json& body) {
  return decode(send("PATCH", path, body.dump()));
}

void ApiClient::set_token(const std::string& token) {
  if (token.empty() || token.size() > 4096 ||
      std::any_of(token.begin(), token.end(),
                  [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
    throw InputError("token", "a token is one word of printable characters");
  connection_->set_authorization("Bearer " + token);
}

nlohmann::json ApiClient::post(const std::string& path, const nlohmann::json& body) {
  return post_text(path, body.dump());
}

nlohmann::json ApiClient::post_text(const std::string& path, const std::string& json_body) {
  return decode(send("POST", path, json_body));
}

std::string ApiClient::get_text(const std::string& path,
                                std::map<std::string, std::string>& headers) {
  http::ClientResponse r = send("GET", path);
  if (r.status != 200) decode(r);
  for (const auto& [k, v] : r.headers) headers[k] = v;
  return std::move(r.body);
}

std::string default_controller_url(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("ZS_CONTROLLER"); env && *env) return env;
  return "http://127.0.0.1:7070";
}

}  // namespace zs
