#include "controller/identity_registry.h"

#include <algorithm>
#include <cctype>

#include "api/api_error.h"
#include "api/auth_token.h"
#include "core/input_error.h"

namespace zs {
namespace {

void check_name(const std::string& name, const char* field) {
  if (std::string problem = identity_name_problem(name); !problem.empty())
    throw InputError(field, problem);
}

template <class M>
std::vector<typename M::mapped_type> values_of(const M& map) {
  std::vector<typename M::mapped_type> out;
  out.reserve(map.size());
  for (const auto& [key, value] : map) out.push_back(value);
  return out;
}

}  // namespace

IdentityRegistry::IdentityRegistry(std::function<void(WriteBatch)> persist,
                                   std::function<TimeMs()> now)
    : persist_(std::move(persist)), now_(std::move(now)), index_(std::make_shared<Index>()) {}

std::shared_ptr<const IdentityRegistry::Index> IdentityRegistry::current() const {
  std::lock_guard lock(index_mu_);
  return index_;
}

void IdentityRegistry::commit(WriteBatch batch, std::shared_ptr<const Index> next) {
  persist_(std::move(batch));  // throws: nothing changes
  std::lock_guard lock(index_mu_);
  index_ = std::move(next);
}

void IdentityRegistry::load(std::vector<TenantRecord> tenants, std::vector<UserRecord> users,
                            std::vector<TokenRecord> tokens) {
  auto next = std::make_shared<Index>();
  for (auto& t : tenants) next->tenants.emplace(t.name, std::move(t));
  for (auto& u : users) next->users.emplace(u.name, std::move(u));
  for (auto& t : tokens) next->tokens.emplace(t.id, std::move(t));
  std::lock_guard change(change_mu_);
  std::lock_guard lock(index_mu_);
  index_ = std::move(next);
}

bool IdentityRegistry::bootstrap_admin(
    const std::string& name, const std::string& unix_user,
    const std::function<void(const std::string& token)>& keep_token) {
  std::lock_guard change(change_mu_);
  auto index = current();
  if (!index->users.empty()) return false;
  check_name(name, "name");
  if (std::string problem = unix_user_problem(unix_user); !problem.empty())
    throw InputError("unix_user", problem);
  const TimeMs now = now_();
  auto next = std::make_shared<Index>(*index);
  WriteBatch batch;
  const std::string tenant = "default";
  if (!next->tenants.count(tenant)) {
    TenantRecord t{tenant, now};
    next->tenants.emplace(tenant, t);
    batch.tenants.push_back(t);
  }
  UserRecord admin{name, Role::cluster_admin, {tenant}, unix_user, now};
  next->users.emplace(name, admin);
  batch.users.push_back(admin);
  IssuedToken issued = issue_token();
  TokenRecord token{issued.id, TokenKind::user, name, issued.hash, now, 0, 0};
  next->tokens.emplace(token.id, token);
  batch.tokens.push_back(token);
  keep_token(issued.text);
  commit(std::move(batch), std::move(next));
  return true;
}

void IdentityRegistry::reissue_admin_token(
    const std::string& name, const std::function<void(const std::string& token)>& keep_token) {
  std::lock_guard change(change_mu_);
  auto index = current();
  auto user = index->users.find(name);
  if (user == index->users.end() || user->second.role != Role::cluster_admin)
    throw InputError("--reissue-admin-token",
                     "'" + name + "' is not a cluster admin of this controller's state");
  IssuedToken issued = issue_token();
  TokenRecord token{issued.id, TokenKind::user, name, issued.hash, now_(), 0, 0};
  auto next = std::make_shared<Index>(*index);
  next->tokens.emplace(token.id, token);
  WriteBatch batch;
  batch.tokens.push_back(token);
  keep_token(issued.text);
  commit(std::move(batch), std::move(next));
}

bool IdentityRegistry::tenant_exists(const std::string& name) const {
  return current()->tenants.count(name) > 0;
}

std::optional<Principal> IdentityRegistry::authenticate(std::string_view text) const {
  auto parts = parse_token(text);
  if (!parts) return std::nullopt;
  auto index = current();
  auto it = index->tokens.find(parts->id);
  bool verified = false;
  {
    std::lock_guard lock(verified_mu_);
    if (auto v = verified_.find(parts->id); v != verified_.end())
      verified = same_hash(v->second, parts->secret);
  }
  if (!verified) {
    // An unknown id still costs a hash, so that timing does not tell ids apart.
    const std::string hash = hash_secret(parts->secret);
    if (it == index->tokens.end() || !same_hash(hash, it->second.hash)) return std::nullopt;
    std::lock_guard lock(verified_mu_);
    if (verified_.size() >= 10'000) verified_.clear();
    verified_[parts->id] = parts->secret;
  }
  if (it == index->tokens.end()) return std::nullopt;
  const TokenRecord& token = it->second;
  if (!token.valid_at(now_())) return std::nullopt;
  Principal who;
  who.name = token.subject;
  if (token.kind == TokenKind::node) {
    who.kind = Principal::Kind::node;
    return who;
  }
  auto user = index->users.find(token.subject);
  if (user == index->users.end()) return std::nullopt;
  who.role = user->second.role;
  who.tenants = user->second.tenants;
  who.unix_user = user->second.unix_user.empty() ? user->second.name : user->second.unix_user;
  return who;
}

std::vector<TenantRecord> IdentityRegistry::tenants() const {
  return values_of(current()->tenants);
}

TenantRecord IdentityRegistry::create_tenant(const std::string& name) {
  check_name(name, "name");
  std::lock_guard change(change_mu_);
  auto index = current();
  if (index->tenants.count(name))
    throw ApiError(409, "exists", "tenant '" + name + "' exists already", "name");
  auto next = std::make_shared<Index>(*index);
  TenantRecord t{name, now_()};
  next->tenants.emplace(name, t);
  WriteBatch batch;
  batch.tenants.push_back(t);
  commit(std::move(batch), std::move(next));
  return t;
}

std::vector<std::string> IdentityRegistry::ensure_tenants(const std::vector<std::string>& names) {
  for (const auto& name : names) check_name(name, "name");
  std::lock_guard change(change_mu_);
  auto index = current();
  auto next = std::make_shared<Index>(*index);
  WriteBatch batch;
  std::vector<std::string> created;
  for (const auto& name : names) {
    if (next->tenants.count(name)) continue;
    TenantRecord t{name, now_()};
    next->tenants.emplace(name, t);
    batch.tenants.push_back(t);
    created.push_back(name);
  }
  if (!created.empty()) commit(std::move(batch), std::move(next));
  return created;
}

void IdentityRegistry::delete_tenant(const std::string& name) {
  std::lock_guard change(change_mu_);
  auto index = current();
  if (!index->tenants.count(name))
    throw ApiError(404, "not_found", "no tenant '" + name + "'", "name");
  for (const auto& [user_name, user] : index->users)
    if (std::find(user.tenants.begin(), user.tenants.end(), name) != user.tenants.end())
      throw ApiError(409, "in_use",
                     "tenant '" + name + "' still has user '" + user_name +
                         "': delete the user or create it again without this tenant first",
                     "name");
  auto next = std::make_shared<Index>(*index);
  next->tenants.erase(name);
  WriteBatch batch;
  batch.removed_tenants.push_back(name);
  commit(std::move(batch), std::move(next));
}

std::vector<UserRecord> IdentityRegistry::users() const {
  return values_of(current()->users);
}

void IdentityRegistry::check_user(UserRecord& user) {
  check_name(user.name, "name");
  if (user.tenants.size() > 64) throw InputError("tenants", "at most 64 tenants per user");
  for (std::size_t i = 0; i < user.tenants.size(); ++i) {
    check_name(user.tenants[i], "tenants");
    if (std::find(user.tenants.begin(), user.tenants.begin() + i, user.tenants[i]) !=
        user.tenants.begin() + i)
      throw InputError("tenants", "tenant '" + user.tenants[i] + "' is named twice");
  }
  const bool cluster_wide = user.role == Role::cluster_admin || user.role == Role::operator_;
  if (user.tenants.empty() && !cluster_wide)
    throw InputError("tenants", "a " + std::string(to_string(user.role)) +
                                    " belongs to at least one tenant (--tenant)");
  if (!user.unix_user.empty()) {
    if (std::string problem = unix_user_problem(user.unix_user); !problem.empty())
      throw InputError("unix_user", problem);
  } else if (unix_user_problem(user.name).empty() && user.name != "root") {
    user.unix_user = user.name;  // the default, resolved now: a later rename changes nothing
  } else {
    throw InputError("unix_user",
                     user.name == "root"
                         ? "jobs run as root only when --unix-user root is given explicitly"
                         : "'" + user.name + "' is no Unix user name: give --unix-user");
  }
}

UserRecord IdentityRegistry::create_user(UserRecord user) {
  check_user(user);
  std::lock_guard change(change_mu_);
  auto index = current();
  if (index->users.count(user.name))
    throw ApiError(409, "exists", "user '" + user.name + "' exists already", "name");
  for (const std::string& t : user.tenants)
    if (!index->tenants.count(t))
      throw ApiError(404, "not_found", "no tenant '" + t + "' (create it first)", "tenants");
  user.created_ms = now_();
  auto next = std::make_shared<Index>(*index);
  next->users.emplace(user.name, user);
  WriteBatch batch;
  batch.users.push_back(user);
  commit(std::move(batch), std::move(next));
  return user;
}

UserRecord IdentityRegistry::update_user(const std::string& name, const UserChange& change) {
  std::lock_guard change_lock(change_mu_);
  auto index = current();
  auto it = index->users.find(name);
  if (it == index->users.end()) throw ApiError(404, "not_found", "no user '" + name + "'", "name");
  UserRecord user = it->second;
  if (change.role) user.role = *change.role;
  if (change.tenants) user.tenants = *change.tenants;
  if (change.unix_user) user.unix_user = *change.unix_user;
  check_user(user);
  for (const std::string& t : user.tenants)
    if (!index->tenants.count(t))
      throw ApiError(404, "not_found", "no tenant '" + t + "' (create it first)", "tenants");
  auto next = std::make_shared<Index>(*index);
  next->users[name] = user;
  WriteBatch batch;
  batch.users.push_back(user);
  commit(std::move(batch), std::move(next));
  return user;
}

void IdentityRegistry::delete_user(const std::string& name) {
  std::lock_guard change(change_mu_);
  auto index = current();
  if (!index->users.count(name)) throw ApiError(404, "not_found", "no user '" + name + "'", "name");
  auto next = std::make_shared<Index>(*index);
  next->users.erase(name);
  WriteBatch batch;
  batch.removed_users.push_back(name);
  const TimeMs now = now_();
  for (auto& [id, token] : next->tokens)
    if (token.kind == TokenKind::user && token.subject == name && token.revoked_ms == 0) {
      token.revoked_ms = now;
      batch.tokens.push_back(token);
    }
  commit(std::move(batch), std::move(next));
}

std::vector<TokenRecord> IdentityRegistry::tokens() const {
  return values_of(current()->tokens);
}

NewToken IdentityRegistry::create_token(TokenKind kind, const std::string& subject,
                                        TimeMs expires_ms) {
  check_name(subject, kind == TokenKind::node ? "node" : "user");
  const TimeMs now = now_();
  if (expires_ms != 0 && expires_ms <= now)
    throw InputError("expires_ms", "the expiry is in the past");
  std::lock_guard change(change_mu_);
  auto index = current();
  if (kind == TokenKind::user && !index->users.count(subject))
    throw ApiError(404, "not_found", "no user '" + subject + "'", "user");
  IssuedToken issued = issue_token();
  while (index->tokens.count(issued.id)) issued = issue_token();  // 64 random bits: never, but
  TokenRecord token{issued.id, kind, subject, issued.hash, now, expires_ms, 0};
  auto next = std::make_shared<Index>(*index);
  next->tokens.emplace(token.id, token);
  WriteBatch batch;
  batch.tokens.push_back(token);
  commit(std::move(batch), std::move(next));
  return NewToken{token, issued.text};
}

TokenRecord IdentityRegistry::revoke_token(const std::string& id) {
  if (id.size() != 16 || !std::all_of(id.begin(), id.end(),
                                      [](char c) { return std::isxdigit(c) && !std::isupper(c); }))
    throw ApiError(404, "not_found", "no such token (a token id is 16 hex digits)", "id");
  std::lock_guard change(change_mu_);
  auto index = current();
  auto it = index->tokens.find(id);
  if (it == index->tokens.end()) throw ApiError(404, "not_found", "no token '" + id + "'", "id");
  if (it->second.revoked_ms != 0) return it->second;  // revoking twice is no error
  auto next = std::make_shared<Index>(*index);
  TokenRecord& token = next->tokens.at(id);
  token.revoked_ms = now_();
  WriteBatch batch;
  batch.tokens.push_back(token);
  TokenRecord out = token;
  commit(std::move(batch), std::move(next));
  return out;
}

}  // namespace zs
