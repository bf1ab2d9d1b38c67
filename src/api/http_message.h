// HTTP/1.1 requests and responses as the API's own server and client see them. The API only
// needs what it uses: a method, a decoded path and query, a few headers and a whole body.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zs::http {

using Headers = std::vector<std::pair<std::string, std::string>>;
class Deferred;

// Header names compare case-insensitively (RFC 9110 §5.1).
bool same_header_name(std::string_view a, std::string_view b);
const std::string* find_header(const Headers& headers, std::string_view name);

struct Request {
  std::string method;                                      // "GET", "POST", ...
  std::string path;                                        // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::vector<std::string> matches;  // [0] = path, then one entry per `*` in the route
  std::string peer;                  // the client's address ("127.0.0.1", "::1"; "" in tests)

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
  const std::string* param(std::string_view name) const;  // the first with that name
  bool has_param(std::string_view name) const { return param(name) != nullptr; }
  std::string param_value(std::string_view name) const {
    const std::string* v = param(name);
    return v ? *v : std::string();
  }
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  Headers headers;  // besides Content-Type, Content-Length and Connection
  // Set by a handler that answers later (a long poll, see http_deferred.h): nothing is sent now.
  std::shared_ptr<Deferred> deferred;

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  void set_content(std::string b, std::string type) {
    body = std::move(b);
    content_type = std::move(type);
  }
};

const char* reason_phrase(int status);

}  // namespace zs::http
