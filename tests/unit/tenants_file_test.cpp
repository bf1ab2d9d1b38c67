// Tenants files (docs/tenants.md): the example of issue 16 parses into what it says, every
// mistake is an InputError at the offending node's line and column, and the checks against a
// cluster name short types and unpriced types.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/input_error.h"
#include "core/signal_name.h"
#include "core/tenant_shares.h"
#include "sim/cluster_file.h"
#include "sim/tenants_file.h"
#include "test_util.h"

namespace zs {
namespace {

using test::cat;
using test::error_of;
using test::type_of;

const char* const kExample = R"(tenants:
  - name: vision
    weight: 2                 # fair-share weight (default 1), > 0
    quota:                    # per accelerator type (catalog names/aliases)
      MLU590: {guaranteed: 64, borrow: 32}   # may run up to 96; 64 can never be taken away
      A100-SXM4-80GB: {guaranteed: 0, borrow: 16}
  - name: speech
    quota:
      MLU590: {guaranteed: 64, borrow: 0}
default:                      # optional: tenants not listed (may borrow, never a guarantee)
  weight: 1
  quota:
    MLU590: {borrow: unlimited}
prices:                       # per accelerator-hour, one currency unit
  MLU590: 8.5
  A100-SXM4-80GB: 20
fair_share: {half_life: 7d}
preemption: {signal: SIGUSR1, grace: 120s, min_runtime: 10m}
)";

TenantShares parse(const std::string& text) {
  return parse_tenants_yaml(text, "t.yaml", cat());
}

struct Failure {
  std::string where, message;
};

Failure failure_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return {e.where(), e.message()};
  }
  ADD_FAILURE() << "no InputError for:\n" << text;
  return {};
}

TEST(TenantsFile, TheIssueExampleParsesIntoWhatItSays) {
  const TenantShares s = parse(kExample);
  const TypeId mlu = type_of("MLU590"), a100 = type_of("A100-SXM4-80GB");
  ASSERT_EQ(s.tenants.size(), 2u);

  const TenantShare& vision = s.tenants[0];
  EXPECT_EQ(vision.name, "vision");
  EXPECT_EQ(vision.weight, 2.0);
  ASSERT_EQ(vision.quota.size(), cat().size());
  EXPECT_EQ(vision.of(mlu), (TypeQuota{64, 32}));
  EXPECT_EQ(vision.of(mlu).limit(), 96);
  EXPECT_EQ(vision.of(a100), (TypeQuota{0, 16}));
  EXPECT_EQ(vision.of(type_of("T4")), (TypeQuota{0, 0}));

  const TenantShare& speech = s.tenants[1];
  EXPECT_EQ(speech.name, "speech");
  EXPECT_EQ(speech.weight, 1.0);
  EXPECT_EQ(speech.of(mlu), (TypeQuota{64, 0}));
  EXPECT_EQ(speech.of(a100), (TypeQuota{0, 0}));

  ASSERT_TRUE(s.default_share.has_value());
  EXPECT_EQ(s.default_share->name, "");
  EXPECT_EQ(s.default_share->weight, 1.0);
  ASSERT_EQ(s.default_share->quota.size(), cat().size());
  EXPECT_EQ(s.default_share->of(mlu), (TypeQuota{0, TypeQuota::kUnlimited}));
  EXPECT_EQ(s.default_share->of(mlu).limit(), TypeQuota::kUnlimited);
  EXPECT_EQ(s.default_share->of(a100), (TypeQuota{0, 0}));

  ASSERT_EQ(s.price_per_hour.size(), cat().size());
  EXPECT_EQ(s.price_per_hour[mlu], 8.5);
  EXPECT_EQ(s.price_per_hour[a100], 20.0);
  EXPECT_EQ(s.price_per_hour[type_of("T4")], -1.0);
  EXPECT_EQ(s.price(mlu), 8.5);
  EXPECT_EQ(s.price(type_of("T4")), 0.0);

  EXPECT_EQ(s.half_life_ms, 604'800'000);
  EXPECT_EQ(s.preemption.signal, 10);
  EXPECT_EQ(s.preemption.signal_name, "SIGUSR1");
  EXPECT_EQ(s.preemption.grace_ms, 120'000);
  EXPECT_EQ(s.preemption.min_runtime_ms, 600'000);
  EXPECT_TRUE(s.preemption.signal_set);
  EXPECT_TRUE(s.preemption.grace_set);
  EXPECT_TRUE(s.preemption.min_runtime_set);
}

TEST(TenantsFile, FindAndShareOfWithTheDefaultEntry) {
  const TenantShares s = parse(kExample);
  EXPECT_EQ(s.find("vision"), 0);
  EXPECT_EQ(s.find("speech"), 1);
  EXPECT_EQ(s.find("nobody"), -1);
  EXPECT_EQ(&s.share_of("speech"), &s.tenants[1]);
  const TenantShare& other = s.share_of("nobody");
  EXPECT_EQ(&other, &*s.default_share);
  EXPECT_EQ(other.of(type_of("MLU590")).guaranteed, 0);
  EXPECT_EQ(other.of(type_of("MLU590")).limit(), TypeQuota::kUnlimited);
  EXPECT_EQ(other.of(type_of("A100-80GB")).limit(), 0);
}

TEST(TenantsFile, AnEmptyDefaultEntryHasWeightOneAndNothingToBorrow) {
  const TenantShares s = parse("default: {}\n");
  ASSERT_TRUE(s.default_share.has_value());
  EXPECT_EQ(s.default_share->name, "");
  EXPECT_EQ(s.default_share->weight, 1.0);
  ASSERT_EQ(s.default_share->quota.size(), cat().size());
  EXPECT_EQ(s.share_of("anyone").of(type_of("T4")).limit(), 0);
}

TEST(TenantsFile, FindAndShareOfWithoutADefaultEntry) {
  const TenantShares s = parse("tenants:\n  - name: a\n    quota: {T4: {guaranteed: 2}}\n");
  EXPECT_FALSE(s.default_share.has_value());
  EXPECT_EQ(s.find("a"), 0);
  EXPECT_EQ(s.share_of("a").of(type_of("T4")), (TypeQuota{2, 0}));
  const TenantShare& other = s.share_of("b");
  EXPECT_EQ(other.weight, 1.0);
  EXPECT_EQ(other.of(type_of("T4")), (TypeQuota{0, 0}));
  EXPECT_EQ(other.of(type_of("T4")).limit(), 0);
}

TEST(TenantsFile, TypeQuotaLimitSaturates) {
  EXPECT_EQ((TypeQuota{64, 32}).limit(), 96);
  EXPECT_EQ((TypeQuota{0, 0}).limit(), 0);
  EXPECT_EQ((TypeQuota{5, TypeQuota::kUnlimited}).limit(), TypeQuota::kUnlimited);
  EXPECT_EQ((TypeQuota{TypeQuota::kUnlimited - 1, 10}).limit(), TypeQuota::kUnlimited);
  EXPECT_EQ((TypeQuota{1'000'000, 1'000'000}).limit(), 2'000'000);
}

TEST(TenantsFile, EmptyFilesHaveNoTenantsAndTheDefaults) {
  for (const char* text : {"", "# nothing yet\n", "tenants:\n", "tenants: []\n", "~\n",
                           "tenants: []\nprices:\nfair_share:\npreemption:\n"}) {
    SCOPED_TRACE(text);
    const TenantShares s = parse(text);
    EXPECT_TRUE(s.tenants.empty());
    EXPECT_FALSE(s.default_share.has_value());
    EXPECT_TRUE(s.price_per_hour.empty());
    EXPECT_EQ(s.half_life_ms, TenantShares{}.half_life_ms);
    EXPECT_EQ(s.preemption, PreemptionSettings{});
    EXPECT_EQ(s.price(type_of("T4")), 1.0);  // no prices: bills in accelerator-hours
  }
}

TEST(TenantsFile, AliasesAndDefaults) {
  const TenantShares s = parse(
      "tenants:\n"
      "  - name: a.b_c-1\n"
      "    weight: 0.25\n"
      "    quota:\n"
      "      a100-80gb: {borrow: UNLIMITED}\n"
      "      V100: {guaranteed: 3}\n"
      "      910B3: {}\n"
      "default:\n"
      "prices: {A100-80GB: 0}\n");
  ASSERT_EQ(s.tenants.size(), 1u);
  const TenantShare& t = s.tenants[0];
  EXPECT_EQ(t.name, "a.b_c-1");
  EXPECT_EQ(t.weight, 0.25);
  EXPECT_EQ(t.of(type_of("A100-SXM4-80GB")), (TypeQuota{0, TypeQuota::kUnlimited}));
  EXPECT_EQ(t.of(type_of("V100-SXM2-32GB")), (TypeQuota{3, 0}));
  EXPECT_EQ(t.of(type_of("Ascend 910B3")), (TypeQuota{0, 0}));
  EXPECT_FALSE(s.default_share.has_value());  // `default:` without a value: none
  EXPECT_EQ(s.share_of("other").of(type_of("T4")).limit(), 0);
  EXPECT_EQ(s.price_per_hour[type_of("A100-SXM4-80GB")], 0.0);
  EXPECT_FALSE(s.preemption.signal_set);
  EXPECT_FALSE(s.preemption.grace_set);
  EXPECT_FALSE(s.preemption.min_runtime_set);
}

TEST(TenantsFile, DurationForms) {
  struct Case {
    const char* text;
    TimeMs ms;
  };
  for (const Case& c :
       {Case{"7d", 7 * 86'400'000LL}, Case{"120s", 120'000}, Case{"10m", 600'000},
        Case{"2h", 7'200'000}, Case{"90", 90'000}, Case{"1h30m", 5'400'000},
        Case{"1d12h", 129'600'000}, Case{"1.5h", 5'400'000}, Case{"2m30s", 150'000},
        Case{"1s500ms", 1'500}, Case{"0:10:00", 600'000}, Case{"1-00:00:00", 86'400'000}}) {
    SCOPED_TRACE(c.text);
    const TenantShares s = parse(std::string("fair_share: {half_life: '") + c.text +
                                 "'}\npreemption: {min_runtime: '" + c.text + "'}\n");
    EXPECT_EQ(s.half_life_ms, c.ms);
    EXPECT_EQ(s.preemption.min_runtime_ms, c.ms);
  }
  EXPECT_EQ(parse("preemption: {grace: 500ms}\n").preemption.grace_ms, 500);
  EXPECT_EQ(parse("preemption: {grace: 0}\n").preemption.grace_ms, 0);
  EXPECT_EQ(parse("preemption: {grace: 1d}\n").preemption.grace_ms, 86'400'000);
  EXPECT_EQ(parse("preemption: {min_runtime: 30d}\n").preemption.min_runtime_ms, 30 * 86'400'000LL);
}

TEST(TenantsFile, SignalForms) {
  struct Case {
    const char* text;
    int number;
    const char* name;
  };
  for (const Case& c :
       {Case{"SIGUSR1", 10, "SIGUSR1"}, Case{"usr2", 12, "SIGUSR2"}, Case{"SigTerm", 15, "SIGTERM"},
        Case{"15", 15, "SIGTERM"}, Case{"HUP", 1, "SIGHUP"}, Case{"sigxcpu", 24, "SIGXCPU"},
        Case{"PWR", 30, "SIGPWR"}, Case{"34", 34, "34"}}) {
    SCOPED_TRACE(c.text);
    const TenantShares s = parse(std::string("preemption: {signal: ") + c.text + "}\n");
    EXPECT_EQ(s.preemption.signal, c.number);
    EXPECT_EQ(s.preemption.signal_name, c.name);
    EXPECT_TRUE(s.preemption.signal_set);
  }
}

TEST(SignalName, ParsesNamesAndNumbers) {
  EXPECT_EQ(parse_signal("SIGUSR1"), 10);
  EXPECT_EQ(parse_signal("usr1"), 10);
  EXPECT_EQ(parse_signal(" sigint "), 2);
  EXPECT_EQ(parse_signal("KILL"), 9);
  EXPECT_EQ(parse_signal("1"), 1);
  EXPECT_EQ(parse_signal("64"), 64);
  for (const char* bad : {"", "SIG", "0", "65", "-1", "+10", "USR3", "SIGSIGUSR1", "10s", "1e1"})
    EXPECT_EQ(parse_signal(bad), std::nullopt) << bad;
  EXPECT_EQ(signal_name(10), "SIGUSR1");
  EXPECT_EQ(signal_name(6), "SIGABRT");  // not SIGIOT
  EXPECT_EQ(signal_name(17), "SIGCHLD");
  EXPECT_EQ(signal_name(40), "40");
  for (int n = 1; n <= 64; ++n) EXPECT_EQ(parse_signal(signal_name(n)), n) << n;
  EXPECT_FALSE(catchable_signal(9));
  EXPECT_FALSE(catchable_signal(19));
  EXPECT_TRUE(catchable_signal(10));
  EXPECT_TRUE(catchable_signal(15));
}

TEST(SignalName, TheNumbersAreThisSystems) {
  // signal_name.cpp writes Linux's numbers out (the core includes no <csignal>).
  const std::pair<const char*, int> known[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
      {"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS},       {"FPE", SIGFPE},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},
      {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},     {"CHLD", SIGCHLD},
      {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},
      {"PROF", SIGPROF}, {"SYS", SIGSYS},   {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
      {"PWR", SIGPWR},   {"IOT", SIGIOT},   {"CLD", SIGCHLD}};
  for (const auto& [name, number] : known) EXPECT_EQ(parse_signal(name), number) << name;
  EXPECT_FALSE(catchable_signal(SIGKILL));
  EXPECT_FALSE(catchable_signal(SIGSTOP));
}

// Every mistake names t.yaml:LINE:COLUMN at the offending node.
TEST(TenantsFile, ErrorsNameTheOffendingNode) {
  struct Case {
    std::string text, where, says;
  };
  const std::vector<Case> cases = {
      // types
      {"tenants:\n  - name: a\n    quota:\n      MLU59: {guaranteed: 1}\n", "t.yaml:4:7",
       "unknown accelerator type 'MLU59'"},
      {"tenants:\n  - name: a\n    quota:\n      A100-80GB: {borrow: 1}\n"
       "      a100-sxm4-80gb: {borrow: 2}\n",
       "t.yaml:5:7", "'a100-sxm4-80gb' is A100-SXM4-80GB, given already on line 4"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: 8\n", "t.yaml:4:15",
       "expected {guaranteed: N, borrow: M}"},
      // tenants
      {"tenants:\n  - name: a\n  - name: b\n  - name: a\n", "t.yaml:4:11",
       "tenant 'a' is listed twice (first on line 2)"},
      {"tenants:\n  - weight: 2\n", "t.yaml:2:5", "a tenant needs a 'name'"},
      {"tenants:\n  - name: 'a b'\n", "t.yaml:2:11", "letters, digits"},
      {"tenants:\n  - name: -x\n", "t.yaml:2:11", "starts with a letter or a digit"},
      {"tenants:\n  - name: " + std::string(65, 'x') + "\n", "t.yaml:2:11", "1 to 64"},
      {"tenants:\n  - name: [a]\n", "t.yaml:2:11", "expected the tenant's name"},
      {"tenants: {name: a}\n", "t.yaml:1:10", "expected a list of tenants"},
      {"tenants:\n  - a\n", "t.yaml:2:5", "each tenant is a mapping"},
      // numbers
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {guaranteed: -1}\n", "t.yaml:4:28",
       "guaranteed: -1 is out of range 0..1000000"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {guaranteed: 1.5}\n", "t.yaml:4:28",
       "guaranteed: '1.5' is not a whole number"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {guaranteed: 1000001}\n", "t.yaml:4:28",
       "out of range"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {borrow: lots}\n", "t.yaml:4:24",
       "borrow: 'lots' is neither a whole number nor 'unlimited'"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {borrow: -3}\n", "t.yaml:4:24",
       "out of range"},
      {"tenants:\n  - name: a\n    weight: 0\n", "t.yaml:3:13",
       "weight: '0' must be more than 0 and at most 1000000"},
      {"tenants:\n  - name: a\n    weight: 1e7\n", "t.yaml:3:13", "at most 1000000"},
      {"tenants:\n  - name: a\n    weight: heavy\n", "t.yaml:3:13", "is not a number"},
      {"tenants:\n  - name: a\n    weight: .nan\n", "t.yaml:3:13", "weight"},
      {"prices: {MLU590: -1}\n", "t.yaml:1:18", "at least 0"},
      {"prices: {MLU599: 1}\n", "t.yaml:1:10", "unknown accelerator type 'MLU599'"},
      {"prices: {MLU590: 1, mlu590: 2}\n", "t.yaml:1:21", "priced already on line 1"},
      {"prices: [1, 2]\n", "t.yaml:1:9", "prices: expected a mapping"},
      // the default entry
      {"default:\n  quota:\n    MLU590: {guaranteed: 8}\n", "t.yaml:3:26",
       "the default entry cannot guarantee devices"},
      {"default:\n  name: x\n", "t.yaml:2:3",
       "unknown key 'name' in the default entry (known: weight, quota)"},
      {"default: 3\n", "t.yaml:1:10", "default: expected a mapping"},
      // unknown and repeated keys at each level
      {"tenant:\n  - name: a\n", "t.yaml:1:1",
       "unknown key 'tenant' in the file (known: tenants, default, prices, fair_share, "
       "preemption)"},
      {"tenants:\n  - name: a\n    wieght: 2\n", "t.yaml:3:5",
       "unknown key 'wieght' in a tenant (known: name, weight, quota)"},
      {"tenants:\n  - name: a\n    quota:\n      MLU590: {guarantee: 1}\n", "t.yaml:4:16",
       "unknown key 'guarantee' in tenant 'a' quota of MLU590 (known: guaranteed, borrow)"},
      {"fair_share: {halflife: 7d}\n", "t.yaml:1:14",
       "unknown key 'halflife' in fair_share (known: half_life)"},
      {"preemption: {grace: 1s, signals: USR1}\n", "t.yaml:1:25",
       "unknown key 'signals' in preemption (known: signal, grace, min_runtime, checkpoint)"},
      {"tenants:\n  - name: a\n    weight: 1\n    weight: 2\n", "t.yaml:4:5",
       "'weight' is given twice (first on line 3)"},
      {"tenants: []\nprices: {}\ntenants: []\n", "t.yaml:3:1", "'tenants' is given twice"},
      // durations
      {"fair_share: {half_life: soon}\n", "t.yaml:1:25", "'soon' is not a duration"},
      {"fair_share: {half_life: 0}\n", "t.yaml:1:25", "half_life: '0' must be more than 0"},
      {"fair_share: {half_life: -7d}\n", "t.yaml:1:25", "is not a duration"},
      {"fair_share: {half_life: 10m1h}\n", "t.yaml:1:25", "is not a duration"},
      {"fair_share: {half_life: 1h1h}\n", "t.yaml:1:25", "is not a duration"},
      {"preemption: {grace: 2d}\n", "t.yaml:1:21", "grace: '2d' is longer than the allowed 1d"},
      {"preemption: {min_runtime: 31d}\n", "t.yaml:1:27", "longer than the allowed 30d"},
      {"preemption: {grace: {s: 1}}\n", "t.yaml:1:21", "expected a duration"},
      // signals
      {"preemption: {signal: SIGFOO}\n", "t.yaml:1:22", "'SIGFOO' is not a signal"},
      {"preemption: {signal: 65}\n", "t.yaml:1:22", "is not a signal"},
      {"preemption: {signal: kill}\n", "t.yaml:1:22", "SIGKILL cannot be caught"},
      {"preemption: {signal: 9}\n", "t.yaml:1:22", "SIGKILL cannot be caught"},
      {"preemption: {signal: SIGSTOP}\n", "t.yaml:1:22", "SIGSTOP cannot be caught"},
      // the shape of the file
      {"- a\n- b\n", "t.yaml:1:1", "expected a mapping with 'tenants'"},
      {"hello\n", "t.yaml:1:1", "expected a mapping with 'tenants'"},
      {"tenants:\n  - name: a\n    quota: [MLU590]\n", "t.yaml:3:12", "expected a mapping"},
      {"? [a, b]\n: 1\n", "t.yaml:1:3", "expected a plain key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const Failure f = failure_of(c.text);
    EXPECT_EQ(f.where, c.where) << f.message;
    EXPECT_NE(f.message.find(c.says), std::string::npos) << f.message;
  }
}

TEST(TenantsFile, UnknownTypeSuggestsTheNearestName) {
  const Failure f = failure_of("prices: {MLU59: 1}\n");
  EXPECT_NE(f.message.find("did you mean"), std::string::npos) << f.message;
}

TEST(TenantsFile, MalformedYamlIsAnInputErrorWithAPosition) {
  for (const char* text :
       {"tenants: [\n  {name: a\n", "tenants:\n  - {name: a\n", "tenants:\n\t- name: a\n",
        "tenants: [a, b]]\n", "a: b: c\n", "tenants: *nothing\n", "tenants: &a [*a]\n",
        "'unclosed\n", "tenants:\n  - name: a\n   weight: 2\n"}) {
    SCOPED_TRACE(text);
    const Failure f = failure_of(text);
    EXPECT_EQ(f.where.rfind("t.yaml:", 0), 0u) << f.where;
    EXPECT_FALSE(f.message.empty());
  }
}

TEST(TenantsFile, AtMostAHundredThousandTenants) {
  std::string text = "tenants: [&t {name: a}";
  for (std::size_t i = 0; i < kMaxTenants; ++i) text += ", *t";
  text += "]\n";
  const Failure f = failure_of(text);
  EXPECT_EQ(f.where, "t.yaml:1:10");
  EXPECT_NE(f.message.find("at most 100000"), std::string::npos) << f.message;
}

TEST(TenantsFile, ThousandsOfTenantsParse) {
  std::string text = "tenants:\n";
  for (int i = 0; i < 5000; ++i)
    text += "  - {name: t" + std::to_string(i) + ", quota: {MLU590: {guaranteed: 1}}}\n";
  const TenantShares s = parse(text);
  ASSERT_EQ(s.tenants.size(), 5000u);
  EXPECT_EQ(s.find("t4999"), 4999);
  EXPECT_EQ(s.find("t5000"), -1);
}

TEST(TenantsFile, OversizedTextIsRefused) {
  const std::string text(kMaxTenantsFileBytes + 1, '#');
  const Failure f = failure_of(text);
  EXPECT_EQ(f.where, "t.yaml");
  EXPECT_NE(f.message.find("16 MiB"), std::string::npos) << f.message;
}

TEST(TenantsFile, LoadReadsAFileAndNamesAMissingOne) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("zs_tenants_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tenants.yaml").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << kExample;
  }
  EXPECT_EQ(load_tenants_file(path, cat()), parse(kExample));

  const std::string bad = (dir / "bad.yaml").string();
  {
    std::ofstream out(bad, std::ios::binary);
    out << "tenants:\n  - name: a\n    weight: 0\n";
  }
  try {
    load_tenants_file(bad, cat());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), bad + ":3:13");
  }

  const std::string missing = (dir / "missing.yaml").string();
  try {
    load_tenants_file(missing, cat());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), missing);
  }
  try {
    load_tenants_file(dir.string(), cat());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), dir.string());
    EXPECT_NE(e.message().find("directory"), std::string::npos);
  }
  // A FIFO would block the read forever (nobody writes it): refused before it is opened.
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    load_tenants_file(fifo, cat());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), fifo);
    EXPECT_NE(e.message().find("not a regular file"), std::string::npos) << e.message();
  }
  fs::remove_all(dir);
}

TEST(TenantsFile, GuaranteesBeyondTheClusterAreRefusedNamingTypeAndShortfall) {
  const TenantShares s = parse(kExample);
  const Cluster c = load_cluster("2x8xMLU590", cat());
  const std::string msg = error_of([&] { check_tenants_against(s, c, cat(), "t.yaml"); });
  EXPECT_NE(msg.find("t.yaml: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("MLU590: guarantees add up to 128, the cluster has 16 (112 short)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("A100"), std::string::npos) << msg;  // no guarantee: nothing short

  // Two short types: both named.
  const TenantShares two =
      parse("tenants:\n  - {name: a, quota: {MLU590: {guaranteed: 20}, T4: {guaranteed: 1}}}\n");
  const std::string both = error_of([&] { check_tenants_against(two, c, cat(), "t.yaml"); });
  EXPECT_NE(both.find("MLU590: guarantees add up to 20, the cluster has 16 (4 short)"),
            std::string::npos)
      << both;
  EXPECT_NE(both.find("T4: guarantees add up to 1, the cluster has 0 (1 short)"), std::string::npos)
      << both;
}

TEST(TenantsFile, GuaranteesThatFitPass) {
  const TenantShares s = parse(
      "tenants:\n"
      "  - {name: a, quota: {MLU590: {guaranteed: 8, borrow: unlimited}}}\n"
      "  - {name: b, quota: {MLU590: {guaranteed: 8}, T4: {borrow: 100}}}\n"
      "prices: {MLU590: 8.5}\n");
  EXPECT_NO_THROW(check_tenants_against(s, load_cluster("2x8xMLU590", cat()), cat(), "t.yaml"));
  // No prices at all: nothing is unpriced.
  EXPECT_NO_THROW(check_tenants_against(parse("tenants: []\n"),
                                        load_cluster("2x8xMLU590+1x4xT4", cat()), cat(), "t.yaml"));
}

TEST(TenantsFile, UnpricedTypesOfTheClusterAreRefused) {
  const TenantShares s = parse("tenants:\n  - {name: a}\nprices: {MLU590: 8.5, H100-SXM: 30}\n");
  const Cluster c = load_cluster("2x8xMLU590+1x4xT4+1x8xV100", cat());
  const std::string msg = error_of([&] { check_tenants_against(s, c, cat(), "t.yaml"); });
  EXPECT_NE(msg.find("prices: no price for V100-SXM2-32GB, T4"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("MLU590"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("H100"), std::string::npos) << msg;  // priced but absent: fine
}

}  // namespace
}  // namespace zs
