#include "api/http_router.h"

namespace zs::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

void Router::add(std::string method, const std::string& pattern, Handler handler) {
  Route r{std::move(method), {}, std::move(handler)};
  for (auto s : split_path(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& path,
                   std::vector<std::string>& captures) {
  if (route.segments.size() != path.size()) return false;
  captures.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (route.segments[i] == "*") {
      if (path[i].empty()) return false;
      captures.emplace_back(path[i]);
    } else if (route.segments[i] != path[i]) {
      return false;
    }
  }
  return true;
}

void Router::dispatch(Request& req, Response& res, const ErrorResponder& on_error) const {
  const auto path = split_path(req.path);
  std::vector<std::string> captures;
  std::string allowed;
  for (const Route& route : routes_) {
    if (!match(route, path, captures)) continue;
    if (route.method != req.method) {
      if (allowed.find(route.method) == std::string::npos)
        allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    req.matches.assign(1, req.path);
    for (auto& c : captures) req.matches.push_back(std::move(c));
    route.handler(req, res);
    return;
  }
  if (allowed.empty()) {
    on_error(404, "no such endpoint: " + req.method + " " + req.path, res);
  } else {
    on_error(405, req.method + " is not allowed on " + req.path + " (allowed: " + allowed + ")",
             res);
    res.headers.emplace_back("Allow", allowed);
  }
}

}  // namespace zs::http
