// Who may do what (core/access.h): the whole role x action table, written out, for one job of
// alice's in tenant "vision". A new action without a row here fails the test.
#include "core/access.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace zs {
namespace {

constexpr Verdict A = Verdict::allow, F = Verdict::forbidden, N = Verdict::not_found;

Principal user(std::string name, Role role, std::vector<std::string> tenants) {
  return Principal{Principal::Kind::user, std::move(name), role, std::move(tenants)};
}

const JobOwner kAlicesJob{"alice", "vision"};

struct Row {
  std::string who;
  Principal principal;
};

std::vector<Row> principals() {
  return {
      {"viewer of vision", user("victor", Role::viewer, {"vision"})},
      {"alice, member (owner)", user("alice", Role::member, {"vision"})},
      {"bob, member of vision", user("bob", Role::member, {"vision"})},
      {"tenant-admin of vision", user("tess", Role::tenant_admin, {"vision"})},
      {"member of speech", user("carol", Role::member, {"speech"})},
      {"tenant-admin of speech", user("sam", Role::tenant_admin, {"speech"})},
      {"alice in another tenant's role", user("alice", Role::member, {"speech"})},
      {"operator", user("olga", Role::operator_, {})},
      {"cluster-admin", user("root", Role::cluster_admin, {})},
      {"node n1", Principal{Principal::Kind::node, "n1", Role::viewer, {}}},
  };
}

// One column per principal above, in that order.
const std::map<Action, std::vector<Verdict>> kTable = {
    //                          view alice bob tadm spch sadm alice2 oper admin node
    {Action::submit_job, {F, A, A, A, A, A, A, F, A, F}},
    {Action::list_jobs, {A, A, A, A, A, A, A, A, A, F}},
    {Action::read_job, {A, A, A, A, N, N, N, A, A, F}},
    {Action::read_job_secrets, {F, A, F, A, N, N, N, F, A, F}},
    {Action::read_logs, {F, A, F, A, N, N, N, F, A, F}},
    {Action::cancel_job, {F, A, F, A, N, N, N, A, A, F}},
    {Action::hold_job, {F, A, F, A, N, N, N, A, A, F}},
    {Action::read_nodes, {A, A, A, A, A, A, A, A, A, F}},
    {Action::drain_node, {F, F, F, F, F, F, F, A, A, F}},
    {Action::read_metrics, {F, F, F, F, F, F, F, A, A, F}},
    {Action::read_usage, {A, A, A, A, A, A, A, A, A, F}},
    {Action::read_identities, {F, F, F, F, F, F, F, A, A, F}},
    {Action::manage_identities, {F, F, F, F, F, F, F, F, A, F}},
    // As node n1 (the node column's own name): only the node itself.
    {Action::agent_report, {F, F, F, F, F, F, F, F, F, A}},
};

const char* name(Verdict v) {
  return v == A ? "allow" : v == F ? "forbidden (403)" : "not found (404)";
}

TEST(Access, EveryRoleAndActionAsTheTableSays) {
  const auto who = principals();
  int actions = 0;
  for (int a = 0; a <= static_cast<int>(Action::agent_report); ++a) {
    const Action action = static_cast<Action>(a);
    auto row = kTable.find(action);
    ASSERT_NE(row, kTable.end()) << "action " << a << " has no row in the table";
    ASSERT_EQ(row->second.size(), who.size());
    ++actions;
    for (std::size_t i = 0; i < who.size(); ++i) {
      const Verdict got = authorize(who[i].principal, action, &kAlicesJob, "n1");
      EXPECT_EQ(got, row->second[i]) << "action " << a << ", " << who[i].who << ": got "
                                     << name(got) << ", want " << name(row->second[i]);
    }
  }
  EXPECT_EQ(actions, static_cast<int>(kTable.size()));
}

TEST(Access, ANodeSpeaksOnlyForItself) {
  const Principal n1{Principal::Kind::node, "n1", Role::cluster_admin, {"vision"}};
  EXPECT_EQ(authorize(n1, Action::agent_report, nullptr, "n1"), A);
  EXPECT_EQ(authorize(n1, Action::agent_report, nullptr, "n2"), F);
  EXPECT_EQ(authorize(n1, Action::agent_report, nullptr, ""), F);
  // Whatever role a node credential were given by mistake, user routes stay closed to it.
  EXPECT_EQ(authorize(n1, Action::read_job, &kAlicesJob), F);
  const Principal nameless{Principal::Kind::node, "", Role::viewer, {}};
  EXPECT_EQ(authorize(nameless, Action::agent_report, nullptr, ""), F);
}

TEST(Access, AJobActionWithoutAJobRevealsNothing) {
  EXPECT_EQ(authorize(user("root", Role::cluster_admin, {}), Action::cancel_job, nullptr), N);
}

TEST(Access, SubmitsAreChargedToATenantOfTheCaller) {
  std::string tenant;
  const Principal both = user("alice", Role::member, {"vision", "speech"});
  EXPECT_EQ(submit_tenant(both, "", tenant), A);
  EXPECT_EQ(tenant, "vision");  // the first is the default
  EXPECT_EQ(submit_tenant(both, "speech", tenant), A);
  EXPECT_EQ(tenant, "speech");
  tenant = "unchanged";
  EXPECT_EQ(submit_tenant(both, "robotics", tenant), F);
  EXPECT_EQ(tenant, "unchanged");
  EXPECT_EQ(submit_tenant(user("victor", Role::viewer, {"vision"}), "", tenant), F);
  EXPECT_EQ(submit_tenant(user("olga", Role::operator_, {"vision"}), "vision", tenant), F);
  // A cluster admin may charge any tenant, but must name one when it belongs to none.
  EXPECT_EQ(submit_tenant(user("root", Role::cluster_admin, {}), "robotics", tenant), A);
  EXPECT_EQ(tenant, "robotics");
  EXPECT_EQ(submit_tenant(user("root", Role::cluster_admin, {}), "", tenant), F);
}

TEST(Access, RoleNamesRoundTrip) {
  for (Role r :
       {Role::viewer, Role::member, Role::tenant_admin, Role::operator_, Role::cluster_admin})
    EXPECT_EQ(parse_role(to_string(r)), r);
  EXPECT_FALSE(parse_role("admin"));
  EXPECT_FALSE(parse_role("Viewer"));
  EXPECT_FALSE(parse_role(""));
}

}  // namespace
}  // namespace zs
