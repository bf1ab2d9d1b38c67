#include "api/auth_failures.h"

namespace zs {

bool AuthFailures::throttled(const std::string& peer, TimeMs now) const {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  return it != peers_.end() && now - it->second.start < window_ms_ && it->second.failures >= burst_;
}

void AuthFailures::failed(const std::string& peer, TimeMs now) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    if (peers_.size() >= max_peers_) forget_old(now);
    if (peers_.size() >= max_peers_) peers_.erase(peers_.begin());  // all recent: drop one
    it = peers_.emplace(peer, Window{now, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= window_ms_) w = Window{now, 0};
  ++w.failures;
}

void AuthFailures::forget_old(TimeMs now) {
  std::erase_if(peers_, [&](const auto& entry) { return now - entry.second.start >= window_ms_; });
}

std::size_t AuthFailures::tracked() const {
  std::lock_guard lock(mu_);
  return peers_.size();
}

}  // namespace zs
