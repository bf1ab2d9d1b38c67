// Who may do what (issue 15): roles, the principal a request comes from, and one pure decision
// per (principal, action, job) that every route asks. Kept apart from authentication (who the
// token says you are) and from the routes, so that one table says what each role may do and a
// test walks all of it (tests/unit/access_test.cpp).
//
// Roles, from Kubernetes' RBAC habit of a few fixed cluster roles:
//   viewer         reads its tenants' jobs
//   member         + submits, and cancels/holds its own jobs
//   tenant-admin   + every job of its tenants (cancel, hold, environment, logs)
//   operator       nodes (drain/resume) and all jobs; reads identities; does not submit
//   cluster-admin  everything
// Another tenant's job is not found (404) rather than forbidden, so that ids do not reveal what
// other tenants run; a visible job the role may not act on is forbidden (403).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

enum class Role { viewer, member, tenant_admin, operator_, cluster_admin };

std::optional<Role> parse_role(std::string_view text);  // "viewer", "tenant-admin", ...
std::string_view to_string(Role role);
inline constexpr std::string_view kRoleNames =
    "viewer, member, tenant-admin, operator, cluster-admin";

// Whom a request comes from, once its credential is checked.
struct Principal {
  enum class Kind { user, node } kind = Kind::user;
  std::string name;                  // the user, or the node a node credential is bound to
  Role role = Role::viewer;          // users only
  std::vector<std::string> tenants;  // users only; the first is the default for submits
  std::string unix_user;             // users only: the account their jobs run as
};

enum class Action {
  // Jobs.
  submit_job,
  list_jobs,  // allowed to every user; the listing shows only visible jobs
  read_job,
  read_job_secrets,  // environment values and script: the owner and admins only
  read_logs,
  cancel_job,
  hold_job,  // hold and release
  // Nodes and the cluster.
  read_nodes,
  drain_node,  // drain and resume
  read_metrics,
  // Accounting (zs usage): every user; the report shows only its tenants' usage unless the
  // role is cluster-wide (see sees_every_tenant).
  read_usage,
  // Identities: tenants, users, tokens, node credentials.
  read_identities,
  manage_identities,
  // The agents' routes (sync, exits): a node credential for that very node.
  agent_report,
};

enum class Verdict {
  allow,
  forbidden,  // 403: the caller may see the target but not do this
  not_found,  // 404: the target is another tenant's, and its existence is not revealed
};

// The job an action is about (nullptr for actions that are not about one job).
struct JobOwner {
  std::string user;
  std::string tenant;
};

// May `who` do `action` (on `job`, or as node `node` for agent_report)? Pure.
Verdict authorize(const Principal& who, Action action, const JobOwner* job = nullptr,
                  std::string_view node = {});

// Does `who` see this job at all (listings, reads)? Cluster-wide roles see every job; the
// others, their tenants' jobs.
bool sees_job(const Principal& who, const JobOwner& job);

// Operators and cluster admins see every tenant's jobs and usage; the others, their tenants'.
bool sees_every_tenant(const Principal& who);

// The tenant a submit is charged to: `requested` (sbatch's -A/--account) when `who` belongs to
// it, its first tenant when none is requested. A cluster admin may name any tenant (whether it
// exists is the caller's to check). Sets `tenant`; forbidden when `who` may not submit there.
Verdict submit_tenant(const Principal& who, std::string_view requested, std::string& tenant);

}  // namespace zs
