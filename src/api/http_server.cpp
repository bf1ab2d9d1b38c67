#include "api/http_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <charconv>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "api/api_error.h"
#include "api/json_codec.h"
#include "core/input_error.h"

namespace zs {
namespace {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message, const std::string& field = "") {
  json e{{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  send_json(res, status, json{{"error", e}});
}

// Runs a handler; whatever it throws becomes a JSON error, never a crash.
template <typename F>
httplib::Server::Handler guarded(F&& f) {
  return [f = std::forward<F>(f)](const httplib::Request& req, httplib::Response& res) {
    try {
      f(req, res);
    } catch (const InputError& e) {
      send_error(res, 400, "invalid", e.message(), e.where());
    } catch (const ApiError& e) {
      send_error(res, e.status(), e.code(), e.what(), e.field());
    } catch (const json::exception& e) {
      send_error(res, 400, "malformed_json", e.what());
    } catch (const std::bad_alloc&) {
      send_error(res, 413, "too_large", "the request needs more memory than allowed");
    } catch (const std::exception& e) {
      send_error(res, 500, "internal", e.what());
    }
  };
}

json parse_body(const httplib::Request& req) {
  if (req.body.empty()) throw InputError("", "empty request body: expected a JSON object");
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "malformed_json", "the request body is not valid JSON");
  if (!j.is_object()) throw InputError("", "expected a JSON object");
  return j;
}

std::uint64_t parse_id(const std::string& text, const char* what);

// A job named in a path: "17", or "17_3" for task 3 of array 17. Sets `task_form`.
JobId job_in_path(const ClusterApi& api, const std::string& text, bool* task_form = nullptr) {
  auto underscore = text.find('_');
  if (task_form) *task_form = underscore != std::string::npos;
  if (underscore == std::string::npos) return parse_id(text, "id");
  const JobId array = parse_id(text.substr(0, underscore), "id");
  const std::uint64_t task = parse_id(text.substr(underscore + 1), "id");
  if (task > 4'000'000) throw InputError("id", "array index out of range in '" + text + "'");
  return api.array_task(array, static_cast<int>(task));
}

std::uint64_t parse_id(const std::string& text, const char* what) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    throw InputError(what, "expected a non-negative integer, got '" + text + "'");
  return v;
}

json node_json(const NodeView& v) {
  json j = to_json(v.record);
  j["allocated"] = v.allocated;
  j["jobs"] = v.jobs;
  j["cpus_used"] = v.cpus_used;
  j["device_problems"] = v.device_problems;
  j["discovery"] = v.discovery;
  return j;
}

std::string metrics_text(const ClusterStats& s) {
  std::string out;
  auto gauge = [&](const char* name, const char* help, double value, const char* labels = "") {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0}{2} {3}\n", name, help, labels, value);
  };
  gauge("zs_jobs_pending", "Jobs waiting to start.", static_cast<double>(s.pending));
  gauge("zs_jobs_running", "Jobs running.", static_cast<double>(s.running));
  gauge("zs_jobs_finished", "Jobs ended and still remembered.", static_cast<double>(s.finished));
  gauge("zs_nodes_up", "Nodes accepting work.", s.nodes_up);
  gauge("zs_nodes_down", "Nodes not responding.", s.nodes_down);
  gauge("zs_nodes_drained", "Nodes drained by an operator.", s.nodes_drained);
  gauge("zs_accelerators_total", "Accelerators reported by agents.", s.accels_total);
  gauge("zs_accelerators_allocated", "Accelerators held by jobs.", s.accels_allocated);
  out += fmt::format(
      "# HELP zs_scheduler_passes_total Scheduling passes run.\n# TYPE zs_scheduler_passes_total "
      "counter\nzs_scheduler_passes_total {}\n",
      s.passes);
  out += fmt::format(
      "# HELP zs_jobs_started_total Job attempts started.\n# TYPE zs_jobs_started_total "
      "counter\nzs_jobs_started_total {}\n",
      s.started);
  out += fmt::format(
      "# HELP zs_store_transactions_total Durable store transactions (group commits).\n# TYPE "
      "zs_store_transactions_total counter\nzs_store_transactions_total {}\n",
      s.transactions);
  return out;
}

}  // namespace

HttpServer::HttpServer(ClusterApi& api, HttpServerOptions options)
    : api_(api), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_max_count(1'000'000);
  server_->set_keep_alive_timeout(30);
  server_->set_read_timeout(30, 0);
  server_->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second controller bind the same port
  // and steal half the requests. Only SO_REUSEADDR: a restart may reuse a port in TIME_WAIT.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Errors httplib produces itself (404 for an unknown path, 413 for a body over the limit,
  // 400 for a broken request) get the same JSON body as ours.
  server_->set_error_handler(httplib::Server::Handler([](const httplib::Request& req,
                                                         httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        send_error(res, 404, "not_found", "no such endpoint: " + req.method + " " + req.path);
        break;
      case 413:
        send_error(res, 413, "too_large", "the request body is larger than the limit");
        break;
      case 414:
        send_error(res, 414, "too_large", "the request URI is too long");
        break;
      case 405:
        send_error(res, 405, "method_not_allowed", req.method + " is not allowed here");
        break;
      default:
        send_error(res, res.status, res.status >= 500 ? "internal" : "bad_request",
                   "the request could not be handled (HTTP " + std::to_string(res.status) + ")");
    }
  }));
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, 500, "internal", "unexpected error");
      });
  // Before any body is read: a body must announce its length, so that the size limit holds
  // and a request without one does not wait for a body that never comes.
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST" && req.method != "PUT")
      return httplib::Server::HandlerResponse::Unhandled;
    if (req.has_header("Transfer-Encoding")) {
      send_error(res, 411, "length_required",
                 "chunked request bodies are not accepted: send Content-Length");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!req.has_header("Content-Length")) {
      send_error(res, 411, "length_required",
                 "a POST needs a Content-Length header (0 for no body)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  add_routes();
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind() {
  if (options_.port == 0) {
    int port = server_->bind_to_any_port(options_.host);
    if (port <= 0) throw std::runtime_error("cannot listen on " + options_.host);
    options_.port = port;
    return port;
  }
  if (!server_->bind_to_port(options_.host, options_.port))
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{} (in use?)", options_.host, options_.port));
  return options_.port;
}

void HttpServer::serve() {
  server_->listen_after_bind();
}

void HttpServer::stop() {
  if (server_) server_->stop();
}

void HttpServer::add_routes() {
  httplib::Server& s = *server_;
  ClusterApi& api = api_;

  s.Get("/api/v1/health", guarded([](const httplib::Request&, httplib::Response& res) {
          send_json(res, 200, json{{"ok", true}});
        }));

  // Submit: one JobSpec object, or {"jobs":[JobSpec...]} for a batch.
  s.Post("/api/v1/jobs", guarded([&api](const httplib::Request& req, httplib::Response& res) {
           json body = parse_body(req);
           std::vector<JobSpec> specs;
           if (body.contains("jobs")) {
             const json& list = body["jobs"];
             if (!list.is_array()) throw InputError("jobs", "expected an array of jobs");
             if (body.size() != 1) throw InputError("", "a batch has only the field \"jobs\"");
             specs.reserve(list.size());
             for (std::size_t i = 0; i < list.size(); ++i) {
               try {
                 specs.push_back(job_spec_from_json(list[i]));
               } catch (const InputError& e) {
                 throw InputError(
                     "jobs[" + std::to_string(i) + "]" + (e.where().empty() ? "" : "." + e.where()),
                     e.message());
               }
             }
           } else {
             specs.push_back(job_spec_from_json(body));
           }
           auto ids = api.submit(std::move(specs));
           json out{{"ids", ids}};
           if (ids.size() == 1) out["id"] = ids.front();
           send_json(res, 201, out);
         }));

  s.Get("/api/v1/jobs", guarded([&api](const httplib::Request& req, httplib::Response& res) {
          JobFilter f;
          if (req.has_param("state")) {
            const std::string st = req.get_param_value("state");
            if (st == "active") {
              f.active_only = true;
            } else {
              f.state = job_state_from_string(st);
              if (!f.state) throw InputError("state", "unknown job state '" + st + "'");
            }
          }
          if (req.has_param("user")) f.user = req.get_param_value("user");
          if (req.has_param("tenant")) f.tenant = req.get_param_value("tenant");
          if (req.has_param("after")) f.after = parse_id(req.get_param_value("after"), "after");
          if (req.has_param("limit")) {
            f.limit = parse_id(req.get_param_value("limit"), "limit");
            if (f.limit == 0 || f.limit > 100'000)
              throw InputError("limit", "must be between 1 and 100000");
          }
          JobPage page = api.list_jobs(f);
          json jobs = json::array();
          for (const auto& j : page.jobs) jobs.push_back(to_json(j));
          json out{{"jobs", std::move(jobs)}};
          if (page.next_after) out["next_after"] = page.next_after;
          send_json(res, 200, out);
        }));

  s.Get(R"(/api/v1/jobs/([^/]+))",
        guarded([&api](const httplib::Request& req, httplib::Response& res) {
          auto rec = api.get_job(job_in_path(api, req.matches[1]));
          send_json(res, 200, json{{"job", to_json(rec)}});
        }));

  auto cancel = guarded([&api](const httplib::Request& req, httplib::Response& res) {
    bool one_task = false;
    const JobId id = job_in_path(api, req.matches[1], &one_task);
    auto rec = api.cancel(id, !one_task);
    send_json(res, 200, json{{"job", to_json(rec)}});
  });
  s.Post(R"(/api/v1/jobs/([^/]+)/cancel)", cancel);
  s.Delete(R"(/api/v1/jobs/([^/]+))", cancel);

  // Logs: the bytes of the output file from `offset` (at most 4 MiB per call). Followers call
  // again with X-ZS-Next-Offset until X-ZS-Job-State is terminal and nothing more comes.
  s.Get(R"(/api/v1/jobs/([^/]+)/logs)",
        guarded([&api](const httplib::Request& req, httplib::Response& res) {
          const JobId id = job_in_path(api, req.matches[1]);
          const bool err = req.has_param("stream") && req.get_param_value("stream") == "stderr";
          if (req.has_param("stream") && !err && req.get_param_value("stream") != "stdout")
            throw InputError("stream", "expected stdout or stderr");
          std::uint64_t offset =
              req.has_param("offset") ? parse_id(req.get_param_value("offset"), "offset") : 0;
          LogLocation where = api.log_location(id, err);
          std::string data;
          std::ifstream in(where.path, std::ios::binary);
          if (in) {
            in.seekg(0, std::ios::end);
            const std::uint64_t size = static_cast<std::uint64_t>(in.tellg());
            if (offset < size) {
              const std::uint64_t n = std::min<std::uint64_t>(size - offset, 4u << 20);
              data.resize(n);
              in.seekg(static_cast<std::streamoff>(offset));
              in.read(data.data(), static_cast<std::streamsize>(n));
              data.resize(static_cast<std::size_t>(in.gcount()));
            }
          }
          res.set_header("X-ZS-Next-Offset", std::to_string(offset + data.size()));
          res.set_header("X-ZS-Job-State", std::string(to_string(where.state)));
          res.set_header("X-ZS-Log-Path", where.path);
          res.status = 200;
          res.set_content(std::move(data), "text/plain; charset=utf-8");
        }));

  s.Get("/api/v1/nodes", guarded([&api](const httplib::Request&, httplib::Response& res) {
          json nodes = json::array();
          for (const auto& n : api.nodes()) nodes.push_back(node_json(n));
          send_json(res, 200, json{{"nodes", std::move(nodes)}});
        }));
  auto drain = [&api](bool drained) {
    return guarded([&api, drained](const httplib::Request& req, httplib::Response& res) {
      std::string reason;
      if (!req.body.empty()) {
        json body = parse_body(req);
        if (body.contains("reason")) {
          if (!body["reason"].is_string()) throw InputError("reason", "expected a string");
          reason = body["reason"].get<std::string>();
        }
      }
      send_json(res, 200,
                json{{"node", node_json(api.set_drained(req.matches[1], drained, reason))}});
    });
  };
  s.Post(R"(/api/v1/nodes/([^/]+)/drain)", drain(true));
  s.Post(R"(/api/v1/nodes/([^/]+)/resume)", drain(false));

  s.Post(R"(/api/v1/agents/([^/]+)/sync)",
         guarded([&api](const httplib::Request& req, httplib::Response& res) {
           AgentReport report = agent_report_from_json(parse_body(req));
           send_json(res, 200, to_json(api.agent_sync(req.matches[1], report)));
         }));
  s.Post(R"(/api/v1/agents/([^/]+)/exits)",
         guarded([&api](const httplib::Request& req, httplib::Response& res) {
           AgentReport report = agent_report_from_json(parse_body(req));
           send_json(res, 200, to_json(api.agent_exits(req.matches[1], report.exits)));
         }));

  s.Get("/metrics", guarded([&api](const httplib::Request&, httplib::Response& res) {
          res.set_content(metrics_text(api.stats()), "text/plain; version=0.0.4");
        }));
}

}  // namespace zs
