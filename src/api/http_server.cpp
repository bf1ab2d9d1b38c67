#include "api/http_server.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "api/api_error.h"
#include "api/file_slice.h"
#include "api/http_client.h"
#include "api/json_codec.h"
#include "api/json_fields.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {
namespace {

using nlohmann::json;

void send_json(http::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(http::Response& res, int status, const std::string& code,
                const std::string& message, const std::string& field = "") {
  json e{{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  send_json(res, status, json{{"error", e}});
}

// Runs a handler; whatever it throws becomes a JSON error, never a crash.
template <typename F>
http::Handler guarded(F&& f) {
  return [f = std::forward<F>(f)](http::Request& req, http::Response& res) {
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

json parse_body(const http::Request& req) {
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
      "# HELP zs_scheduler_refused_starts_total Scheduler decisions refused by the controller's "
      "check (a policy bug; see the controller's log).\n# TYPE zs_scheduler_refused_starts_total "
      "counter\nzs_scheduler_refused_starts_total {}\n",
      s.refused_starts);
  out += fmt::format(
      "# HELP zs_store_transactions_total Durable store transactions (group commits).\n# TYPE "
      "zs_store_transactions_total counter\nzs_store_transactions_total {}\n",
      s.transactions);
  out += fmt::format(
      "# HELP zs_jobs_purged_total Finished jobs forgotten after --keep-finished-s.\n# TYPE "
      "zs_jobs_purged_total counter\nzs_jobs_purged_total {}\n",
      s.purged);
  return out;
}

}  // namespace

void send_protocol_error(int status, const std::string& message, http::Response& res) {
  const char* code = status == 404                                     ? "not_found"
                     : status == 405                                   ? "method_not_allowed"
                     : status == 408                                   ? "request_timeout"
                     : status == 411                                   ? "length_required"
                     : status == 413 || status == 414 || status == 431 ? "too_large"
                     : status >= 500                                   ? "internal"
                                                                       : "bad_request";
  send_error(res, status, code, message);
}

HttpServer::HttpServer(ClusterApi& api, HttpServerOptions options)
    : api_(api), options_(std::move(options)) {
  http::ListenerOptions lo;
  lo.host = options_.host;
  lo.port = options_.port;
  lo.max_threads = options_.threads;
  lo.limits.max_body_bytes = options_.max_body_bytes;
  add_routes();
  listener_ = std::make_unique<http::Listener>(
      lo,
      [this](http::Request& req, http::Response& res) {
        router_.dispatch(req, res, send_protocol_error);
      },
      send_protocol_error);
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind() {
  options_.port = listener_->bind();
  return options_.port;
}

void HttpServer::serve() {
  listener_->serve();
}

void HttpServer::stop() {
  if (listener_) listener_->stop();
}

void HttpServer::add_routes() {
  http::Router& s = router_;
  ClusterApi& api = api_;

  s.add("GET", "/api/v1/health", guarded([](http::Request&, http::Response& res) {
          send_json(res, 200, json{{"ok", true}});
        }));

  // Submit: one JobSpec object, or {"jobs":[JobSpec...]} for a batch.
  s.add("POST", "/api/v1/jobs", guarded([&api](http::Request& req, http::Response& res) {
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

  s.add("GET", "/api/v1/jobs", guarded([&api](http::Request& req, http::Response& res) {
          JobFilter f;
          if (req.has_param("state")) {
            const std::string st = req.param_value("state");
            if (st == "active") {
              f.active_only = true;
            } else {
              f.state = job_state_from_string(st);
              if (!f.state) throw InputError("state", "unknown job state '" + st + "'");
            }
          }
          if (req.has_param("user")) f.user = req.param_value("user");
          if (req.has_param("tenant")) f.tenant = req.param_value("tenant");
          if (req.has_param("after")) f.after = parse_id(req.param_value("after"), "after");
          if (req.has_param("limit")) {
            f.limit = parse_id(req.param_value("limit"), "limit");
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

  s.add("GET", "/api/v1/jobs/*", guarded([&api](http::Request& req, http::Response& res) {
          auto rec = api.get_job(job_in_path(api, req.matches[1]));
          send_json(res, 200, json{{"job", to_json(rec)}});
        }));

  auto cancel = guarded([&api](http::Request& req, http::Response& res) {
    bool one_task = false;
    const JobId id = job_in_path(api, req.matches[1], &one_task);
    auto rec = api.cancel(id, !one_task);
    send_json(res, 200, json{{"job", to_json(rec)}});
  });
  s.add("POST", "/api/v1/jobs/*/cancel", cancel);
  s.add("DELETE", "/api/v1/jobs/*", cancel);

  // Hold / release a pending job (scontrol hold / release). No body, or an empty object.
  auto hold = [&api](bool held) {
    return guarded([&api, held](http::Request& req, http::Response& res) {
      if (!req.body.empty()) {
        const json body = parse_body(req);
        if (!body.empty())
          throw InputError(json_fields::printable(body.begin().key()),
                           "unknown field (hold and release take no fields)");
      }
      bool one_task = false;
      const JobId id = job_in_path(api, req.matches[1], &one_task);
      send_json(res, 200, json{{"job", to_json(api.set_held(id, held, !one_task))}});
    });
  };
  s.add("POST", "/api/v1/jobs/*/hold", hold(true));
  s.add("POST", "/api/v1/jobs/*/release", hold(false));

  // Logs: the bytes of the output file from `offset` (at most 4 MiB per call). Followers call
  // again with X-ZS-Next-Offset until X-ZS-Job-State is terminal and nothing more comes. The
  // controller never opens the path itself: the path is the user's, and only the agent that
  // ran the attempt knows which file that attempt wrote (and serves only that).
  s.add("GET", "/api/v1/jobs/*/logs", guarded([&api](http::Request& req, http::Response& res) {
          const JobId id = job_in_path(api, req.matches[1]);
          const bool err = req.has_param("stream") && req.param_value("stream") == "stderr";
          if (req.has_param("stream") && !err && req.param_value("stream") != "stdout")
            throw InputError("stream", "expected stdout or stderr");
          std::uint64_t offset =
              req.has_param("offset") ? parse_id(req.param_value("offset"), "offset") : 0;
          LogLocation where = api.log_location(id, err);
          std::string data, why;
          if (where.attempt == 0) {
            why = "job " + std::to_string(where.job) + " has not started";
          } else if (where.node_logs_url.empty()) {
            why = "the node that ran job " + std::to_string(where.job) + " serves no logs";
          } else {
            try {
              ApiClient agent(where.node_logs_url, 5000);
              std::map<std::string, std::string> headers;
              data = agent.get_text("/api/v1/attempts/" + std::to_string(where.job) + "." +
                                        std::to_string(where.attempt) +
                                        "/log?stream=" + (err ? "stderr" : "stdout") +
                                        "&offset=" + std::to_string(offset),
                                    headers);
              if (data.size() > kMaxLogSlice) data.resize(kMaxLogSlice);
              for (const auto& [name, value] : headers)
                if (to_lower(name) == "x-zs-log-error") why = "agent: " + value;
            } catch (const ApiError& e) {
              // No data then; say why (the agent is gone, or forgot the attempt).
              why = "agent " + where.node_logs_url + ": " +
                    (e.status() == 0 ? std::string("no answer") : e.what());
            }
          }
          // Header values carry no control characters (no response splitting through a path).
          if (!why.empty()) res.set_header("X-ZS-Log-Error", json_fields::printable(why, 512));
          res.set_header("X-ZS-Next-Offset", std::to_string(offset + data.size()));
          res.set_header("X-ZS-Job-State", std::string(to_string(where.state)));
          res.set_header("X-ZS-Log-Path", json_fields::printable(where.path, 4096));
          res.status = 200;
          res.set_content(std::move(data), "text/plain; charset=utf-8");
        }));

  s.add("GET", "/api/v1/nodes", guarded([&api](http::Request&, http::Response& res) {
          json nodes = json::array();
          for (const auto& n : api.nodes()) nodes.push_back(node_json(n));
          send_json(res, 200, json{{"nodes", std::move(nodes)}});
        }));
  auto drain = [&api](bool drained) {
    return guarded([&api, drained](http::Request& req, http::Response& res) {
      std::string reason;
      if (!req.body.empty()) {
        json body = parse_body(req);
        for (const auto& [key, value] : body.items()) {
          if (key != "reason" || !drained)
            throw InputError(json_fields::printable(key),
                             drained ? "unknown field (a drain takes only \"reason\")"
                                     : "unknown field (a resume takes no fields)");
          if (!value.is_string()) throw InputError("reason", "expected a string");
          reason = std::string(trim(value.get_ref<const std::string&>()));
        }
        if (std::string problem = json_fields::text_problem(reason, kMaxReasonBytes);
            !problem.empty())
          throw InputError("reason", problem);
        for (unsigned char c : reason)
          if (c < 0x20 || c == 0x7f)
            throw InputError("reason", "control characters are not allowed in a reason");
      }
      send_json(res, 200,
                json{{"node", node_json(api.set_drained(req.matches[1], drained, reason))}});
    });
  };
  s.add("POST", "/api/v1/nodes/*/drain", drain(true));
  s.add("POST", "/api/v1/nodes/*/resume", drain(false));

  s.add("POST", "/api/v1/agents/*/sync", guarded([&api](http::Request& req, http::Response& res) {
          AgentReport report = agent_report_from_json(parse_body(req));
          send_json(res, 200, to_json(api.agent_sync(req.matches[1], report)));
        }));
  s.add("POST", "/api/v1/agents/*/exits", guarded([&api](http::Request& req, http::Response& res) {
          AgentReport report = agent_report_from_json(parse_body(req));
          send_json(res, 200, to_json(api.agent_exits(req.matches[1], report.exits)));
        }));

  s.add("GET", "/metrics", guarded([&api](http::Request&, http::Response& res) {
          res.set_content(metrics_text(api.stats()), "text/plain; version=0.0.4");
        }));
}

}  // namespace zs
