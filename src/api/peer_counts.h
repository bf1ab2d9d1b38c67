// Open connections per client address, so that one address cannot take every connection of the
// controller (issue 10: 4,300 slow connections from one client starved the agents).
#pragma once
#include <sys/socket.h>

#include <string>
#include <unordered_map>

namespace zs::http {

class PeerCounts {
 public:
  // The address of a peer as a key: its 4 (IPv4, also when mapped into IPv6) or 16 bytes.
  static std::string key_of(const sockaddr_storage& addr);
  static std::string describe(const std::string& key);  // "127.0.0.2", "::1"

  // Counts one more connection from `key` unless it has `limit` already (then false).
  bool admit(const std::string& key, int limit);
  void release(const std::string& key);
  int count(const std::string& key) const;
  int total() const { return total_; }

 private:
  std::unordered_map<std::string, int> counts_;
  int total_ = 0;
};

}  // namespace zs::http
