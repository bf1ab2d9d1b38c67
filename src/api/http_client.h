// A client of the controller's API, used by the CLI and the agents. Keeps one keep-alive
// connection. An error answer becomes ApiError with the server's code, message and field; a
// controller that cannot be reached becomes ApiError(0, "unreachable", "cannot reach ..."), or
// ApiError(0, "refused", ...) when nothing listens at its address.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace zs {
namespace http {
class ClientConnection;
struct ClientResponse;
}  // namespace http

class ApiClient {
 public:
  // base_url: http://host:port or https://host:port (no path). Throws InputError("--controller")
  // if malformed. https: the server's certificate is verified against tls::client_ca_file();
  // a failure is ApiError(0, "tls", ...), never a retry in plain text.
  explicit ApiClient(const std::string& base_url, int timeout_ms = 30'000);
  ~ApiClient();
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;

  nlohmann::json get(const std::string& path);
  nlohmann::json post(const std::string& path, const nlohmann::json& body);
  nlohmann::json post_text(const std::string& path, const std::string& json_body);
  // A non-JSON body (logs), with the response headers.
  std::string get_text(const std::string& path, std::map<std::string, std::string>& headers);
  nlohmann::json del(const std::string& path);
  nlohmann::json patch(const std::string& path, const nlohmann::json& body);
  void set_timeout_ms(int ms);
  // Sends `Authorization: Bearer TOKEN` from now on. Throws InputError for a token that is not
  // one printable word (it would break the request).
  void set_token(const std::string& token);
  const std::string& base_url() const { return base_url_; }

 private:
  http::ClientResponse send(const char* method, const std::string& path,
                            const std::string& body = "");
  std::string base_url_;
  std::unique_ptr<http::ClientConnection> connection_;
};

// The controller URL the CLI uses: the flag, else $ZS_CONTROLLER, else http://127.0.0.1:7070.
std::string default_controller_url(const std::string& flag_value);

}  // namespace zs
