#include "api/peer_counts.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace zs::http {

std::string PeerCounts::key_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr).sin_addr;
    return std::string(reinterpret_cast<const char*>(&a), 4);
  }
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) return std::string(reinterpret_cast<const char*>(&a) + 12, 4);
    return std::string(reinterpret_cast<const char*>(&a), 16);
  }
  return {};  // another family (unix socket): all such peers share one count
}

std::string PeerCounts::describe(const std::string& key) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (key.size() == 4) inet_ntop(AF_INET, key.data(), text, sizeof text);
  if (key.size() == 16) inet_ntop(AF_INET6, key.data(), text, sizeof text);
  return text;
}

bool PeerCounts::admit(const std::string& key, int limit) {
  int& n = counts_[key];
  if (n >= limit) {
    if (n == 0) counts_.erase(key);
    return false;
  }
  ++n;
  ++total_;
  return true;
}

void PeerCounts::release(const std::string& key) {
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  --total_;
  if (--it->second <= 0) counts_.erase(it);
}

int PeerCounts::count(const std::string& key) const {
  auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace zs::http
