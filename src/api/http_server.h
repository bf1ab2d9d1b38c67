// The controller's HTTP/JSON API (docs/api.md): routes under /api/v1/ bound to a ClusterApi,
// JSON errors {"error":{"code","message","field"}}, request size limits, and /metrics.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "api/auth_failures.h"
#include "api/cluster_api.h"
#include "api/http_router.h"
#include "api/identity_api.h"
#include "api/tls_socket.h"

namespace zs {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 7070;                         // 0 = any free port
  std::size_t max_body_bytes = 48u << 20;  // larger requests get 413
  // Threads for ordinary requests, started as needed; beyond it connections take turns. A
  // connection holds one only while a whole request is served (long polls hold none).
  int threads = 4096;
  // Threads kept for the agents' routes (/api/v1/agents/): other traffic cannot take them.
  int agent_threads = 64;
  int max_connections = 0;             // in all; 0 = what the descriptor limit allows
  int max_connections_per_peer = 512;  // from one client address
  int request_timeout_s = 10;          // a request must arrive whole within this (+1 s a MiB)
  // Every request but GET /api/v1/health needs a bearer token (issue 15). Off (zs controller
  // --insecure-no-auth) every request acts as a cluster admin named `insecure_user`, and jobs
  // keep the user and tenant their request names.
  bool require_auth = true;
  std::string insecure_user = "anonymous";
  // HTTPS only, with this certificate (zs controller --tls-cert/--tls-key); nullptr = HTTP.
  std::shared_ptr<tls::Context> tls;
};

// Who may call a route: anyone, any authenticated caller, or a caller `authorize` allows the
// action (for job actions: any user here; the job itself is checked once it is known).
struct RouteAccess {
  enum class Kind { open, authenticated, action } kind = Kind::action;
  Action action = Action::read_job;
};

struct RouteInfo {
  std::string method, pattern;
  RouteAccess access;
};

class HttpServer {
 public:
  // `identities` may be null only without require_auth.
  HttpServer(ClusterApi& api, IdentityApi* identities, HttpServerOptions options);
  ~HttpServer();
  // Binds the socket; returns the port (useful with port 0). Throws std::runtime_error.
  int bind();
  void serve();  // blocks until stop()
  void stop();
  http::ListenerStats listener_stats() const { return listener_->stats(); }
  // Every route, with who may call it (the access matrix test walks these).
  const std::vector<RouteInfo>& routes() const { return routes_; }
  // Serves one request without a socket (tests): routing, authentication, the handler.
  void handle(http::Request& req, http::Response& res) const;

 private:
  using AuthedHandler =
      std::function<void(http::Request& req, http::Response& res, const Principal& who)>;
  void add_routes();
  void add_identity_routes();  // identity_routes.cpp
  void add_usage_routes();     // usage_routes.cpp
  void add_shares_routes();    // shares_routes.cpp
  void route(std::string method, const std::string& pattern, RouteAccess access,
             AuthedHandler handler);
  // The caller, or an answer (401, 403, 429) already written to `res`.
  std::optional<Principal> authenticate(const http::Request& req, const RouteAccess& access,
                                        http::Response& res) const;
  ClusterApi& api_;
  IdentityApi* identities_;
  HttpServerOptions options_;
  std::vector<RouteInfo> routes_;
  mutable AuthFailures failures_;
  http::Router router_;
  std::unique_ptr<http::Listener> listener_;
};

}  // namespace zs
