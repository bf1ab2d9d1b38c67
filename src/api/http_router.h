// Routes requests by method and path pattern. A pattern is a path whose `*` segments match any
// one segment, e.g. "/api/v1/jobs/*/cancel"; the matched segments land in Request::matches.
#pragma once
#include <string>
#include <vector>

#include "api/http_listener.h"

namespace zs::http {

class Router {
 public:
  void add(std::string method, const std::string& pattern, Handler handler);
  // Runs the matching route; 404 when no pattern matches the path, 405 when only the method
  // differs (with an Allow header).
  void dispatch(Request& req, Response& res, const ErrorResponder& on_error) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& path,
                    std::vector<std::string>& captures);
  std::vector<Route> routes_;
};

}  // namespace zs::http
