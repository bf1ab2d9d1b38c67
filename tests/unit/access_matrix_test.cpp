// Issue 15: every route of the API, called by every kind of caller — each role, a member of
// another tenant, no token, a malformed, an expired and a revoked token, the right node's
// credential and another node's — against a table of what each may do. A route added to the
// server without a row in the table fails the test; so does a denial that changes anything.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "api/json_codec.h"
#include "controller/controller.h"
#include "scratch_dir.h"
#include "store/store.h"

namespace zs::test {
namespace {

using nlohmann::json;

// Callers, in the order of the table's columns.
enum Caller {
  kAdmin,      // cluster-admin of tenant A
  kOperator,   // operator, no tenant
  kTenantAdm,  // tenant-admin of A
  kOwner,      // member of A who submitted the job in question
  kPeer,       // another member of A
  kViewer,     // viewer of A
  kOutsider,   // member of B
  kNode,       // node credential of n1 (the node the agents' routes name)
  kOtherNode,  // node credential of n2
  kNoToken,
  kBadToken,
  kExpired,
  kRevoked,
  kCallers
};
const char* const kCallerNames[kCallers] = {
    "cluster-admin", "operator", "tenant-admin", "owner",   "peer member", "viewer", "outsider",
    "node n1",       "node n2",  "no token",     "garbage", "expired",     "revoked"};

// Expected answers: 'Y' a 2xx, 'F' 403, 'N' 404 (another tenant's job), 'U' 401.
struct Row {
  const char* route;   // "METHOD PATTERN"
  const char* expect;  // one letter per Caller, kCallers long
};
// clang-format off
//                                          adm op  tad own pee vie out n1  n2  none bad exp rev
const Row kTable[] = {
    {"GET /api/v1/health",                   "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y"},
    {"GET /api/v1/whoami",                   "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "Y" "U" "U" "U" "U"},
    {"POST /api/v1/jobs",                    "Y" "F" "Y" "Y" "Y" "F" "Y" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/jobs",                     "Y" "Y" "Y" "Y" "Y" "Y" "Y" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/jobs/*",                   "Y" "Y" "Y" "Y" "Y" "Y" "N" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/jobs/*/cancel",           "Y" "Y" "Y" "Y" "F" "F" "N" "F" "F" "U" "U" "U" "U"},
    {"DELETE /api/v1/jobs/*",                "Y" "Y" "Y" "Y" "F" "F" "N" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/jobs/*/hold",             "Y" "Y" "Y" "Y" "F" "F" "N" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/jobs/*/release",          "Y" "Y" "Y" "Y" "F" "F" "N" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/jobs/*/logs",              "Y" "F" "Y" "Y" "F" "F" "N" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/nodes",                    "Y" "Y" "Y" "Y" "Y" "Y" "Y" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/nodes/*/drain",           "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/nodes/*/resume",          "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/agents/*/sync",           "F" "F" "F" "F" "F" "F" "F" "Y" "F" "U" "U" "U" "U"},
    {"POST /api/v1/agents/*/exits",          "F" "F" "F" "F" "F" "F" "F" "Y" "F" "U" "U" "U" "U"},
    {"GET /metrics",                         "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/usage",                    "Y" "Y" "Y" "Y" "Y" "Y" "Y" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/shares",                   "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/shares",                  "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/tenants",                  "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/tenants",                 "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"DELETE /api/v1/tenants/*",             "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/users",                    "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/users",                   "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"PATCH /api/v1/users/*",                "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"DELETE /api/v1/users/*",               "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"GET /api/v1/tokens",                   "Y" "Y" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/tokens",                  "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"POST /api/v1/tokens/*/revoke",         "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
    {"DELETE /api/v1/tokens/*",              "Y" "F" "F" "F" "F" "F" "F" "F" "F" "U" "U" "U" "U"},
};
// clang-format on

class AccessMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    ControllerOptions options;
    options.keep_unfit_jobs = true;  // node n1 offers nothing: no job ever starts
    controller = std::make_unique<Controller>(options, open_sqlite_store(dir / "state.db"));
    IdentityRegistry& ids = controller->identities();
    ids.create_tenant("A");
    ids.create_tenant("B");
    auto user = [&](const std::string& name, Role role, std::vector<std::string> tenants) {
      UserRecord u;
      u.name = name;
      u.role = role;
      u.tenants = std::move(tenants);
      u.unix_user = "nobody";
      ids.create_user(u);
      return ids.create_token(TokenKind::user, name, 0).text;
    };
    token[kAdmin] = user("admin", Role::cluster_admin, {"A"});
    token[kOperator] = user("op", Role::operator_, {});
    token[kTenantAdm] = user("tadmin", Role::tenant_admin, {"A"});
    token[kOwner] = user("owner", Role::member, {"A"});
    token[kPeer] = user("peer", Role::member, {"A"});
    token[kViewer] = user("viewer", Role::viewer, {"A"});
    token[kOutsider] = user("outsider", Role::member, {"B"});
    token[kNode] = ids.create_token(TokenKind::node, "n1", 0).text;
    token[kOtherNode] = ids.create_token(TokenKind::node, "n2", 0).text;
    token[kBadToken] = "zs_0123456789abcdef_" + std::string(43, 'A');
    const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    token[kExpired] = ids.create_token(TokenKind::user, "owner", now + 30).text;
    NewToken revoked = ids.create_token(TokenKind::user, "owner", 0);
    ids.revoke_token(revoked.record.id);
    token[kRevoked] = revoked.text;
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the expiry passes

    AgentReport report;
    report.boot_id = "boot-n1";
    controller->agent_sync("n1", report);
    HttpServerOptions http;
    http.port = 0;
    server = std::make_unique<HttpServer>(*controller, &controller->identities(), http);
  }

  // A fresh held job of `owner` in tenant A (so that each call acts on a job of its own).
  std::string owners_job() {
    JobSpec spec;
    spec.user = "owner";
    spec.tenant = "A";
    spec.argv = {"true"};
    spec.work_dir = "/tmp";
    spec.hold = true;
    return std::to_string(controller->submit({spec}).front());
  }

  // The path and body of a call to `route`, with fresh targets where it changes them.
  std::pair<std::string, std::string> call_of(const RouteInfo& route, int n) {
    const std::string& p = route.pattern;
    std::string path = p, body;
    auto fill = [&](const std::string& value) {
      if (auto star = path.find('*'); star != std::string::npos) path.replace(star, 1, value);
    };
    const std::string k = std::to_string(n);
    if (p.rfind("/api/v1/jobs/", 0) == 0) fill(owners_job());
    if (p.rfind("/api/v1/nodes/", 0) == 0 || p.rfind("/api/v1/agents/", 0) == 0) fill("n1");
    if (p == "/api/v1/tenants/*") {
      controller->identities().create_tenant("gone" + k);
      fill("gone" + k);
    }
    if (p == "/api/v1/users/*") {
      UserRecord u{"gone" + k, Role::viewer, {"A"}, "nobody", 0};
      controller->identities().create_user(u);
      fill("gone" + k);
    }
    if (p.rfind("/api/v1/tokens/", 0) == 0)
      fill(controller->identities().create_token(TokenKind::user, "peer", 0).record.id);
    if (route.method == "PATCH") body = R"({"role":"viewer"})";
    if (route.method == "POST") {
      if (p == "/api/v1/jobs")
        body = R"({"argv":["true"],"hold":true,"work_dir":"/tmp"})";
      else if (p == "/api/v1/tenants")
        body = R"({"name":"new)" + k + R"("})";
      else if (p == "/api/v1/users")
        body = R"({"name":"new)" + k + R"(","role":"member","tenants":["A"]})";
      else if (p == "/api/v1/shares")  // a tenant without a guarantee: the node offers none
        body = R"({"yaml":"tenants:\n  - name: applied)" + k + R"(\n","dry_run":false})";
      else if (p == "/api/v1/tokens")
        body = R"({"user":"peer"})";
      else if (p.find("/sync") != std::string::npos)
        body = R"({"boot_id":"boot-n1","wait_ms":0})";
      else if (p.find("/exits") != std::string::npos)
        body = R"({"exits":[]})";
      else if (p.find("/drain") != std::string::npos)
        body = R"({"reason":"test"})";
    }
    return {path, body};
  }

  // Everything a request could change, as text.
  std::string state() {
    JobFilter all;
    all.limit = 100'000;
    json j = json::array();
    for (const auto& r : controller->list_jobs(all).jobs) j.push_back(to_json(r));
    for (const auto& v : controller->nodes())
      j.push_back(json{{"node", v.record.name},
                       {"state", to_string(v.record.state)},
                       {"reason", v.record.reason},
                       {"boot", v.record.boot_id}});
    IdentityRegistry& ids = controller->identities();
    for (const auto& t : ids.tenants()) j.push_back(to_json(t));
    for (const auto& u : ids.users()) j.push_back(to_json(u));
    for (const auto& t : ids.tokens()) j.push_back(to_json(t));
    j.push_back(controller->shares().yaml);
    return j.dump();
  }

  http::Response call(Caller who, const std::string& method, const std::string& path,
                      const std::string& body, int n) {
    http::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.peer = "test-" + std::to_string(n);  // no slow-down across cases (see ThrottlesGuessing)
    if (who != kNoToken) req.headers.emplace_back("Authorization", "Bearer " + token[who]);
    http::Response res;
    server->handle(req, res);
    return res;
  }

  ScratchDir dir;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<HttpServer> server;
  std::string token[kCallers];
};

char outcome(int status) {
  if (status >= 200 && status < 300) return 'Y';
  if (status == 403) return 'F';
  if (status == 404) return 'N';
  if (status == 401) return 'U';
  return '?';
}

TEST_F(AccessMatrix, EveryRouteEveryCaller) {
  std::map<std::string, std::string> table;
  for (const Row& row : kTable) {
    ASSERT_EQ(std::string(row.expect).size(), static_cast<std::size_t>(kCallers)) << row.route;
    table[row.route] = row.expect;
  }
  std::set<std::string> seen;
  int n = 0;
  for (const RouteInfo& route : server->routes()) {
    const std::string key = route.method + " " + route.pattern;
    seen.insert(key);
    auto row = table.find(key);
    if (row == table.end()) {
      ADD_FAILURE() << key << " has no row in the access table: say who may call it";
      continue;
    }
    for (int who = 0; who < kCallers; ++who) {
      auto [path, body] = call_of(route, ++n);
      const std::string before = state();
      http::Response res = call(static_cast<Caller>(who), route.method, path, body, n);
      const char want = row->second[who];
      EXPECT_EQ(outcome(res.status), want)
          << key << " by " << kCallerNames[who] << ": HTTP " << res.status << " " << res.body;
      if (want != 'Y') {
        EXPECT_EQ(state(), before)
            << key << " by " << kCallerNames[who] << " was refused but changed the state";
        EXPECT_EQ(res.body.find(token[kOwner]), std::string::npos);
      }
    }
  }
  for (const auto& [key, expect] : table)
    EXPECT_TRUE(seen.count(key)) << "the table names a route the server does not have: " << key;
}

// Another tenant's job is answered exactly as a job that does not exist (ids reveal nothing).
TEST_F(AccessMatrix, AnotherTenantsJobLooksLikeNoJob) {
  const std::string id = owners_job();
  http::Response hidden = call(kOutsider, "GET", "/api/v1/jobs/" + id, "", 1);
  http::Response missing = call(kOutsider, "GET", "/api/v1/jobs/999999", "", 2);
  EXPECT_EQ(hidden.status, 404);
  const std::string text = hidden.body;
  std::string expected = missing.body;
  expected.replace(expected.find("999999"), 6, id);
  EXPECT_EQ(text, expected);
  // And a listing by the outsider shows none of tenant A's jobs.
  http::Response list = call(kOutsider, "GET", "/api/v1/jobs", "", 3);
  EXPECT_EQ(json::parse(list.body)["jobs"].size(), 0u);
}

// A job's environment values and script are its owner's and the admins': a viewer of the same
// tenant sees the names only. Tokens never come back from the API, not even as hashes.
TEST_F(AccessMatrix, SecretsAreShownToOwnerAndAdminsOnly) {
  JobSpec spec;
  spec.user = "owner";
  spec.tenant = "A";
  spec.argv = {"true"};
  spec.work_dir = "/tmp";
  spec.hold = true;
  spec.env = {"API_KEY=s3cr3t-value"};
  spec.script = "#!/bin/sh\necho s3cr3t-script\n";
  const std::string id = std::to_string(controller->submit({spec}).front());
  for (Caller who : {kOwner, kAdmin, kTenantAdm}) {
    http::Response r = call(who, "GET", "/api/v1/jobs/" + id, "", who);
    EXPECT_NE(r.body.find("s3cr3t-value"), std::string::npos) << kCallerNames[who];
  }
  for (Caller who : {kViewer, kPeer, kOperator}) {
    for (const std::string& path : {"/api/v1/jobs/" + id, std::string("/api/v1/jobs")}) {
      http::Response r = call(who, "GET", path, "", 100 + who);
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.body.find("s3cr3t"), std::string::npos) << kCallerNames[who] << " " << path;
      EXPECT_NE(r.body.find("API_KEY="), std::string::npos) << kCallerNames[who];
    }
  }
  http::Response tokens = call(kAdmin, "GET", "/api/v1/tokens", "", 200);
  EXPECT_EQ(tokens.status, 200);
  EXPECT_EQ(tokens.body.find("\"hash\""), std::string::npos);
  for (const std::string& t : token) {
    if (!t.empty()) {
      EXPECT_EQ(tokens.body.find(t.substr(20)), std::string::npos);
    }
  }
}

// A job's user is the token's; -A picks one of the caller's tenants, any other is refused.
TEST_F(AccessMatrix, SubmitChargesTheCallersTenant) {
  auto submit = [&](Caller who, const std::string& body, int n) {
    return call(who, "POST", "/api/v1/jobs", body, n);
  };
  http::Response r = submit(kOwner, R"({"argv":["true"],"hold":true,"work_dir":"/tmp"})", 1);
  ASSERT_EQ(r.status, 201) << r.body;
  JobRecord rec = controller->get_job(json::parse(r.body)["id"].get<JobId>());
  EXPECT_EQ(rec.spec.user, "owner");
  EXPECT_EQ(rec.spec.tenant, "A");
  EXPECT_EQ(rec.spec.unix_user, "nobody") << "its tasks run as the account the user is bound to";
  // What the request says of the Unix user counts for nothing.
  r = submit(kOwner, R"({"argv":["true"],"hold":true,"unix_user":"root","work_dir":"/tmp"})", 6);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(controller->get_job(json::parse(r.body)["id"].get<JobId>()).spec.unix_user, "nobody");
  EXPECT_EQ(submit(kOwner, R"({"argv":["true"],"tenant":"B","work_dir":"/tmp"})", 2).status, 403);
  EXPECT_EQ(submit(kOwner, R"({"argv":["true"],"user":"peer","work_dir":"/tmp"})", 3).status, 403);
  EXPECT_EQ(submit(kAdmin, R"({"argv":["true"],"tenant":"nope","work_dir":"/tmp"})", 4).status,
            400);
  http::Response b =
      submit(kAdmin, R"({"argv":["true"],"tenant":"B","hold":true,"work_dir":"/tmp"})", 5);
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(controller->get_job(json::parse(b.body)["id"].get<JobId>()).spec.tenant, "B");
}

// Without authentication (--insecure-no-auth) a job runs as the Unix user its request names when
// that is a valid Unix name, else as the agent (""); with no user named, the controller's own.
TEST_F(AccessMatrix, WithoutAuthenticationTheRequestsUserIsTheUnixUser) {
  HttpServerOptions options;
  options.require_auth = false;
  options.insecure_user = "root";
  HttpServer open_server(*controller, nullptr, options);
  auto unix_user_of = [&](const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.path = "/api/v1/jobs";
    req.body = body;
    req.peer = "test-insecure";
    http::Response res;
    open_server.handle(req, res);
    EXPECT_EQ(res.status, 201) << res.body;
    if (res.status != 201) return std::string("?");
    return controller->get_job(json::parse(res.body)["id"].get<JobId>()).spec.unix_user;
  };
  EXPECT_EQ(unix_user_of(R"({"argv":["true"],"hold":true,"user":"ada","work_dir":"/tmp"})"), "ada");
  EXPECT_EQ(unix_user_of(R"({"argv":["true"],"hold":true,"user":"Ada L","work_dir":"/tmp"})"), "");
  EXPECT_EQ(unix_user_of(R"({"argv":["true"],"hold":true,"work_dir":"/tmp"})"), "root");
  EXPECT_EQ(
      unix_user_of(
          R"({"argv":["true"],"hold":true,"user":"ada","unix_user":"root","work_dir":"/tmp"})"),
      "ada");
}

// Past a burst of bad credentials from one address, each further failure is answered later
// (429, by the listener, holding no thread); a valid token from that address is not held up.
TEST_F(AccessMatrix, ThrottlesGuessingButNotValidTokens) {
  int deferred = 0;
  for (int i = 0; i < 40; ++i) {
    http::Request req;
    req.method = "GET";
    req.path = "/api/v1/jobs";
    req.peer = "10.1.2.3";
    req.headers.emplace_back("Authorization", "Bearer " + token[kBadToken]);
    http::Response res;
    server->handle(req, res);
    if (res.deferred) {
      ++deferred;
      EXPECT_GE(res.deferred->timeout().count(), 500);
      res.deferred->finish(res);
      EXPECT_EQ(res.status, 429);
    } else {
      EXPECT_EQ(res.status, 401);
    }
  }
  EXPECT_GE(deferred, 15);
  http::Request ok;
  ok.method = "GET";
  ok.path = "/api/v1/jobs";
  ok.peer = "10.1.2.3";
  ok.headers.emplace_back("Authorization", "Bearer " + token[kViewer]);
  http::Response res;
  server->handle(ok, res);
  EXPECT_FALSE(res.deferred);
  EXPECT_EQ(res.status, 200);
}

// Revocation is in force when the call returns; a deleted user's tokens die with it.
TEST_F(AccessMatrix, RevocationAndDeletionTakeEffectAtOnce) {
  IdentityRegistry& ids = controller->identities();
  NewToken t = ids.create_token(TokenKind::user, "peer", 0);
  ASSERT_TRUE(ids.authenticate(t.text));
  ids.revoke_token(t.record.id);
  EXPECT_FALSE(ids.authenticate(t.text));
  NewToken v = ids.create_token(TokenKind::user, "viewer", 0);
  ids.delete_user("viewer");
  EXPECT_FALSE(ids.authenticate(v.text));
  EXPECT_FALSE(ids.authenticate(token[kViewer]));
  // And all of it survives a restart: the store has the same identities.
  server.reset();
  controller.reset();
  controller =
      std::make_unique<Controller>(ControllerOptions{}, open_sqlite_store(dir / "state.db"));
  EXPECT_FALSE(controller->identities().authenticate(t.text));
  EXPECT_FALSE(controller->identities().authenticate(token[kViewer]));
  auto who = controller->identities().authenticate(token[kOutsider]);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "outsider");
  EXPECT_EQ(who->tenants, std::vector<std::string>{"B"});
  auto node = controller->identities().authenticate(token[kNode]);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->kind, Principal::Kind::node);
  EXPECT_EQ(node->name, "n1");
}

}  // namespace
}  // namespace zs::test
