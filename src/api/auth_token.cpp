#include "api/auth_token.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "api/openssl_runtime.h"

namespace zs {
namespace {

constexpr std::string_view kPrefix = "zs_";
constexpr std::size_t kIdBytes = 8, kSecretBytes = 32;
constexpr std::size_t kIdChars = 2 * kIdBytes, kSecretChars = 43;  // base64url, unpadded
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<std::size_t>(r);
  }
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

std::string base64url(const unsigned char* p, std::size_t n) {
  std::string s;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += kBase64Url[(acc >> bits) & 63];
    }
  }
  if (bits > 0) s += kBase64Url[(acc << (6 - bits)) & 63];
  return s;
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  for (char c : s)
    if (!ok(c)) return false;
  return true;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

IssuedToken issue_token() {
  unsigned char id[kIdBytes], secret[kSecretBytes];
  random_bytes(id, sizeof id);
  random_bytes(secret, sizeof secret);
  IssuedToken t;
  t.id = hex(id, sizeof id);
  const std::string secret_text = base64url(secret, sizeof secret);
  t.text = std::string(kPrefix) + t.id + "_" + secret_text;
  t.hash = hash_secret(secret_text);
  return t;
}

std::optional<TokenParts> parse_token(std::string_view text) {
  if (text.size() != kPrefix.size() + kIdChars + 1 + kSecretChars) return std::nullopt;
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view id = text.substr(kPrefix.size(), kIdChars);
  if (text[kPrefix.size() + kIdChars] != '_') return std::nullopt;
  const std::string_view secret = text.substr(kPrefix.size() + kIdChars + 1);
  if (!all_of(id, is_hex) || !all_of(secret, is_base64url)) return std::nullopt;
  return TokenParts{std::string(id), std::string(secret)};
}

std::string hash_secret(std::string_view secret) {
  std::string error;
  const openssl::Crypto* c = openssl::crypto(error);
  if (!c) throw std::runtime_error(error);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (c->digest(secret.data(), secret.size(), digest, &size, c->sha256(), nullptr) != 1 ||
      size != 32)
    throw std::runtime_error("SHA-256 failed");
  return hex(digest, size);
}

bool same_hash(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;  // volatile: no early exit may be compiled in
  for (std::size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace zs
