// The identity records the controller keeps (issue 15): tenants, users and tokens. A token is
// stored as the SHA-256 of its secret (api/auth_token.h), never as itself. Pure data and the
// rules for names; who may do what is core/access.h.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access.h"
#include "core/time.h"

namespace zs {

struct TenantRecord {
  std::string name;
  TimeMs created_ms = 0;
  bool operator==(const TenantRecord&) const = default;
};

struct UserRecord {
  std::string name;
  Role role = Role::viewer;
  std::vector<std::string> tenants;  // the first is the default for submits
  std::string unix_user;             // the account its jobs run as ("" = its name)
  TimeMs created_ms = 0;
  bool operator==(const UserRecord&) const = default;
};

enum class TokenKind { user, node };
std::string_view to_string(TokenKind kind);
std::optional<TokenKind> token_kind_from_string(std::string_view text);

struct TokenRecord {
  std::string id;  // the public part of the token's text
  TokenKind kind = TokenKind::user;
  std::string subject;  // the user, or the node a node credential is bound to
  std::string hash;     // SHA-256 of the secret, hex
  TimeMs created_ms = 0;
  TimeMs expires_ms = 0;  // 0 = never
  TimeMs revoked_ms = 0;  // 0 = not revoked
  bool operator==(const TokenRecord&) const = default;
  bool valid_at(TimeMs now) const {
    return revoked_ms == 0 && (expires_ms == 0 || now < expires_ms);
  }
};

// Tenant and user names: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a
// digit (they appear in paths, URLs and Prometheus labels). "" or what is wrong.
std::string identity_name_problem(std::string_view name);
// A Unix account name as useradd accepts it: [a-z_][a-z0-9_-]*, optionally ending in '$', at
// most 32 characters. "" or what is wrong.
std::string unix_user_problem(std::string_view name);

}  // namespace zs
