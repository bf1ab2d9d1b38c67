// Bearer tokens (issue 15): random secrets that are shown once and stored only as a hash.
//
// A token reads `zs_<id>_<secret>`: the id (16 hex digits, 64 random bits) names the stored
// record, so a check is one lookup and one hash, never a scan; the secret is 32 random bytes
// (256 bits) from getrandom(2), in unpadded base64url (43 characters). The store keeps the id
// and SHA-256 of the secret: a leaked database gives no usable token. Hashes are compared in
// constant time.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace zs {

struct IssuedToken {
  std::string id;
  std::string text;  // what the user gets, once: zs_<id>_<secret>
  std::string hash;  // what is stored: SHA-256 of the secret, 64 hex digits
};

struct TokenParts {
  std::string id, secret;
};

// Throws std::runtime_error when the system has no randomness or libcrypto cannot be loaded.
IssuedToken issue_token();
// The parts of a token's text; nullopt for anything that is not one (wrong prefix, length,
// alphabet). Bounded: never reads past what a token can be.
std::optional<TokenParts> parse_token(std::string_view text);
// SHA-256 of `secret`, as 64 lowercase hex digits. Throws std::runtime_error without libcrypto.
std::string hash_secret(std::string_view secret);
// Equal, in time that depends only on the lengths.
bool same_hash(std::string_view a, std::string_view b);

}  // namespace zs
