// The controller's identities (issue 15): tenants, users and tokens, in memory for
// authentication and in the store for restarts.
//
// Authentication runs on every request, so it never waits for the store: readers take an
// immutable index by shared pointer (a copy of the pointer under a short lock), and a change
// builds a new index, makes it durable, and only then publishes it. A revocation is in force
// when its call returns; until then the old index answers, as if the call had not come yet.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/identity_api.h"
#include "store/store.h"

namespace zs {

class IdentityRegistry final : public IdentityApi {
 public:
  // `persist` makes a batch durable (throws StoreError); `now` is the wall clock.
  IdentityRegistry(std::function<void(WriteBatch)> persist, std::function<TimeMs()> now);

  // Replaces everything with what the store holds (at start-up, before serving).
  void load(std::vector<TenantRecord> tenants, std::vector<UserRecord> users,
            std::vector<TokenRecord> tokens);
  // With no user at all (a new cluster): creates tenant "default" and a cluster-admin `name`
  // in it, bound to Unix account `unix_user` (explicitly, so root stays root), and a token for
  // it that never expires. `keep_token` gets the token's text before anything is committed (it
  // writes the file the admin reads; if it throws, nothing is created and the next start tries
  // again). False when users exist already.
  bool bootstrap_admin(const std::string& name, const std::string& unix_user,
                       const std::function<void(const std::string& token)>& keep_token);
  // A new token for cluster admin `name`, kept (as above) before it is committed: for the admin
  // who lost theirs (zs controller --reissue-admin-token). Whoever may start the controller on
  // its state directory holds the cluster anyway. InputError when `name` is no cluster admin.
  void reissue_admin_token(const std::string& name,
                           const std::function<void(const std::string& token)>& keep_token);
  bool tenant_exists(const std::string& name) const override;
  // Creates those of `names` that do not exist, in one durable batch (zs admin apply, a
  // tenants file); returns them. InputError naming the first invalid name; nothing is created.
  std::vector<std::string> ensure_tenants(const std::vector<std::string>& names);

  std::optional<Principal> authenticate(std::string_view token) const override;
  std::vector<TenantRecord> tenants() const override;
  TenantRecord create_tenant(const std::string& name) override;
  void delete_tenant(const std::string& name) override;
  std::vector<UserRecord> users() const override;
  UserRecord create_user(UserRecord user) override;
  UserRecord update_user(const std::string& name, const UserChange& change) override;
  void delete_user(const std::string& name) override;
  std::vector<TokenRecord> tokens() const override;
  NewToken create_token(TokenKind kind, const std::string& subject, TimeMs expires_ms) override;
  TokenRecord revoke_token(const std::string& id) override;

 private:
  struct Index {
    std::map<std::string, TenantRecord> tenants;
    std::map<std::string, UserRecord> users;
    std::map<std::string, TokenRecord> tokens;  // by id
  };
  std::shared_ptr<const Index> current() const;
  // Checks a user's fields (not whether its tenants exist) and resolves its Unix user.
  static void check_user(UserRecord& user);
  // Under change_mu_: writes `batch`, then publishes `next`.
  void commit(WriteBatch batch, std::shared_ptr<const Index> next);

  std::function<void(WriteBatch)> persist_;
  std::function<TimeMs()> now_;
  // Secrets already checked against their token's hash, by token id: a client that sends the
  // same token again costs a constant-time comparison, not a SHA-256 (whether the token is still
  // valid is always read from the current index). Bounded; emptied when full.
  mutable std::mutex verified_mu_;
  mutable std::unordered_map<std::string, std::string> verified_;
  std::mutex change_mu_;         // one change at a time (held across the store write)
  mutable std::mutex index_mu_;  // guards the pointer only
  std::shared_ptr<const Index> index_;
};

}  // namespace zs
