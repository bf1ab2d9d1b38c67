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
  // HTTP threads, started as needed. Each agent's long-poll sync holds one, so this should
  // exceed the number of agents plus concurrent clients; beyond it connections take turns.
  int threads = 4096;
};

class HttpServer {
 public:
  HttpServer(ClusterApi& api, HttpServerOptions options);
  ~HttpServer();
  // Binds the socket; returns the port (useful with port 0). Throws std::runtime_error.
  int bind();
  void serve();  // blocks until stop()
  void stop();

 private:
  void add_routes();
  ClusterApi& api_;
  HttpServerOptions options_;
  http::Router router_;
  std::unique_ptr<http::Listener> listener_;
};

}  // namespace zs
