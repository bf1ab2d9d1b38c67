// The controller's HTTP/JSON API (docs/api.md): routes under /api/v1/ bound to a ClusterApi,
// JSON errors {"error":{"code","message","field"}}, request size limits, and /metrics.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "api/cluster_api.h"
#include "api/http_router.h"

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
};

class HttpServer {
 public:
  HttpServer(ClusterApi& api, HttpServerOptions options);
  ~HttpServer();
  // Binds the socket; returns the port (useful with port 0). Throws std::runtime_error.
  int bind();
  void serve();  // blocks until stop()
  void stop();
  http::ListenerStats listener_stats() const { return listener_->stats(); }

 private:
  void add_routes();
  ClusterApi& api_;
  HttpServerOptions options_;
  http::Router router_;
  std::unique_ptr<http::Listener> listener_;
};

}  // namespace zs
