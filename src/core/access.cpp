#include "core/access.h"

#include <algorithm>

namespace zs {
namespace {

bool cluster_wide(Role role) {
  return role == Role::operator_ || role == Role::cluster_admin;
}

bool in_tenant(const Principal& who, const std::string& tenant) {
  return std::find(who.tenants.begin(), who.tenants.end(), tenant) != who.tenants.end();
}

// Admin of the job: the cluster admin, or a tenant admin of the job's tenant.
bool admin_of(const Principal& who, const JobOwner& job) {
  return who.role == Role::cluster_admin ||
         (who.role == Role::tenant_admin && in_tenant(who, job.tenant));
}

bool owner_of(const Principal& who, const JobOwner& job) {
  return who.role != Role::viewer && who.name == job.user && in_tenant(who, job.tenant);
}

Verdict allow_if(bool ok) {
  return ok ? Verdict::allow : Verdict::forbidden;
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  for (Role r :
       {Role::viewer, Role::member, Role::tenant_admin, Role::operator_, Role::cluster_admin})
    if (text == to_string(r)) return r;
  return std::nullopt;
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::viewer:
      return "viewer";
    case Role::member:
      return "member";
    case Role::tenant_admin:
      return "tenant-admin";
    case Role::operator_:
      return "operator";
    case Role::cluster_admin:
      return "cluster-admin";
  }
  return "?";
}

bool sees_job(const Principal& who, const JobOwner& job) {
  return who.kind == Principal::Kind::user &&
         (cluster_wide(who.role) || in_tenant(who, job.tenant));
}

bool sees_every_tenant(const Principal& who) {
  return who.kind == Principal::Kind::user && cluster_wide(who.role);
}

Verdict authorize(const Principal& who, Action action, const JobOwner* job, std::string_view node) {
  // Nodes speak only for themselves, and only on the agents' routes; users never there.
  if (who.kind == Principal::Kind::node)
    return allow_if(action == Action::agent_report && !who.name.empty() && who.name == node);
  if (action == Action::agent_report) return Verdict::forbidden;

  const Role role = who.role;
  switch (action) {
    case Action::list_jobs:
    case Action::read_nodes:
    case Action::read_usage:
      return Verdict::allow;
    case Action::submit_job:
      return allow_if(
          role == Role::cluster_admin ||
          ((role == Role::member || role == Role::tenant_admin) && !who.tenants.empty()));
    case Action::drain_node:
    case Action::read_metrics:
    case Action::read_identities:
      return allow_if(cluster_wide(role));
    case Action::manage_identities:
      return allow_if(role == Role::cluster_admin);
    case Action::read_job:
    case Action::read_job_secrets:
    case Action::read_logs:
    case Action::cancel_job:
    case Action::hold_job:
      break;
    case Action::agent_report:
      return Verdict::forbidden;
  }
  // About one job: first, whether the caller may know it exists.
  if (!job || !sees_job(who, *job)) return Verdict::not_found;
  switch (action) {
    case Action::read_job:
      return Verdict::allow;
    case Action::read_job_secrets:
    case Action::read_logs:
      // What the job carries and prints (tokens, data paths) is its owner's business.
      return allow_if(owner_of(who, *job) || admin_of(who, *job));
    case Action::cancel_job:
    case Action::hold_job:
      return allow_if(owner_of(who, *job) || admin_of(who, *job) || role == Role::operator_);
    default:
      return Verdict::forbidden;
  }
}

Verdict submit_tenant(const Principal& who, std::string_view requested, std::string& tenant) {
  if (authorize(who, Action::submit_job) != Verdict::allow) return Verdict::forbidden;
  if (requested.empty()) {
    if (who.tenants.empty()) return Verdict::forbidden;  // a cluster admin of no tenant
    tenant = who.tenants.front();
    return Verdict::allow;
  }
  if (who.role != Role::cluster_admin && !in_tenant(who, std::string(requested)))
    return Verdict::forbidden;
  tenant = std::string(requested);
  return Verdict::allow;
}

}  // namespace zs
