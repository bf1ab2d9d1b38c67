// The controller's identity registry (issue 15): the rules for names and roles, the first
// admin, and that a failed store write changes nothing.
#include "controller/identity_registry.h"

#include <gtest/gtest.h>

#include "api/api_error.h"
#include "api/auth_failures.h"
#include "core/input_error.h"

namespace zs::test {
namespace {

struct Registry {
  std::vector<WriteBatch> written;
  bool failing = false;
  TimeMs now = 1'000'000;
  IdentityRegistry reg{[this](WriteBatch b) {
                         if (failing) throw ApiError(503, "unavailable", "injected");
                         written.push_back(std::move(b));
                       },
                       [this] { return now; }};
};

UserRecord user(std::string name, Role role, std::vector<std::string> tenants,
                std::string unix_user = "") {
  return UserRecord{std::move(name), role, std::move(tenants), std::move(unix_user), 0};
}

template <class F>
int status_of(F&& f) {
  try {
    f();
    return 200;
  } catch (const ApiError& e) {
    return e.status();
  } catch (const InputError&) {
    return 400;
  }
}

TEST(IdentityRegistry, FirstAdminOnlyOnAnEmptyRegistryAndTokenKeptBeforeCommit) {
  Registry r;
  std::string kept;
  EXPECT_TRUE(r.reg.bootstrap_admin("root", "root", [&](const std::string& t) {
    EXPECT_TRUE(r.written.empty()) << "the token must be kept before the records are committed";
    kept = t;
  }));
  auto who = r.reg.authenticate(kept);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::cluster_admin);
  EXPECT_EQ(who->unix_user, "root");
  EXPECT_EQ(who->tenants, std::vector<std::string>{"default"});
  EXPECT_FALSE(r.reg.bootstrap_admin("root", "root", [](const std::string&) {}));
  // A keeper that fails leaves nothing behind: the next start tries again.
  Registry fresh;
  EXPECT_THROW(fresh.reg.bootstrap_admin(
                   "ada", "ada", [](const std::string&) { throw InputError("x", "disk full"); }),
               InputError);
  EXPECT_TRUE(fresh.reg.users().empty());
  EXPECT_TRUE(fresh.written.empty());
}

TEST(IdentityRegistry, AdminTokenReissuedOnlyForAClusterAdmin) {
  Registry r;
  std::string first, second;
  r.reg.bootstrap_admin("root", "root", [&](const std::string& t) { first = t; });
  r.reg.reissue_admin_token("root", [&](const std::string& t) { second = t; });
  EXPECT_NE(first, second);
  EXPECT_TRUE(r.reg.authenticate(first));
  ASSERT_TRUE(r.reg.authenticate(second));
  EXPECT_EQ(r.reg.authenticate(second)->name, "root");
  r.reg.create_tenant("lab");
  r.reg.create_user(user("bob", Role::member, {"lab"}));
  EXPECT_EQ(status_of([&] { r.reg.reissue_admin_token("bob", [](const std::string&) {}); }), 400);
  EXPECT_EQ(status_of([&] { r.reg.reissue_admin_token("nobody", [](const std::string&) {}); }),
            400);
}

TEST(IdentityRegistry, NamesRolesAndTenantsAreChecked) {
  Registry r;
  r.reg.create_tenant("lab");
  EXPECT_EQ(status_of([&] { r.reg.create_tenant("lab"); }), 409);
  for (const char* bad : {"", "a b", "../x", "-x", "x\n", "ünï"})
    EXPECT_EQ(status_of([&] { r.reg.create_tenant(bad); }), 400) << bad;
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("ada", Role::member, {"nolab"})); }), 404);
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("ada", Role::member, {})); }), 400);
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("ada", Role::member, {"lab", "lab"})); }), 400);
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("ops", Role::operator_, {})); }), 200);
  // Root only when named explicitly; the default Unix user is the name, if it is one.
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("root", Role::member, {"lab"})); }), 400);
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("Ada.X", Role::member, {"lab"})); }), 400);
  EXPECT_EQ(r.reg.create_user(user("Ada.X", Role::member, {"lab"}, "adax")).unix_user, "adax");
  EXPECT_EQ(r.reg.create_user(user("bob", Role::member, {"lab"})).unix_user, "bob");
  EXPECT_EQ(status_of([&] { r.reg.create_user(user("eve", Role::member, {"lab"}, "r oot")); }),
            400);
  EXPECT_EQ(status_of([&] { r.reg.delete_tenant("lab"); }), 409);  // users still in it
  EXPECT_EQ(status_of([&] { r.reg.create_token(TokenKind::user, "nobody", 0); }), 404);
  EXPECT_EQ(status_of([&] { r.reg.create_token(TokenKind::user, "bob", r.now - 1); }), 400);
  EXPECT_EQ(status_of([&] { r.reg.revoke_token("not-an-id"); }), 404);
  EXPECT_EQ(status_of([&] { r.reg.revoke_token("0123456789abcdef"); }), 404);
}

TEST(IdentityRegistry, ExpiryAndAFailedWriteChangeNothing) {
  Registry r;
  r.reg.create_tenant("lab");
  r.reg.create_user(user("bob", Role::member, {"lab"}));
  NewToken t = r.reg.create_token(TokenKind::user, "bob", r.now + 1000);
  EXPECT_TRUE(r.reg.authenticate(t.text));
  r.now += 1000;
  EXPECT_FALSE(r.reg.authenticate(t.text));
  NewToken live = r.reg.create_token(TokenKind::user, "bob", 0);
  r.failing = true;
  EXPECT_EQ(status_of([&] { r.reg.revoke_token(live.record.id); }), 503);
  EXPECT_TRUE(r.reg.authenticate(live.text)) << "a revocation that was not stored is not in force";
  EXPECT_EQ(status_of([&] { r.reg.create_tenant("other"); }), 503);
  EXPECT_FALSE(r.reg.tenant_exists("other"));
  // Wrong secrets and malformed texts are refused; the stored hash is not the secret.
  std::string wrong = live.text;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(r.reg.authenticate(wrong));
  EXPECT_FALSE(r.reg.authenticate(live.text + "x"));
  EXPECT_FALSE(r.reg.authenticate(""));
  EXPECT_EQ(live.text.find(live.record.hash), std::string::npos);
}

TEST(AuthFailures, ABurstThenThrottledForTheRestOfTheWindowAndBounded) {
  AuthFailures f(3, 1000, 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(f.throttled("a", 10));
    f.failed("a", 10);
  }
  EXPECT_TRUE(f.throttled("a", 500));
  EXPECT_FALSE(f.throttled("b", 500));
  EXPECT_FALSE(f.throttled("a", 1010));  // a new window
  for (int i = 0; i < 100; ++i) f.failed("peer" + std::to_string(i), 2000);
  EXPECT_LE(f.tracked(), 4u);
}

}  // namespace
}  // namespace zs::test
