// The Store conformance suite (see store_conformance.h), instantiated here for SQLite.
#include "store_conformance.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "api/json_codec.h"
#include "api/json_limits.h"
#include "core/accounting.h"

namespace zs {
// Readable failures: a record as its JSON.
static void PrintTo(const UsageRecord& u, std::ostream* os) {
  *os << to_json(u).dump();
}
}  // namespace zs

namespace zs::test {
namespace {

// A typical job: a short command line, a name and a user.
JobRecord plain_job(JobId id, JobState state = JobState::pending, TimeMs end_ms = 0) {
  JobRecord r;
  r.id = id;
  r.spec.name = "job-" + std::to_string(id);
  r.spec.user = "ada";
  r.spec.argv = {"python", "train.py", "--epochs=3"};
  r.spec.accel_count = 1;
  r.state = state;
  r.submit_ms = 1'700'000'000'000 + static_cast<TimeMs>(id % 1'000'000);
  r.end_ms = end_ms;
  return r;
}

// Every field set, with unicode, escapes and extreme values.
JobRecord rich_job(JobId id) {
  JobRecord r;
  r.id = id;
  JobSpec& s = r.spec;
  s.name = "训练-résumé 🚀 \"quoted\"";
  s.user = "ådä";
  s.tenant = "lab-λ";
  s.partition = "gpu";
  s.argv = {"bash", "-c", "echo 'a\\b' \"$X\"\n\ttab", ""};
  s.script = "#!/bin/bash\n#ZS -N 2\nsrun python train.py \"$@\"  # ✓\n";
  s.work_dir = "/home/ådä/проект";
  s.env = {"A=1", "EMPTY=", "U=ünï"};
  s.accel_type = "A100-80G";
  s.accel_count = 16;
  s.nodes = 2;
  s.accel_per_node = 8;
  s.tasks_per_node = 8;
  s.ntasks = 16;
  s.cpus_per_task = 2.5;
  s.mem_mib = 512 * 1024;
  s.walltime = 36 * 3600 * 1000LL;
  s.stdout_path = "out-%j-%a.txt";
  s.stderr_path = "err-%x-%%.txt";
  s.array = "0-15:2,20%4";
  s.after_ok = {1, 2, 3};
  s.max_retries = 3;
  s.priority = std::numeric_limits<std::int32_t>::min();
  r.state = JobState::running;
  r.submit_ms = 1'700'000'000'000;
  r.start_ms = 1'700'000'001'000;
  r.end_ms = 1'700'000'000'500;  // of the previous attempt
  r.attempt = 2;
  r.exit_code = -1;
  r.reason = "requeued: node b lost";
  r.assignment = {{"a", {0, 1, 2, 3, 4, 5, 6, 7}}, {"b", {0, 1, 2, 3, 4, 5, 6, 7}}};
  r.master_port = 29500;
  r.array_job_id = id - 1;
  r.array_task_id = 0;
  return r;
}

NodeRecord make_node(std::string name, NodeStatus state = NodeStatus::up) {
  NodeRecord n;
  n.name = std::move(name);
  n.address = "10.0.0." + std::to_string(n.name.size());
  n.accel_type = "H100";
  n.accel_count = 8;
  n.unhealthy = 0b1001;
  n.cpus = 95.5;
  n.mem_mib = 2'000'000;
  n.state = state;
  n.reason = state == NodeStatus::up ? "" : "fan 风扇";
  n.last_seen_ms = 1'700'000'000'123;
  n.boot_id = "boot-" + n.name;
  return n;
}

WriteBatch batch_of(std::vector<JobRecord> jobs, std::vector<NodeRecord> nodes = {},
                    std::vector<std::string> removed = {}) {
  WriteBatch b;
  b.jobs = std::move(jobs);
  b.nodes = std::move(nodes);
  b.removed_nodes = std::move(removed);
  return b;
}

std::vector<JobId> ids_of(const std::vector<JobRecord>& jobs) {
  std::vector<JobId> out;
  for (const JobRecord& j : jobs) out.push_back(j.id);
  return out;
}

std::vector<std::string> names_of(const std::vector<NodeRecord>& nodes) {
  std::vector<std::string> out;
  for (const NodeRecord& n : nodes) out.push_back(n.name);
  return out;
}

TEST_P(StoreConformance, EmptyStore) {
  auto store = open();
  EXPECT_TRUE(store->load_jobs().empty());
  EXPECT_TRUE(store->load_nodes().empty());
  EXPECT_EQ(store->max_job_id(), 0u);
  EXPECT_EQ(store->purge_jobs_ended_before(std::numeric_limits<TimeMs>::max()), 0u);
  EXPECT_FALSE(store->describe().empty());
  store->write(WriteBatch{});
  EXPECT_TRUE(store->load_jobs().empty());
}

TEST_P(StoreConformance, InsertThenLoadReturnsEqualRecords) {
  auto store = open();
  JobRecord big = rich_job(7);
  big.spec.script = std::string(kMaxJsonScriptBytes - 100, '#') + "\necho 完成\n";
  big.spec.env.assign(1000, "LONG_VARIABLE_NAME=" + std::string(200, 'v'));
  JobRecord extreme = plain_job(kMaxJobId, JobState::node_fail, kMaxJsonTimeMs);
  extreme.exit_code = std::numeric_limits<int>::min();
  extreme.spec.priority = std::numeric_limits<std::int32_t>::max();
  extreme.array_task_id = std::numeric_limits<int>::max();
  std::vector<JobRecord> jobs = {plain_job(1), rich_job(2), big, extreme};
  NodeRecord odd = make_node("gpu-01", NodeStatus::drained);
  odd.unhealthy = std::numeric_limits<std::uint64_t>::max();
  store->write(batch_of(jobs, {make_node("cpu-01"), odd}));
  EXPECT_EQ(store->load_jobs(), jobs);
  EXPECT_EQ(store->load_nodes(), (std::vector<NodeRecord>{make_node("cpu-01"), odd}));
}

TEST_P(StoreConformance, LoadsInIdAndNameOrder) {
  auto store = open();
  store->write(batch_of({plain_job(30), plain_job(2), plain_job(1000)}, {make_node("b")}));
  store->write(batch_of({plain_job(7), plain_job(1)}, {make_node("a"), make_node("c")}));
  EXPECT_EQ(ids_of(store->load_jobs()), (std::vector<JobId>{1, 2, 7, 30, 1000}));
  EXPECT_EQ(names_of(store->load_nodes()), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_P(StoreConformance, ReplacesJobsById) {
  auto store = open();
  store->write(batch_of({plain_job(1), plain_job(2)}));
  JobRecord started = rich_job(2);
  store->write(batch_of({started}));
  JobRecord ended = started;
  ended.state = JobState::completed;
  ended.end_ms = started.start_ms + 5000;
  ended.assignment.clear();
  ended.reason = "";
  store->write(batch_of({ended}));
  EXPECT_EQ(store->load_jobs(), (std::vector<JobRecord>{plain_job(1), ended}));
}

TEST_P(StoreConformance, SameJobTwiceInOneBatchKeepsTheLast) {
  auto store = open();
  JobRecord first = plain_job(5), second = plain_job(5, JobState::running);
  second.attempt = 1;
  store->write(batch_of({first, second}));
  EXPECT_EQ(store->load_jobs(), std::vector<JobRecord>{second});
}

// More rows than fit one SQL statement's parameters (PostgreSQL: 65535 / 14 columns).
TEST_P(StoreConformance, ManyJobsInOneBatch) {
  auto store = open();
  WriteBatch b;
  for (JobId id = 1; id <= 10'000; ++id) b.jobs.push_back(plain_job(id));
  store->write(b);
  std::vector<JobRecord> loaded = store->load_jobs();
  ASSERT_EQ(loaded.size(), b.jobs.size());
  EXPECT_EQ(loaded, b.jobs);
  EXPECT_EQ(store->max_job_id(), 10'000u);
}

TEST_P(StoreConformance, MaxJobIdNeverGoesDown) {
  auto store = open();
  store->write(batch_of({plain_job(3), plain_job(9), plain_job(4)}));
  EXPECT_EQ(store->max_job_id(), 9u);
  store->write(batch_of({plain_job(5)}));
  EXPECT_EQ(store->max_job_id(), 9u);
  store->write(batch_of({}, {make_node("a")}));
  EXPECT_EQ(store->max_job_id(), 9u);
  // Purging the newest job must not let its id be handed out again.
  store->write(batch_of({plain_job(9, JobState::completed, 100)}));
  EXPECT_EQ(store->purge_jobs_ended_before(200), 1u);
  EXPECT_EQ(ids_of(store->load_jobs()), (std::vector<JobId>{3, 4, 5}));
  EXPECT_EQ(store->max_job_id(), 9u);
}

TEST_P(StoreConformance, NodesAreUpsertedAndRemovedByName) {
  auto store = open();
  store->write(batch_of({}, {make_node("a"), make_node("b"), make_node("c")}));
  NodeRecord b_down = make_node("b", NodeStatus::down);
  b_down.last_seen_ms += 60'000;
  store->write(batch_of({}, {b_down}, {"a", "no-such-node"}));
  EXPECT_EQ(store->load_nodes(), (std::vector<NodeRecord>{b_down, make_node("c")}));
  // Removals apply after upserts in the same batch.
  store->write(batch_of({}, {make_node("d")}, {"c", "d"}));
  EXPECT_EQ(store->load_nodes(), std::vector<NodeRecord>{b_down});
  store->write(batch_of({}, {make_node("a")}));  // a removed node can come back
  EXPECT_EQ(names_of(store->load_nodes()), (std::vector<std::string>{"a", "b"}));
}

TEST_P(StoreConformance, PurgeDeletesOnlyTerminalJobsEndedBefore) {
  auto store = open();
  const TimeMs cut = 1'000'000;
  std::vector<JobRecord> jobs;
  JobId id = 0;
  std::set<JobId> expect_purged;
  for (int s = 0; s <= static_cast<int>(JobState::node_fail); ++s) {
    auto state = static_cast<JobState>(s);
    for (TimeMs end : {TimeMs{1}, cut - 1, cut, cut + 1}) {
      jobs.push_back(plain_job(++id, state, end));
      if (is_terminal(state) && end < cut) expect_purged.insert(id);
    }
  }
  store->write(batch_of(jobs));
  EXPECT_EQ(store->purge_jobs_ended_before(cut), expect_purged.size());
  std::vector<JobRecord> kept;
  for (const JobRecord& j : jobs)
    if (!expect_purged.count(j.id)) kept.push_back(j);
  EXPECT_EQ(store->load_jobs(), kept);
  EXPECT_EQ(store->purge_jobs_ended_before(cut), 0u);
}

TEST_P(StoreConformance, ReopenKeepsEverything) {
  std::vector<JobRecord> jobs = {plain_job(1), rich_job(2), plain_job(3, JobState::failed, 10)};
  std::vector<NodeRecord> nodes = {make_node("a"), make_node("b", NodeStatus::drained)};
  {
    auto store = open();
    store->write(batch_of(jobs, nodes));
    store->write(batch_of({plain_job(40, JobState::cancelled, 20)}));
    EXPECT_EQ(store->purge_jobs_ended_before(30), 2u);  // jobs 3 and 40
  }
  jobs.pop_back();
  {
    auto store = open();
    EXPECT_EQ(store->load_jobs(), jobs);
    EXPECT_EQ(store->load_nodes(), nodes);
    EXPECT_EQ(store->max_job_id(), 40u);
    store->write(batch_of({plain_job(41)}, {}, {"a"}));
  }
  auto store = open();
  jobs.push_back(plain_job(41));
  EXPECT_EQ(store->load_jobs(), jobs);
  EXPECT_EQ(names_of(store->load_nodes()), std::vector<std::string>{"b"});
  EXPECT_EQ(store->max_job_id(), 41u);
}

TenantRecord tenant(std::string name) {
  return TenantRecord{std::move(name), 1'700'000'000'000};
}

UserRecord user(std::string name, Role role, std::vector<std::string> tenants) {
  UserRecord u;
  u.name = std::move(name);
  u.role = role;
  u.tenants = std::move(tenants);
  u.unix_user = u.name == "root-admin" ? "root" : "";
  u.created_ms = 1'700'000'000'001;
  return u;
}

TokenRecord token(std::string id, std::string subject, TokenKind kind = TokenKind::user) {
  TokenRecord t;
  t.id = std::move(id);
  t.kind = kind;
  t.subject = std::move(subject);
  t.hash = std::string(64, 'a');
  t.created_ms = 1'700'000'000'002;
  t.expires_ms = kind == TokenKind::user ? 1'800'000'000'000 : 0;
  return t;
}

// Identities are upserted by name (tokens by id), removed by name, and survive a reopen; a
// revoked token stays, so that its id is never valid again.
TEST_P(StoreConformance, IdentitiesAreUpsertedRemovedAndKept) {
  {
    auto store = open();
    EXPECT_TRUE(store->load_tenants().empty());
    EXPECT_TRUE(store->load_users().empty());
    EXPECT_TRUE(store->load_tokens().empty());
    WriteBatch b;
    b.tenants = {tenant("lab-b"), tenant("lab-a"), tenant("gone")};
    b.users = {user("root-admin", Role::cluster_admin, {}),
               user("ada", Role::member, {"lab-a", "lab-b"})};
    b.tokens = {token("00000000000000ff", "ada"), token("0000000000000001", "n1", TokenKind::node)};
    store->write(b);
    WriteBatch change;
    change.users = {user("ada", Role::tenant_admin, {"lab-b"})};
    TokenRecord revoked = token("00000000000000ff", "ada");
    revoked.revoked_ms = 1'700'000'100'000;
    change.tokens = {revoked};
    change.removed_tenants = {"gone"};
    change.removed_users = {"nobody"};  // removing what is not there is no error
    store->write(change);
  }
  auto store = open();
  EXPECT_EQ(store->load_tenants(), (std::vector<TenantRecord>{tenant("lab-a"), tenant("lab-b")}));
  EXPECT_EQ(store->load_users(),
            (std::vector<UserRecord>{user("ada", Role::tenant_admin, {"lab-b"}),
                                     user("root-admin", Role::cluster_admin, {})}));
  auto tokens = store->load_tokens();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0], token("0000000000000001", "n1", TokenKind::node));
  EXPECT_EQ(tokens[1].revoked_ms, 1'700'000'100'000);
  EXPECT_FALSE(tokens[1].valid_at(1'700'000'200'000));
  EXPECT_TRUE(store->load_jobs().empty());  // identities are not jobs
}

// A batch mixing jobs and identities is one transaction: all of it or none.
TEST_P(StoreConformance, IdentitiesAndJobsCommitTogether) {
  auto store = open();
  WriteBatch b;
  b.jobs = {plain_job(1)};
  b.tenants = {tenant("lab")};
  b.tokens = {token("0000000000000002", "ada")};
  store->write(b);
  EXPECT_EQ(store->load_jobs().size(), 1u);
  EXPECT_EQ(store->load_tenants().size(), 1u);
  EXPECT_EQ(store->load_tokens().size(), 1u);
}

// A record the codec could not read back is refused; whatever the batch wrote before it is
// rolled back and the store stays usable.
TEST_P(StoreConformance, FailedBatchWritesNothing) {
  auto store = open();
  store->write(batch_of({plain_job(1)}, {make_node("a")}));
  const std::vector<JobRecord> jobs_before = store->load_jobs();
  const std::vector<NodeRecord> nodes_before = store->load_nodes();

  JobRecord nul = plain_job(4);
  nul.spec.argv[1] = std::string("tra\0in.py", 9);
  JobRecord huge_id = plain_job(kMaxJobId + 1);
  JobRecord nan = plain_job(5);
  nan.spec.cpus_per_task = std::numeric_limits<double>::quiet_NaN();
  NodeRecord bad_node = make_node("z");
  bad_node.reason = "\xff\xfe not utf-8";
  JobRecord replaced = plain_job(1, JobState::running);
  const std::vector<WriteBatch> bad_batches = {
      batch_of({plain_job(2), replaced, plain_job(3), nul}, {make_node("b")}, {"a"}),
      batch_of({replaced, plain_job(100), huge_id}),
      batch_of({plain_job(6), nan, plain_job(7)}),
      batch_of({replaced, plain_job(100)}, {make_node("b"), bad_node}, {"a"}),
  };
  for (std::size_t i = 0; i < bad_batches.size(); ++i) {
    try {
      store->write(bad_batches[i]);
      ADD_FAILURE() << "batch " << i << " was written";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot be stored"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store->load_jobs(), jobs_before) << "batch " << i;
    EXPECT_EQ(store->load_nodes(), nodes_before) << "batch " << i;
    EXPECT_EQ(store->max_job_id(), 1u) << "batch " << i;
  }
  store->write(batch_of({plain_job(2)}));  // still usable
  EXPECT_EQ(ids_of(store->load_jobs()), (std::vector<JobId>{1, 2}));
  store.reset();
  EXPECT_EQ(ids_of(open()->load_jobs()), (std::vector<JobId>{1, 2}));
}

// ---------------------------------------------------------------------------------------------
// Accounting records (issue 16): one per attempt, keyed by (job, attempt), kept after purges.

UsageRecord usage(JobId job, int attempt, TimeMs start, TimeMs end, std::string tenant = "lab") {
  UsageRecord u;
  u.tenant = std::move(tenant);
  u.user = "ada";
  u.job = job;
  u.attempt = attempt;
  u.accel_type = "MLU590";
  u.accel_count = 8;
  u.start_ms = start;
  u.end_ms = end;
  u.exit_code = attempt == 0 ? -15 : 0;
  u.state = attempt == 0 ? "preempted" : "completed";
  u.price_per_hour = 8.123456789;
  return u;
}

WriteBatch usage_batch(std::vector<UsageRecord> records, std::vector<JobRecord> jobs = {}) {
  WriteBatch b;
  b.usage = std::move(records);
  b.jobs = std::move(jobs);
  return b;
}

TEST_P(StoreConformance, UsageIsAddedAndLoadedInJobAttemptOrder) {
  auto store = open();
  EXPECT_TRUE(store->load_usage({}).empty());
  UsageRecord odd = usage(3, 0, 1000, 1000, "lab-λ");
  odd.user = "ådä";
  odd.state = "node_fail";
  odd.exit_code = std::numeric_limits<int>::min();
  odd.price_per_hour = 0;
  UsageRecord extreme = usage(kMaxJobId, std::numeric_limits<int>::max(), 0, kMaxJsonTimeMs);
  extreme.accel_count = 1;
  extreme.price_per_hour = kMaxUsagePrice;
  ASSERT_EQ(usage_record_problem(extreme), "holds more than 2^53 accelerator-ms");
  extreme.end_ms = kMaxUsageAccelMs;
  store->write(usage_batch({usage(7, 1, 5000, 9000), odd, extreme, usage(7, 0, 2000, 4000)}));
  EXPECT_TRUE(store->load_jobs().empty());  // usage is not jobs
  EXPECT_EQ(store->load_usage({}), (std::vector<UsageRecord>{odd, usage(7, 0, 2000, 4000),
                                                             usage(7, 1, 5000, 9000), extreme}));
}

// load_usage selects what in_window() (core/accounting.h) accepts, and whole records.
TEST_P(StoreConformance, UsageIsSelectedByOverlapWithTheWindow) {
  auto store = open();
  std::vector<UsageRecord> all = {
      usage(1, 0, 100, 200),    // ends where the window starts
      usage(2, 0, 150, 250),    // crosses the start
      usage(3, 0, 300, 400),    // inside
      usage(4, 0, 900, 1100),   // crosses the end
      usage(5, 0, 1000, 1200),  // starts where the window ends
      usage(6, 0, 100, 2000),   // covers it
      usage(7, 0, 200, 200),    // lasted no time, at the start
      usage(8, 0, 1000, 1000),  // lasted no time, at the end
      usage(9, 0, 500, 500, "other"),
  };
  store->write(usage_batch(all));
  auto jobs = [](const std::vector<UsageRecord>& records) {
    std::vector<JobId> out;
    for (const UsageRecord& u : records) out.push_back(u.job);
    return out;
  };
  EXPECT_EQ(jobs(store->load_usage({200, 1000})), (std::vector<JobId>{2, 3, 4, 6, 7, 9}));
  EXPECT_EQ(jobs(store->load_usage({200, 1000, {"lab"}})), (std::vector<JobId>{2, 3, 4, 6, 7}));
  EXPECT_EQ(jobs(store->load_usage({0, kNever, {"other", "nobody"}})), std::vector<JobId>{9});
  EXPECT_TRUE(store->load_usage({1000, 1000}).empty());
  EXPECT_TRUE(store->load_usage({5000, 1000}).empty());
  EXPECT_EQ(store->load_usage({300, 301}).at(0), all[2]);  // whole, not pro-rated
  // Against the core's rule, for many windows.
  std::mt19937 rng(16);
  for (int i = 0; i < 200; ++i) {
    TimeMs a = static_cast<TimeMs>(rng() % 2200), b = a + static_cast<TimeMs>(rng() % 1200);
    std::vector<UsageRecord> expect;
    for (const UsageRecord& u : all)
      if (in_window(u, {a, b})) expect.push_back(u);
    EXPECT_EQ(store->load_usage({a, b}), expect) << "[" << a << ", " << b << ")";
  }
}

// A replay after a crash writes the same attempt again: it replaces, so it is billed once.
TEST_P(StoreConformance, UsageOfTheSameAttemptIsReplacedNotAdded) {
  auto store = open();
  store->write(usage_batch({usage(1, 0, 100, 200), usage(1, 1, 300, 400)}));
  store->write(usage_batch({usage(1, 0, 100, 200)}));
  UsageRecord later = usage(1, 1, 300, 450);
  store->write(usage_batch({usage(1, 1, 300, 420), later}));  // twice in one batch: the last
  EXPECT_EQ(store->load_usage({}), (std::vector<UsageRecord>{usage(1, 0, 100, 200), later}));
}

TEST_P(StoreConformance, PurgingJobsKeepsTheirUsageAndReopenKeepsIt) {
  std::vector<UsageRecord> records = {usage(1, 0, 10, 50), usage(1, 1, 60, 90),
                                      usage(2, 0, 20, 80)};
  {
    auto store = open();
    store->write(usage_batch({records[0]}, {plain_job(1, JobState::running)}));
    store->write(usage_batch({records[1], records[2]}, {plain_job(1, JobState::completed, 90),
                                                        plain_job(2, JobState::failed, 80)}));
    EXPECT_EQ(store->purge_jobs_ended_before(1000), 2u);
    EXPECT_TRUE(store->load_jobs().empty());
    EXPECT_EQ(store->load_usage({}), records);
  }
  auto store = open();
  EXPECT_EQ(store->load_usage({}), records);
  EXPECT_EQ(store->max_job_id(), 2u);
}

// Page after page, a query returns what it returns at once, for any page size and filter.
TEST_P(StoreConformance, UsagePagesAddUpToTheWholeQuery) {
  auto store = open();
  std::vector<UsageRecord> all;
  for (JobId job = 1; job <= 7; ++job)
    for (int attempt = 1; attempt <= static_cast<int>(job % 3) + 1; ++attempt)
      all.push_back(usage(job, attempt, static_cast<TimeMs>(job * 100 + attempt * 10),
                          static_cast<TimeMs>(job * 100 + attempt * 10 + 50),
                          job % 2 ? "lab" : "other"));
  store->write(usage_batch(all));
  for (const UsageQuery& q :
       {UsageQuery(), UsageQuery(300, 600), UsageQuery(0, kNever, {"other"}), UsageQuery(5, 5)}) {
    const std::vector<UsageRecord> whole = store->load_usage(q);
    for (std::size_t limit : {1u, 2u, 3u, 5u, 100u}) {
      std::vector<UsageRecord> paged;
      std::optional<UsageKey> after;
      int pages = 0;
      do {
        UsagePage page = store->load_usage_page(q, after, limit);
        EXPECT_LE(page.records.size(), limit);
        paged.insert(paged.end(), page.records.begin(), page.records.end());
        after = page.next;
        ASSERT_LT(++pages, 100);
      } while (after);
      EXPECT_EQ(paged, whole) << "limit " << limit << ", window [" << q.from << ", " << q.to << ")";
    }
  }
}

TEST_P(StoreConformance, SettingsAreReplacedWholeAndKept) {
  {
    auto store = open();
    EXPECT_EQ(store->load_setting("tenants"), std::nullopt);
    WriteBatch b;
    b.settings = {{"tenants", "first"}, {"other", ""}};
    store->write(b);
    b.settings = {{"tenants", std::string("line 1\nline \"2\" \xe6\x99\xba")}};
    store->write(b);
  }
  auto store = open();
  EXPECT_EQ(store->load_setting("tenants"), std::string("line 1\nline \"2\" \xe6\x99\xba"));
  EXPECT_EQ(store->load_setting("other"), std::string());
  EXPECT_EQ(store->load_setting("missing"), std::nullopt);
}

// A record that could not be read back, or could not be billed, fails the whole batch.
TEST_P(StoreConformance, BadUsageFailsTheBatch) {
  auto store = open();
  store->write(usage_batch({usage(1, 0, 10, 50)}));
  UsageRecord backwards = usage(2, 0, 50, 10);
  UsageRecord nan = usage(3, 0, 10, 50);
  nan.price_per_hour = std::numeric_limits<double>::quiet_NaN();
  UsageRecord bad_text = usage(4, 0, 10, 50);
  bad_text.tenant = "\xff";
  UsageRecord negative = usage(5, 0, 10, 50);
  negative.accel_count = -1;
  UsageRecord no_state = usage(6, 0, 10, 50);
  no_state.state = "";
  for (const UsageRecord& bad : {backwards, nan, bad_text, negative, no_state}) {
    SCOPED_TRACE("job " + std::to_string(bad.job));
    try {
      store->write(usage_batch({usage(1, 0, 10, 70), bad}, {plain_job(9)}));
      ADD_FAILURE() << "written";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("usage of job " + std::to_string(bad.job) +
                                           " attempt 0 cannot be stored"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(store->load_usage({}), std::vector<UsageRecord>{usage(1, 0, 10, 50)});
    EXPECT_TRUE(store->load_jobs().empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Crash atomicity: a child writes numbered batches and reports each one through a pipe once
// write() has returned; the parent kills it with SIGKILL at a random moment, reopens the store
// and checks that every batch is wholly present or wholly absent, and every reported batch is
// present. (SIGKILL leaves the OS page cache intact, so this tests atomicity, not power loss.)

constexpr JobId kJobsPerBatch = 200;

// Batch b inserts jobs b*200+2 .. b*200+201, upserts node "n<b>" and replaces job 1 with
// attempt b, so a half-applied batch shows up in three places.
WriteBatch numbered_batch(std::uint32_t b) {
  WriteBatch batch;
  JobRecord head = plain_job(1, JobState::running);
  head.attempt = static_cast<int>(b);
  batch.jobs.push_back(head);
  for (JobId k = 0; k < kJobsPerBatch; ++k)
    batch.jobs.push_back(plain_job(b * kJobsPerBatch + 2 + k));
  batch.nodes.push_back(make_node("n" + std::to_string(b)));
  return batch;
}

[[noreturn]] void write_batches_forever(const StoreFactory& factory, const std::string& dir,
                                        int report_fd) {
  try {
    auto store = factory.open(dir);
    for (std::uint32_t b = 0;; ++b) {
      store->write(numbered_batch(b));
      if (::write(report_fd, &b, sizeof b) != sizeof b) _exit(4);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer child: %s\n", e.what());
  }
  _exit(3);
}

// Reads one report; false at end of file.
bool read_report(int fd, std::uint32_t& b) {
  std::size_t got = 0;
  auto* p = reinterpret_cast<char*>(&b);
  while (got < sizeof b) {
    ssize_t n = ::read(fd, p + got, sizeof b - got);
    if (n == 0) return false;
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return true;
}

TEST_P(StoreConformance, KilledWriterLeavesWholeBatches) {
  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ScratchDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      write_batches_forever(GetParam(), dir.path(), fds[1]);
    }
    ::close(fds[1]);
    // Let it finish a few batches, then kill it somewhere inside a later one.
    const std::uint32_t wait_for = 2 + rng() % 6;
    std::uint32_t b = 0;
    std::int64_t last_done = -1;
    while (last_done < static_cast<std::int64_t>(wait_for) && read_report(fds[0], b)) last_done = b;
    ::usleep(rng() % 20'000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    while (read_report(fds[0], b)) last_done = b;
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer child failed on its own (see its stderr)";
    ASSERT_GE(last_done, static_cast<std::int64_t>(wait_for));

    auto store = GetParam().open(dir.path());
    std::map<std::uint32_t, JobId> jobs_per_batch;
    JobId head_attempt = 0;
    for (const JobRecord& j : store->load_jobs()) {
      if (j.id == 1)
        head_attempt = static_cast<JobId>(j.attempt);
      else
        ++jobs_per_batch[static_cast<std::uint32_t>((j.id - 2) / kJobsPerBatch)];
    }
    std::set<std::string> nodes;
    for (const NodeRecord& n : store->load_nodes()) nodes.insert(n.name);
    // Present batches form a prefix: every reported one, perhaps one more that committed
    // before the kill but was not reported.
    const std::uint32_t present = static_cast<std::uint32_t>(jobs_per_batch.size());
    EXPECT_GE(present, static_cast<std::uint32_t>(last_done + 1));
    EXPECT_LE(present, static_cast<std::uint32_t>(last_done + 2));
    for (std::uint32_t k = 0; k < present; ++k) {
      EXPECT_EQ(jobs_per_batch[k], kJobsPerBatch) << "batch " << k;
      EXPECT_TRUE(nodes.count("n" + std::to_string(k))) << "batch " << k;
    }
    ASSERT_GT(present, 0u);
    EXPECT_EQ(jobs_per_batch.rbegin()->first, present - 1) << "a batch is missing before it";
    EXPECT_EQ(nodes.size(), present);
    EXPECT_EQ(head_attempt, present - 1);
    EXPECT_EQ(store->max_job_id(), (present - 1) * kJobsPerBatch + kJobsPerBatch + 1);
  }
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Store> open_test_sqlite_store(const std::string& dir) {
  return open_sqlite_store(dir + "/state.db");
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(StoreFactory{"sqlite", &open_test_sqlite_store}),
                         StoreConformance::name_of);

}  // namespace
}  // namespace zs::test
