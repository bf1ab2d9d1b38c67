#include "api/http_deferred.h"

#include <utility>

namespace zs::http {

void WakeSink::set(std::function<void(std::uint64_t)> deliver) {
  std::lock_guard lock(mu_);
  deliver_ = std::move(deliver);
}

void WakeSink::deliver(std::uint64_t id) {
  std::lock_guard lock(mu_);
  if (deliver_) deliver_(id);
}

void Deferred::answer_with(std::chrono::milliseconds timeout,
                           std::function<void(Response&)> finish) {
  timeout_ = timeout;
  finish_ = std::move(finish);
}

void Deferred::wake() {
  std::shared_ptr<WakeSink> sink;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (woken_) return;  // delivered once already (or the listener saw it at bind)
    woken_ = true;
    sink = sink_;
    id = id_;
  }
  if (sink) sink->deliver(id);
}

bool Deferred::bind(std::shared_ptr<WakeSink> sink, std::uint64_t id) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
  id_ = id;
  return woken_;
}

void Deferred::finish(Response& res) {
  auto f = std::move(finish_);
  finish_ = nullptr;
  if (f) f(res);
}

}  // namespace zs::http
