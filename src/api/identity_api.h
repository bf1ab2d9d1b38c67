// What the API serves about identities (issue 15): authentication of bearer tokens, and the
// tenants, users and tokens a cluster admin manages (`zs admin`, /api/v1/{tenants,users,tokens}).
// Who may call what is decided by the routes with core/access.h; this interface only keeps the
// records. Errors: InputError for a bad name or value (400), ApiError 404 / 409 otherwise.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access.h"
#include "core/identity_record.h"

namespace zs {

// A token as created: its record, and its text, which exists only in this answer.
struct NewToken {
  TokenRecord record;
  std::string text;
};

// What `zs admin user update` changes; what is unset stays.
struct UserChange {
  std::optional<Role> role;
  std::optional<std::vector<std::string>> tenants;
  std::optional<std::string> unix_user;  // "" = the user's name again
};

class IdentityApi {
 public:
  virtual ~IdentityApi() = default;
  // Whom a bearer token speaks for, or nullopt: not a token, unknown id, wrong secret, expired,
  // revoked, or its user is gone. Cheap (a lookup and one SHA-256) and never blocks on the store.
  virtual std::optional<Principal> authenticate(std::string_view token) const = 0;

  virtual std::vector<TenantRecord> tenants() const = 0;
  virtual bool tenant_exists(const std::string& name) const = 0;
  virtual TenantRecord create_tenant(const std::string& name) = 0;
  // 409 while a user still belongs to it (jobs keep their tenant's name).
  virtual void delete_tenant(const std::string& name) = 0;

  virtual std::vector<UserRecord> users() const = 0;
  // Its tenants must exist (404); a cluster-admin or operator may have none, the others need one.
  // unix_user "" = the user's name; the account "root" only when named explicitly.
  virtual UserRecord create_user(UserRecord user) = 0;
  // The same rules as create_user; its tokens stay valid and carry the change at once.
  virtual UserRecord update_user(const std::string& name, const UserChange& change) = 0;
  virtual void delete_user(const std::string& name) = 0;  // revokes its tokens too

  virtual std::vector<TokenRecord> tokens() const = 0;
  // A user token for an existing user, or a node credential bound to node `subject` (which
  // need not have joined yet). expires_ms = 0: never.
  virtual NewToken create_token(TokenKind kind, const std::string& subject, TimeMs expires_ms) = 0;
  virtual TokenRecord revoke_token(const std::string& id) = 0;  // at once; 404 when unknown
};

}  // namespace zs
