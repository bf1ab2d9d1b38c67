#include "api/http_server.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "api/api_error.h"
#include "api/audit_log.h"
#include "api/file_slice.h"
#include "api/http_client.h"
#include "api/http_deferred.h"
#include "api/http_json.h"
#include "api/json_codec.h"
#include "api/json_fields.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {
namespace {

using nlohmann::json;

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

// A deferred answer's `finish`, with the same error handling as guarded().
template <typename F>
std::function<void(http::Response&)> guarded_finish(F&& f) {
  return [h = guarded([f = std::forward<F>(f)](http::Request&, http::Response& res) { f(res); })](
             http::Response& res) {
    http::Request none;
    h(none, res);
  };
}

std::string metrics_text(const ClusterStats& s, const http::ListenerStats& h) {
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
      "# HELP zs_scheduler_refused_preemptions_total Preemptions (reclaims) refused by the "
      "controller's check (a policy bug; see the controller's log).\n# TYPE "
      "zs_scheduler_refused_preemptions_total counter\nzs_scheduler_refused_preemptions_total "
      "{}\n",
      s.refused_preemptions);
  out += fmt::format(
      "# HELP zs_store_transactions_total Durable store transactions (group commits).\n# TYPE "
      "zs_store_transactions_total counter\nzs_store_transactions_total {}\n",
      s.transactions);
  out += fmt::format(
      "# HELP zs_jobs_purged_total Finished jobs forgotten after --keep-finished-s.\n# TYPE "
      "zs_jobs_purged_total counter\nzs_jobs_purged_total {}\n",
      s.purged);
  // Prometheus label values escape backslash, quote and newline.
  auto label = [](const std::string& v) {
    std::string out;
    for (char c : v)
      out += c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : std::string(1, c);
    return out;
  };
  if (!s.guarantees.empty()) {
    out +=
        "# HELP zs_tenant_guarantees Accelerators tenants are guaranteed, summed per type "
        "(--tenants).\n# TYPE zs_tenant_guarantees gauge\n";
    for (const auto& g : s.guarantees)
      out += fmt::format("zs_tenant_guarantees{{type=\"{}\"}} {}\n", label(g.type), g.guaranteed);
    out +=
        "# HELP zs_tenant_guarantee_shortfall Guaranteed accelerators the nodes up cannot hold, "
        "per type (0 when they fit).\n# TYPE zs_tenant_guarantee_shortfall gauge\n";
    for (const auto& g : s.guarantees)
      out += fmt::format("zs_tenant_guarantee_shortfall{{type=\"{}\"}} {}\n", label(g.type),
                         g.guaranteed > g.available ? g.guaranteed - g.available : 0);
  }
  out += fmt::format(
      "# HELP zs_usage_unbilled_attempts_total Attempts whose usage record was unusable and not "
      "written (see the controller's log).\n# TYPE zs_usage_unbilled_attempts_total "
      "counter\nzs_usage_unbilled_attempts_total {}\n",
      s.unbilled_attempts);
  gauge("zs_http_connections", "Open HTTP connections.", h.connections);
  gauge("zs_http_connections_waiting",
        "Connections without a thread: idle, partly received, or being written.", h.parked);
  gauge("zs_http_long_polls", "Agent syncs parked until they have orders.", h.deferred);
  out += fmt::format(
      "# HELP zs_http_busy_threads HTTP threads serving a request, by pool.\n# TYPE "
      "zs_http_busy_threads gauge\nzs_http_busy_threads{{pool=\"general\"}} {}\n"
      "zs_http_busy_threads{{pool=\"agents\"}} {}\n",
      h.busy, h.busy_reserved);
  out += fmt::format(
      "# HELP zs_http_refused_total Connections refused over a connection limit.\n# TYPE "
      "zs_http_refused_total counter\nzs_http_refused_total {}\n",
      h.refused);
  out += fmt::format(
      "# HELP zs_http_request_timeouts_total Requests answered 408 (not whole in time).\n# TYPE "
      "zs_http_request_timeouts_total counter\nzs_http_request_timeouts_total {}\n",
      h.timed_out);
  out += fmt::format(
      "# HELP zs_http_tls_failed_total TLS handshakes that failed or timed out, and plain HTTP "
      "to the HTTPS port.\n# TYPE zs_http_tls_failed_total counter\nzs_http_tls_failed_total "
      "{}\n",
      h.tls_failed);
  return out;
}

constexpr int kThrottleDelayMs = 1000;

bool is_job_action(Action a) {
  return a == Action::read_job || a == Action::read_job_secrets || a == Action::read_logs ||
         a == Action::cancel_job || a == Action::hold_job;
}

std::string_view action_words(Action a) {
  switch (a) {
    case Action::submit_job:
      return "submit jobs";
    case Action::list_jobs:
      return "list jobs";
    case Action::read_job:
      return "read this job";
    case Action::read_job_secrets:
      return "read this job's environment and script";
    case Action::read_logs:
      return "read this job's output";
    case Action::cancel_job:
      return "cancel this job";
    case Action::hold_job:
      return "hold or release this job";
    case Action::read_nodes:
      return "list nodes";
    case Action::drain_node:
      return "drain or resume nodes";
    case Action::read_metrics:
      return "read the metrics";
    case Action::read_usage:
      return "read usage reports";
    case Action::read_identities:
      return "read tenants, users and tokens";
    case Action::manage_identities:
      return "change tenants, users and tokens";
    case Action::agent_report:
      return "speak for this node";
  }
  return "do this";
}

std::string denial(const Principal& who, Action action) {
  if (who.kind == Principal::Kind::node)
    return "node credential of '" + who.name + "' may not " + std::string(action_words(action)) +
           (action == Action::agent_report ? "" : " (node credentials serve agents only)");
  if (action == Action::agent_report)
    return "user tokens may not speak for a node: start the agent with --token-file holding "
           "`zs admin node-token create NAME`";
  return "user '" + who.name + "' (" + std::string(to_string(who.role)) + ") may not " +
         std::string(action_words(action));
}

bool sees_every_job(const Principal& who) {
  return who.role == Role::cluster_admin || who.role == Role::operator_;
}

JobOwner owner_of(const JobRecord& rec) {
  return JobOwner{rec.spec.user, rec.spec.tenant};
}

// Environment values and the script are the owner's and the admins' (core/access.h); others
// see the variables' names only.
json job_json(JobRecord rec, const Principal& who, bool auth) {
  const JobOwner owner = owner_of(rec);
  if (auth && authorize(who, Action::read_job_secrets, &owner) != Verdict::allow) {
    for (std::string& e : rec.spec.env) e = e.substr(0, e.find('=')) + "=(hidden)";
    if (!rec.spec.script.empty()) rec.spec.script = "(hidden)";
  }
  return to_json(rec);
}

// A job as GET shows it: with its estimated start from the last forecast (null when none).
json with_estimate(json job, const ClusterApi& api, JobId id) {
  const std::optional<TimeMs> at = api.estimated_start(id);
  job["estimated_start_ms"] = at ? json(*at) : json(nullptr);
  return job;
}

// The job a path names, when `who` may do `action` on it: another tenant's job is "not found"
// exactly as a job that does not exist (no id reveals what others run).
JobRecord job_for(const ClusterApi& api, const http::Request& req, const Principal& who,
                  Action action, bool auth, bool* task_form = nullptr) {
  const std::string& text = req.matches[1];
  const JobId id = job_in_path(api, text, task_form);
  JobRecord rec = api.get_job(id);
  if (!auth) return rec;
  const JobOwner owner = owner_of(rec);
  switch (authorize(who, action, &owner)) {
    case Verdict::allow:
      return rec;
    case Verdict::forbidden:
      throw ApiError(403, "forbidden", denial(who, action));
    case Verdict::not_found:
      audit_denial(req.peer, req.method, req.path, 404,
                   "user '" + who.name + "' asked for another tenant's job");
      break;
  }
  auto underscore = text.find('_');
  if (underscore == std::string::npos) throw ApiError::not_found("no job " + std::to_string(id));
  throw ApiError::not_found("no task " + text.substr(underscore + 1) + " in array " +
                            text.substr(0, underscore));
}

// A submitted job's user is its caller; its tenant the one it asks for (-A) when the caller
// belongs to it, else the caller's first. Without authentication, the request says both.
void charge_to_caller(JobSpec& spec, const Principal& who, bool auth, const IdentityApi* ids,
                      const std::string& field_prefix) {
  if (!auth) {
    if (spec.user.empty()) spec.user = who.name;
    if (spec.tenant.empty()) spec.tenant = "default";
    // Its tasks run as the Unix user of that name when there is one; "" = as the agent.
    spec.unix_user = unix_user_problem(spec.user).empty() ? spec.user : "";
    return;
  }
  if (!spec.user.empty() && spec.user != who.name)
    throw ApiError(403, "forbidden",
                   "a job's user is its token's: '" + who.name + "', not '" +
                       json_fields::printable(spec.user, 64) + "'",
                   field_prefix + "user");
  std::string tenant;
  if (submit_tenant(who, spec.tenant, tenant) != Verdict::allow) {
    std::string mine;
    for (const auto& t : who.tenants) mine += (mine.empty() ? "" : ", ") + t;
    throw ApiError(403, "forbidden",
                   spec.tenant.empty()
                       ? "user '" + who.name + "' belongs to no tenant: name one with -A"
                       : "user '" + who.name + "' may not charge tenant '" +
                             json_fields::printable(spec.tenant, 64) +
                             "' (its tenants: " + (mine.empty() ? "none" : mine) + ")",
                   field_prefix + "tenant");
  }
  if (ids && !ids->tenant_exists(tenant))
    throw InputError(field_prefix + "tenant",
                     "no tenant '" + json_fields::printable(tenant, 64) + "'");
  spec.user = who.name;
  spec.tenant = tenant;
  spec.unix_user = who.unix_user;  // the account the user is bound to, never the request's word
}

}  // namespace

void send_protocol_error(int status, const std::string& message, http::Response& res) {
  const char* code = status == 404                                     ? "not_found"
                     : status == 405                                   ? "method_not_allowed"
                     : status == 408                                   ? "request_timeout"
                     : status == 411                                   ? "length_required"
                     : status == 413 || status == 414 || status == 431 ? "too_large"
                     : status == 503                                   ? "unavailable"
                     : status >= 500                                   ? "internal"
                                                                       : "bad_request";
  send_error(res, status, code, message);
}

HttpServer::HttpServer(ClusterApi& api, IdentityApi* identities, HttpServerOptions options)
    : api_(api), identities_(identities), options_(std::move(options)) {
  if (options_.require_auth && !identities_)
    throw std::logic_error("HttpServer: authentication needs an IdentityApi");
  http::ListenerOptions lo;
  lo.host = options_.host;
  lo.port = options_.port;
  lo.max_threads = options_.threads;
  lo.reserved_threads = options_.agent_threads;
  lo.reserved_prefix = "/api/v1/agents/";
  lo.max_connections = options_.max_connections;
  lo.max_connections_per_peer = options_.max_connections_per_peer;
  lo.request_timeout_s = options_.request_timeout_s;
  lo.tls = options_.tls;
  lo.limits.max_body_bytes = options_.max_body_bytes;
  add_routes();
  add_identity_routes();
  add_usage_routes();
  add_shares_routes();
  listener_ = std::make_unique<http::Listener>(
      lo, [this](http::Request& req, http::Response& res) { handle(req, res); },
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

void HttpServer::handle(http::Request& req, http::Response& res) const {
  router_.dispatch(req, res, send_protocol_error);
}

void HttpServer::route(std::string method, const std::string& pattern, RouteAccess access,
                       AuthedHandler handler) {
  routes_.push_back(RouteInfo{method, pattern, access});
  auto serve =
      guarded([this, access, h = std::move(handler)](http::Request& req, http::Response& res) {
        std::optional<Principal> who = authenticate(req, access, res);
        if (who) h(req, res, *who);
      });
  router_.add(std::move(method), pattern, [serve](http::Request& req, http::Response& res) {
    serve(req, res);
    if (res.status == 401 || res.status == 403 || res.status == 429) {
      const json body = json::parse(res.body, nullptr, false);
      audit_denial(req.peer, req.method, req.path, res.status,
                   body.is_object() ? body["error"].value("message", "") : res.body);
    }
  });
}

std::optional<Principal> HttpServer::authenticate(const http::Request& req,
                                                  const RouteAccess& access,
                                                  http::Response& res) const {
  if (access.kind == RouteAccess::Kind::open) return Principal{};
  if (!options_.require_auth) {
    Principal admin;
    admin.name = options_.insecure_user;
    admin.role = Role::cluster_admin;
    admin.tenants = {"default"};
    admin.unix_user = options_.insecure_user;
    return admin;
  }
  const std::string* header = req.header("Authorization");
  std::optional<Principal> who;
  if (header && header->size() > 7 && to_lower(header->substr(0, 7)) == "bearer ")
    who = identities_->authenticate(trim(std::string_view(*header).substr(7)));
  if (!who) {
    // Guessing is slowed down per client address: past a burst of failures, each further one
    // is answered (429) only after a second, without holding a thread. A valid token is never
    // held up by someone else's failures from the same address (a shared login node).
    const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    const bool over_budget = failures_.throttled(req.peer, now);
    failures_.failed(req.peer, now);
    if (over_budget) {
      audit_denial(req.peer, req.method, req.path, 429, "repeated bad credentials (delayed)");
      auto later = std::make_shared<http::Deferred>();
      later->answer_with(std::chrono::milliseconds(kThrottleDelayMs), [](http::Response& r) {
        r.set_header("Retry-After", "1");
        send_error(r, 429, "too_many_failures",
                   "too many requests with bad credentials from this address: slow down");
      });
      res.deferred = std::move(later);
      return std::nullopt;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "unauthenticated",
               header ? "the bearer token is not valid (unknown, expired or revoked)"
                      : "this request needs a token: 'Authorization: Bearer TOKEN' (zs reads "
                        "--token-file, $ZS_TOKEN or ~/.config/zs/token)");
    return std::nullopt;
  }
  if (access.kind == RouteAccess::Kind::authenticated) return who;
  if (is_job_action(access.action)) {
    // The job is checked once known; here only: a user, not a node.
    if (who->kind == Principal::Kind::user) return who;
  } else if (authorize(*who, access.action, nullptr,
                       req.matches.size() > 1 ? req.matches[1] : "") == Verdict::allow) {
    return who;
  }
  send_error(res, 403, "forbidden", denial(*who, access.action));
  return std::nullopt;
}

void HttpServer::add_routes() {
  ClusterApi& api = api_;
  const bool auth = options_.require_auth;
  IdentityApi* identities = identities_;
  using Kind = RouteAccess::Kind;
  auto open = RouteAccess{Kind::open, Action::read_job};
  auto needs = [](Action a) { return RouteAccess{Kind::action, a}; };

  route("GET", "/api/v1/health", open, [](http::Request&, http::Response& res, const Principal&) {
    send_json(res, 200, json{{"ok", true}});
  });

  route(
      "GET", "/api/v1/whoami", RouteAccess{Kind::authenticated, Action::read_job},
      [](http::Request&, http::Response& res, const Principal& who) {
        json out{{"name", who.name}, {"kind", who.kind == Principal::Kind::node ? "node" : "user"}};
        if (who.kind == Principal::Kind::user) {
          out["role"] = std::string(to_string(who.role));
          out["tenants"] = who.tenants;
          out["unix_user"] = who.unix_user;
        }
        send_json(res, 200, out);
      });

  // Submit: one JobSpec object, or {"jobs":[JobSpec...]} for a batch. The job's user is the
  // caller; its tenant the requested one (-A) if the caller belongs to it, else its first.
  route("POST", "/api/v1/jobs", needs(Action::submit_job),
        [&api, auth, identities](http::Request& req, http::Response& res, const Principal& who) {
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
          for (std::size_t i = 0; i < specs.size(); ++i)
            charge_to_caller(specs[i], who, auth, identities,
                             specs.size() > 1 || body.contains("jobs")
                                 ? "jobs[" + std::to_string(i) + "]."
                                 : "");
          auto ids = api.submit(std::move(specs));
          json out{{"ids", ids}};
          if (ids.size() == 1) out["id"] = ids.front();
          send_json(res, 201, out);
        });

  route("GET", "/api/v1/jobs", needs(Action::list_jobs),
        [&api, auth](http::Request& req, http::Response& res, const Principal& who) {
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
          if (auth && !sees_every_job(who)) f.tenants_only = who.tenants;
          JobPage page = api.list_jobs(f);
          json jobs = json::array();
          for (auto& j : page.jobs) {
            const JobId id = j.id;
            jobs.push_back(with_estimate(job_json(std::move(j), who, auth), api, id));
          }
          json out{{"jobs", std::move(jobs)}};
          if (page.next_after) out["next_after"] = page.next_after;
          send_json(res, 200, out);
        });

  route("GET", "/api/v1/jobs/*", needs(Action::read_job),
        [&api, auth](http::Request& req, http::Response& res, const Principal& who) {
          JobRecord rec = job_for(api, req, who, Action::read_job, auth);
          const JobId id = rec.id;
          send_json(res, 200,
                    json{{"job", with_estimate(job_json(std::move(rec), who, auth), api, id)}});
        });

  auto cancel = [&api, auth](http::Request& req, http::Response& res, const Principal& who) {
    bool one_task = false;
    const JobId id = job_for(api, req, who, Action::cancel_job, auth, &one_task).id;
    send_json(res, 200, json{{"job", job_json(api.cancel(id, !one_task), who, auth)}});
  };
  route("POST", "/api/v1/jobs/*/cancel", needs(Action::cancel_job), cancel);
  route("DELETE", "/api/v1/jobs/*", needs(Action::cancel_job), cancel);

  // Hold / release a pending job (scontrol hold / release). No body, or an empty object.
  auto hold = [&api, auth](bool held) {
    return [&api, held, auth](http::Request& req, http::Response& res, const Principal& who) {
      if (!req.body.empty()) {
        const json body = parse_body(req);
        if (!body.empty())
          throw InputError(json_fields::printable(body.begin().key()),
                           "unknown field (hold and release take no fields)");
      }
      bool one_task = false;
      const JobId id = job_for(api, req, who, Action::hold_job, auth, &one_task).id;
      send_json(res, 200, json{{"job", job_json(api.set_held(id, held, !one_task), who, auth)}});
    };
  };
  route("POST", "/api/v1/jobs/*/hold", needs(Action::hold_job), hold(true));
  route("POST", "/api/v1/jobs/*/release", needs(Action::hold_job), hold(false));

  // Logs: the bytes of the output file from `offset` (at most 4 MiB per call). Followers call
  // again with X-ZS-Next-Offset until X-ZS-Job-State is terminal and nothing more comes. The
  // controller never opens the path itself: the path is the user's, and only the agent that
  // ran the attempt knows which file that attempt wrote (and serves only that).
  route("GET", "/api/v1/jobs/*/logs", needs(Action::read_logs),
        [&api, auth](http::Request& req, http::Response& res, const Principal& who) {
          const JobId id = job_for(api, req, who, Action::read_logs, auth).id;
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
              if (!where.node_logs_key.empty()) agent.set_token(where.node_logs_key);
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
                    (e.status() == 0 && e.code() != "tls" ? std::string("no answer") : e.what());
            }
          }
          // Header values carry no control characters (no response splitting through a path).
          if (!why.empty()) res.set_header("X-ZS-Log-Error", json_fields::printable(why, 512));
          res.set_header("X-ZS-Next-Offset", std::to_string(offset + data.size()));
          res.set_header("X-ZS-Job-State", std::string(to_string(where.state)));
          res.set_header("X-ZS-Log-Path", json_fields::printable(where.path, 4096));
          res.status = 200;
          res.set_content(std::move(data), "text/plain; charset=utf-8");
        });

  route("GET", "/api/v1/nodes", needs(Action::read_nodes),
        [&api](http::Request&, http::Response& res, const Principal&) {
          json nodes = json::array();
          for (const auto& n : api.nodes()) nodes.push_back(node_json(n));
          send_json(res, 200, json{{"nodes", std::move(nodes)}});
        });
  auto drain = [&api](bool drained) {
    return [&api, drained](http::Request& req, http::Response& res, const Principal& who) {
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
      json node = node_json(api.set_drained(req.matches[1], drained, reason));
      audit(who, (drained ? "drained node " : "resumed node ") + req.matches[1] +
                     (reason.empty() ? "" : ": " + reason));
      send_json(res, 200, json{{"node", std::move(node)}});
    };
  };
  route("POST", "/api/v1/nodes/*/drain", needs(Action::drain_node), drain(true));
  route("POST", "/api/v1/nodes/*/resume", needs(Action::drain_node), drain(false));

  // The long poll: with no orders yet, the answer is deferred and the connection waits without
  // a thread until the controller has orders for the node or the wait is over. Only the node
  // itself may speak for it (a node credential bound to that name).
  route("POST", "/api/v1/agents/*/sync", needs(Action::agent_report),
        [&api](http::Request& req, http::Response& res, const Principal&) {
          AgentReport report = agent_report_from_json(parse_body(req));
          const std::string node = req.matches[1];
          auto later = std::make_shared<http::Deferred>();
          SyncAnswer answer = api.begin_agent_sync(node, report, [later] { later->wake(); });
          if (answer.orders) {
            send_json(res, 200, to_json(*answer.orders));
            return;
          }
          later->answer_with(std::chrono::milliseconds(answer.wait_ms),
                             guarded_finish([&api, node, wait = answer.wait](http::Response& r) {
                               send_json(r, 200, to_json(api.agent_orders(node, wait)));
                             }));
          res.deferred = std::move(later);
        });
  route("POST", "/api/v1/agents/*/exits", needs(Action::agent_report),
        [&api](http::Request& req, http::Response& res, const Principal&) {
          AgentReport report = agent_report_from_json(parse_body(req));
          send_json(res, 200, to_json(api.agent_exits(req.matches[1], report.exits)));
        });

  route("GET", "/metrics", needs(Action::read_metrics),
        [this, &api](http::Request&, http::Response& res, const Principal&) {
          res.set_content(metrics_text(api.stats(), listener_->stats()),
                          "text/plain; version=0.0.4");
        });
}

}  // namespace zs
