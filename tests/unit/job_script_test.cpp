#include "core/job_script.h"

#include <gtest/gtest.h>

#include <csignal>

#include <string>
#include <vector>

#include "core/slurm_values.h"
#include "test_util.h"

namespace zs {
namespace {

using test::error_of;

constexpr TimeMs kMin = 60 * 1000;
constexpr TimeMs kHour = 60 * kMin;
constexpr TimeMs kDay = 24 * kHour;

// A script made of `lines`, each followed by a newline, behind a shebang.
std::string script(const std::vector<std::string>& lines) {
  std::string s = "#!/bin/bash\n";
  for (const auto& l : lines) s += l + "\n";
  return s;
}

JobSpec spec_of(const std::vector<std::string>& lines) {
  return parse_job_script(script(lines), "job.sh").spec;
}

std::string script_error(const std::vector<std::string>& lines) {
  return error_of([&] { parse_job_script(script(lines), "job.sh"); });
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Values

TEST(JobScriptTime, AcceptsEverySlurmForm) {
  EXPECT_EQ(parse_slurm_time("90"), 90 * kMin);  // plain minutes, not seconds
  EXPECT_EQ(parse_slurm_time("5:30"), 5 * kMin + 30'000);
  EXPECT_EQ(parse_slurm_time("1:02:03"), kHour + 2 * kMin + 3000);
  EXPECT_EQ(parse_slurm_time("2-0"), 2 * kDay);
  EXPECT_EQ(parse_slurm_time("1-12"), kDay + 12 * kHour);
  EXPECT_EQ(parse_slurm_time("1-2:30"), kDay + 2 * kHour + 30 * kMin);
  EXPECT_EQ(parse_slurm_time("1-02:03:04"), kDay + 2 * kHour + 3 * kMin + 4000);
  EXPECT_EQ(parse_slurm_time("90:00"), 90 * kMin);  // a field may exceed its clock range
  EXPECT_EQ(parse_slurm_time(" 10 "), 10 * kMin);
}

TEST(JobScriptTime, ZeroAndUnlimitedMeanNoLimit) {
  EXPECT_EQ(parse_slurm_time("0"), 0);
  EXPECT_EQ(parse_slurm_time("UNLIMITED"), 0);
  EXPECT_EQ(parse_slurm_time("unlimited"), 0);
  EXPECT_EQ(parse_slurm_time("infinite"), 0);
}

TEST(JobScriptTime, RejectsMalformedWithTheFormsInTheMessage) {
  for (const char* bad : {"", "abc", "-5", "1:2:3:4", "1-", "1-2-3", "1.5", "1-1:2:3:4", "1h", "+5",
                          "1 :2", "::", "1-:30"}) {
    const std::string msg = error_of([&] { parse_slurm_time(bad, "job.sh:4"); });
    EXPECT_TRUE(contains(msg, "job.sh:4: bad time limit '")) << bad << " -> " << msg;
    EXPECT_TRUE(contains(msg, "DAYS-HOURS:MINUTES:SECONDS")) << msg;
  }
  EXPECT_TRUE(contains(error_of([] { parse_slurm_time("99999999999999-0"); }), "too long"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_time("99999999999999999999999"); }), "too long"));
}

TEST(JobScriptArray, RangesListsStepsAndLimit) {
  EXPECT_EQ(parse_array_spec("0-3").indices, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parse_array_spec("1,3,5-7").indices, (std::vector<int>{1, 3, 5, 6, 7}));
  EXPECT_EQ(parse_array_spec("0-15:4").indices, (std::vector<int>{0, 4, 8, 12}));
  EXPECT_EQ(parse_array_spec("7").indices, (std::vector<int>{7}));
  ArraySpec a = parse_array_spec("0-15%4");
  EXPECT_EQ(a.indices.size(), 16u);
  EXPECT_EQ(a.max_concurrent, 4);
  EXPECT_EQ(parse_array_spec("1-3").max_concurrent, 0);
}

TEST(JobScriptArray, DuplicatesAreMergedAndSorted) {
  EXPECT_EQ(parse_array_spec("5,3,1-4,3").indices, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(parse_array_spec("0-99999,0-99999").indices.size(), 100'000u);
}

TEST(JobScriptArray, RejectsBadSpecs) {
  for (const char* bad : {"", "-1", "5-3", "1,,2", "1,", "5:2", "0-10:0", "1%0", "1%", "a",
                          "0-4000001", "1-2-3", "0-100000", "1 ,2", "%4", "0x10"}) {
    const std::string msg = error_of([&] { parse_array_spec(bad, "job.sh:2"); });
    EXPECT_TRUE(contains(msg, "job.sh:2: bad --array")) << bad << " -> " << msg;
  }
  EXPECT_TRUE(contains(error_of([] { parse_array_spec("5-3"); }), "reversed"));
  EXPECT_TRUE(contains(error_of([] { parse_array_spec("-1"); }), "negative"));
  EXPECT_TRUE(contains(error_of([] { parse_array_spec("0-100000"); }), "more than 100000"));
  EXPECT_NO_THROW(parse_array_spec("0-99999"));
  EXPECT_NO_THROW(parse_array_spec("4000000"));
}

TEST(JobScriptMemory, UnitsAndRounding) {
  EXPECT_EQ(parse_slurm_memory_mib("4096"), 4096);
  EXPECT_EQ(parse_slurm_memory_mib("4G"), 4096);
  EXPECT_EQ(parse_slurm_memory_mib("4g"), 4096);
  EXPECT_EQ(parse_slurm_memory_mib("4GB"), 4096);
  EXPECT_EQ(parse_slurm_memory_mib("512M"), 512);
  EXPECT_EQ(parse_slurm_memory_mib("1T"), 1024 * 1024);
  EXPECT_EQ(parse_slurm_memory_mib("100K"), 1);  // rounded up to whole MiB
  EXPECT_EQ(parse_slurm_memory_mib("2048K"), 2);
  EXPECT_EQ(parse_slurm_memory_mib("1.5G"), 1536);
  EXPECT_EQ(parse_slurm_memory_mib("0"), 0);
}

TEST(JobScriptMemory, RejectsBadSizes) {
  for (const char* bad : {"", "-1", "abc", "4X", "G", "1e3", "4.G.", "nan", "inf", "4 G", "."})
    EXPECT_TRUE(contains(error_of([&] { parse_slurm_memory_mib(bad); }), "--mem: bad memory size"))
        << bad;
  EXPECT_TRUE(contains(error_of([] { parse_slurm_memory_mib("99999T"); }), "too large"));
}

TEST(JobScriptValues, AcceleratorCounts) {
  EXPECT_EQ(parse_accel_count("8", 64, "w"), (AccelRequest{"", 8}));
  EXPECT_EQ(parse_accel_count("a100:8", 64, "w"), (AccelRequest{"a100", 8}));
  EXPECT_EQ(parse_accel_count("gpu:8", 64, "w"), (AccelRequest{"", 8}));  // generic = any
  EXPECT_EQ(parse_accel_count("Ascend 910B3:8", 64, "w"), (AccelRequest{"Ascend 910B3", 8}));
  EXPECT_EQ(parse_accel_count("0", 64, "w"), (AccelRequest{"", 0}));
  for (const char* bad : {"", "x", ":8", "a100:", "-1", "8x"})
    EXPECT_TRUE(contains(error_of([&] { parse_accel_count(bad, 64, "w"); }), "w: ")) << bad;
  EXPECT_TRUE(contains(error_of([] { parse_accel_count("65", 64, "w"); }), "at most 64"));
}

TEST(JobScriptValues, Gres) {
  EXPECT_EQ(parse_gres("gpu:4", 64, "w").accel, (AccelRequest{"", 4}));
  EXPECT_EQ(parse_gres("gpu:a100:2", 64, "w").accel, (AccelRequest{"a100", 2}));
  EXPECT_EQ(parse_gres("gpu", 64, "w").accel, (AccelRequest{"", 1}));
  EXPECT_EQ(parse_gres("gpu:v100", 64, "w").accel, (AccelRequest{"v100", 1}));
  EXPECT_EQ(parse_gres("mlu:8", 64, "w").accel, (AccelRequest{"", 8}));
  EXPECT_EQ(parse_gres("npu:910B3:8", 64, "w").accel, (AccelRequest{"910B3", 8}));
  GresRequest g = parse_gres("nvme:1,gpu:2", 64, "w");
  EXPECT_EQ(g.accel, (AccelRequest{"", 2}));
  EXPECT_EQ(g.ignored, (std::vector<std::string>{"nvme:1"}));
  EXPECT_FALSE(parse_gres("none", 64, "w").accel);
  EXPECT_TRUE(contains(error_of([] { parse_gres("gpu:2,mlu:2", 64, "w"); }), "one kind"));
  for (const char* bad : {"", "gpu:a:b:c", "gpu:a100:x", ",gpu:1", ":4", "gpu:65", "gpu::2"})
    EXPECT_TRUE(contains(error_of([&] { parse_gres(bad, 64, "w"); }), "w: bad --gres")) << bad;
}

TEST(JobScriptValues, DependencyOnlyAfterok) {
  EXPECT_EQ(parse_dependency("afterok:12", "w"), (std::vector<JobId>{12}));
  EXPECT_EQ(parse_dependency("afterok:13:12,afterok:14:12", "w"), (std::vector<JobId>{12, 13, 14}));
  EXPECT_EQ(parse_dependency("AfterOK:5", "w"), (std::vector<JobId>{5}));
  for (const char* other : {"afterany:1", "afternotok:1", "after:1", "singleton", "aftercorr:1"})
    EXPECT_TRUE(contains(error_of([&] { parse_dependency(other, "w"); }), "only afterok")) << other;
  EXPECT_TRUE(contains(error_of([] { parse_dependency("afterok:1?afterok:2", "w"); }), "'?'"));
  for (const char* bad : {"", "afterok", "afterok:", "afterok:0", "afterok:x", "afterok:1_2",
                          "afterok:1,", "afterok:-3"})
    EXPECT_TRUE(contains(error_of([&] { parse_dependency(bad, "w"); }), "w: ")) << bad;
}

TEST(JobScriptValues, Export) {
  EXPECT_EQ(parse_export("ALL", "w"), (ExportRequest{true, {}, {}}));
  EXPECT_EQ(parse_export("NONE", "w"), (ExportRequest{false, {}, {}}));
  EXPECT_EQ(parse_export("ALL,A=1,B", "w"), (ExportRequest{true, {"B"}, {"A=1"}}));
  EXPECT_EQ(parse_export("A=x=y", "w"), (ExportRequest{false, {}, {"A=x=y"}}));  // only the listed
  EXPECT_EQ(parse_export("NONE,A=1", "w"), (ExportRequest{false, {}, {"A=1"}}));
  for (const char* bad : {"", "1X=2", "A,,B", "=3", "A-B=1", "ALL,NONE"})
    EXPECT_TRUE(contains(error_of([&] { parse_export(bad, "w"); }), "w: ")) << bad;
}

TEST(JobScriptValues, Signal) {
  // [{R|B}:]SIG[@TIME]: names with or without SIG, any case, or numbers; 60 s by default.
  EXPECT_EQ(parse_slurm_signal("USR1"), (SignalRequest{SIGUSR1, 60, false, false}));
  EXPECT_EQ(parse_slurm_signal("SIGUSR1@30"), (SignalRequest{SIGUSR1, 30, false, false}));
  EXPECT_EQ(parse_slurm_signal("B:USR2@90"), (SignalRequest{SIGUSR2, 90, true, false}));
  EXPECT_EQ(parse_slurm_signal("10"), (SignalRequest{10, 60, false, false}));
  EXPECT_EQ(parse_slurm_signal("sigterm@0"), (SignalRequest{SIGTERM, 0, false, false}));
  EXPECT_EQ(parse_slurm_signal("USR1@65535"), (SignalRequest{SIGUSR1, 65535, false, false}));
  EXPECT_EQ(parse_slurm_signal("R:USR1"), (SignalRequest{SIGUSR1, 60, false, true}));
  EXPECT_EQ(parse_slurm_signal("RB:34@5"), (SignalRequest{34, 5, true, true}));
  EXPECT_EQ(parse_slurm_signal("BR:HUP"), (SignalRequest{SIGHUP, 60, true, true}));
  // Errors name where the value came from and say what is wrong.
  EXPECT_EQ(error_of([] { parse_slurm_signal("KILL", "job.sh:3"); }),
            "job.sh:3: --signal 'KILL': SIGKILL cannot be caught, so it cannot ask the job to "
            "checkpoint; use one the job traps, such as USR1");
  EXPECT_TRUE(
      contains(error_of([] { parse_slurm_signal("SIGSTOP"); }), "SIGSTOP cannot be caught"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal("9@10"); }), "SIGKILL cannot be caught"));
  EXPECT_EQ(error_of([] { parse_slurm_signal("USR1@-1"); }),
            "--signal: --signal 'USR1@-1': the time after '@' must be whole seconds from 0 to "
            "65535, not '-1'");
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal("USR1@70000"); }), "not '70000'"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal("USR1@"); }), "from 0 to 65535"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal("USR1@1.5"); }), "from 0 to 65535"));
  EXPECT_EQ(error_of([] { parse_slurm_signal("X:USR1"); }),
            "--signal: --signal 'X:USR1': unknown flag 'X' before ':' (B: signals only the batch "
            "shell; R: is accepted and ignored)");
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal(":USR1"); }), "nothing before ':'"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal(""); }), "--signal: empty --signal"));
  EXPECT_TRUE(contains(error_of([] { parse_slurm_signal("  "); }), "empty --signal"));
  for (const char* bad : {"USR3", "0", "65", "B:", "@30", "SIG", "USR1@30@1", "B:B:USR1"})
    EXPECT_TRUE(contains(error_of([&] { parse_slurm_signal(bad, "w"); }), "w: ")) << bad;
}

TEST(JobScriptValues, QuoteValueEscapesAndShortens) {
  EXPECT_EQ(quote_value("ab"), "'ab'");
  EXPECT_EQ(quote_value(std::string("a\0b\n", 4)), "'a\\x00b\\n'");
  EXPECT_EQ(quote_value(std::string(100, 'x')), "'" + std::string(60, 'x') + "...'");
}

// ---------------------------------------------------------------------------------------------
// Reading directives

TEST(JobScriptDirectives, EveryOptionFormWorks) {
  for (const char* line :
       {"#SBATCH --job-name=train", "#SBATCH --job-name train", "#SBATCH -Jtrain",
        "#SBATCH -J train", "#ZS -J train", "#SBATCH\t-J\ttrain"}) {
    EXPECT_EQ(spec_of({line}).name, "train") << line;
  }
  EXPECT_EQ(spec_of({"#SBATCH -N2"}).nodes, 2);
  EXPECT_EQ(spec_of({"#SBATCH --time 10"}).walltime, 10 * kMin);
  EXPECT_EQ(spec_of({"#SBATCH -t 1-0"}).walltime, kDay);
}

TEST(JobScriptDirectives, SeveralOptionsOnOneLine) {
  JobSpec s = spec_of({"#SBATCH -N 2 --time=10 -J x --partition gpu"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.walltime, 10 * kMin);
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.partition, "gpu");
}

TEST(JobScriptDirectives, QuotingLikeAShell) {
  EXPECT_EQ(spec_of({"#SBATCH -J \"my job\""}).name, "my job");
  EXPECT_EQ(spec_of({"#SBATCH -J 'my job'"}).name, "my job");
  EXPECT_EQ(spec_of({"#SBATCH --job-name=\"a \\\"q\\\" b\""}).name, "a \"q\" b");
  EXPECT_EQ(spec_of({"#SBATCH -J 'a\\b'"}).name, "a\\b");  // literal in single quotes
  EXPECT_EQ(spec_of({"#SBATCH -J a\\ b"}).name, "a b");
  EXPECT_EQ(spec_of({"#SBATCH -J pre'mid dle'post"}).name, "premid dlepost");
  EXPECT_EQ(spec_of({"#SBATCH -o \"logs/%x-%j.out\""}).stdout_path, "logs/%x-%j.out");
  EXPECT_EQ(spec_of({"#SBATCH -J \"#notacomment\""}).name, "#notacomment");
}

TEST(JobScriptDirectives, TrailingCommentEndsTheOptions) {
  EXPECT_EQ(spec_of({"#SBATCH -J x # -N 5"}).nodes, 0);
  EXPECT_EQ(spec_of({"#SBATCH -J x # -N 5"}).name, "x");
  EXPECT_EQ(spec_of({"#SBATCH -J x#y"}).name, "x#y");  // '#' inside a word is literal
  EXPECT_EQ(spec_of({"#SBATCH # only a comment"}).name, "job.sh");
  EXPECT_EQ(spec_of({"#SBATCH"}).name, "job.sh");
}

TEST(JobScriptDirectives, OnlyTheLeadingCommentBlockCounts) {
  const std::string text =
      "#!/bin/bash\n"
      "\n"
      "# a comment\n"
      "#SBATCH -N 2\n"
      "   \n"
      "#ZS --time=5\n"
      "module load cuda\n"
      "#SBATCH -N 4\n"
      "#ZS --bogus\n";
  JobScript r = parse_job_script(text, "job.sh");
  EXPECT_EQ(r.spec.nodes, 2);
  EXPECT_EQ(r.spec.walltime, 5 * kMin);
  ASSERT_EQ(r.directives.size(), 2u);
  EXPECT_EQ(r.directives[0].line, 4);
  EXPECT_EQ(r.directives[1].line, 6);
  ASSERT_EQ(r.warnings.size(), 2u);  // the two late directives, not an error for --bogus
  EXPECT_EQ(r.warnings[0].where, "job.sh:8");
  EXPECT_EQ(r.warnings[1].where, "job.sh:9");
  EXPECT_TRUE(contains(r.warnings[0].message, "after the first command"));
}

TEST(JobScriptDirectives, LookalikesAreComments) {
  EXPECT_EQ(spec_of({"# SBATCH -N 4"}).nodes, 0);  // the usual way to disable a directive
  EXPECT_EQ(spec_of({"#SBATCHX -N 4"}).nodes, 0);
  EXPECT_EQ(spec_of({"#sbatch -N 4"}).nodes, 0);
  EXPECT_EQ(spec_of({"#ZSX -N 4"}).nodes, 0);
  EXPECT_EQ(spec_of({"##SBATCH -N 4"}).nodes, 0);
  // An indented directive is not a comment line: like sbatch, it ends the header.
  EXPECT_EQ(spec_of({"  #SBATCH -N 4", "#SBATCH -N 3"}).nodes, 0);
}

TEST(JobScriptDirectives, CrlfLineEndings) {
  JobScript r = parse_job_script("#!/bin/sh\r\n#SBATCH -J x\r\n#SBATCH -N 2\r\necho\r\n", "a.sh");
  EXPECT_EQ(r.spec.name, "x");
  EXPECT_EQ(r.spec.nodes, 2);
}

TEST(JobScriptDirectives, NoTrailingNewlineAndEmptyScript) {
  EXPECT_EQ(parse_job_script("#SBATCH -N 3", "a.sh").spec.nodes, 3);
  JobScript r = parse_job_script("", "a.sh");
  EXPECT_TRUE(r.directives.empty());
  EXPECT_EQ(r.spec.name, "a.sh");
}

TEST(JobScriptDirectives, LaterWinsInFileOrderAcrossSbatchAndZs) {
  EXPECT_EQ(spec_of({"#SBATCH -N 2", "#ZS -N 4"}).nodes, 4);
  EXPECT_EQ(spec_of({"#ZS -N 4", "#SBATCH -N 2"}).nodes, 2);
  EXPECT_EQ(spec_of({"#SBATCH -N 2 -N 3"}).nodes, 3);
}

TEST(JobScriptDirectives, CommandLineOverridesTheScript) {
  const std::string text = script({"#SBATCH -N 2 -J fromscript", "#ZS --time=10"});
  JobScript r = parse_job_script(text, "job.sh", read_option_args({"-N", "4", "--time=1:00:00"}));
  EXPECT_EQ(r.spec.nodes, 4);
  EXPECT_EQ(r.spec.walltime, kHour);
  EXPECT_EQ(r.spec.name, "fromscript");
}

TEST(JobScriptDirectives, ScriptTextAndDefaultName) {
  const std::string text = script({"#SBATCH -N 1", "srun python train.py"});
  JobScript r = parse_job_script(text, "/home/u/runs/train.sh");
  EXPECT_EQ(r.spec.script, text);
  EXPECT_EQ(r.spec.name, "train.sh");  // sbatch's default job name
  EXPECT_EQ(parse_job_script(text, "-").spec.name, "");
  EXPECT_EQ(parse_job_script(script({"#SBATCH -J n"}), "x.sh").spec.name, "n");
}

TEST(JobScriptDirectives, ErrorsNameFileAndLine) {
  EXPECT_EQ(script_error({"#SBATCH -N 2", "#SBATCH --foo=1"}), "job.sh:3: unknown directive --foo");
  EXPECT_EQ(script_error({"#SBATCH -Z"}), "job.sh:2: unknown directive -Z");
  EXPECT_EQ(script_error({"#SBATCH -J"}), "job.sh:2: -J needs a value");
  EXPECT_EQ(script_error({"#SBATCH --job-name"}), "job.sh:2: --job-name needs a value");
  EXPECT_EQ(script_error({"#SBATCH --requeue=yes"}), "job.sh:2: --requeue takes no value");
  EXPECT_TRUE(contains(script_error({"", "#SBATCH -t 1:2:3:4"}), "job.sh:3: bad time limit"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -N two"}), "job.sh:2: -N needs a whole number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -n 0"}), "job.sh:2: -n needs a whole number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -J \"x"}), "job.sh:2: unterminated \" quote"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -J 'x"}), "job.sh:2: unterminated ' quote"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 2 stray"}), "job.sh:2: unexpected 'stray'"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --mem=lots"}), "job.sh:2: bad memory size"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --array=5-1"}), "job.sh:2: bad --array"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -J ''"}), "job.sh:2: -J needs a non-empty value"));
}

TEST(JobScriptDirectives, UnknownLongOptionSuggestsTheFullName) {
  EXPECT_EQ(script_error({"#SBATCH --job=x"}),
            "job.sh:2: unknown directive --job (did you mean --job-name?)");
}

TEST(JobScriptDirectives, IgnoredOptionsWarnWithTheirLine) {
  JobScript r = parse_job_script(
      script({"#SBATCH --mail-type=END --mail-user=a@b.c", "#SBATCH --qos=high --exclusive",
              "#SBATCH -C volta --nice=5 --comment 'x y' --open-mode=append",
              "#SBATCH --time-min=5 --wait-all-nodes=1 --hint=nomultithread -m block"}),
      "job.sh");
  ASSERT_EQ(r.warnings.size(), 12u);
  EXPECT_EQ(r.warnings[0].where, "job.sh:2");
  EXPECT_TRUE(contains(r.warnings[0].message, "--mail-type is ignored")) << r.warnings[0].message;
  EXPECT_EQ(r.warnings[2].where, "job.sh:3");
  EXPECT_EQ(r.warnings[11].where, "job.sh:5");
  EXPECT_TRUE(contains(r.warnings[11].message, "-m is ignored"));
  EXPECT_TRUE(is_ignored_option("--qos"));
  EXPECT_TRUE(is_ignored_option("-q"));
  EXPECT_TRUE(is_ignored_option("mail-user"));
  EXPECT_FALSE(is_ignored_option("--time"));
  EXPECT_FALSE(is_ignored_option("--bogus"));
}

TEST(JobScriptDirectives, GroupedShortFlags) {
  JobScript r = parse_job_script(script({"#SBATCH -HQ -vvv -N2"}), "job.sh");
  EXPECT_EQ(r.warnings.size(), 4u);  // -Q, -v, -v, -v; -H holds the job
  EXPECT_TRUE(r.spec.hold);
  EXPECT_EQ(r.spec.nodes, 2);
  // A flag then an option with its value glued on: -Q then -J x.
  EXPECT_EQ(spec_of({"#SBATCH -QJx"}).name, "x");
}

TEST(JobScriptDirectives, OptionalArgumentOnlyWithEquals) {
  EXPECT_NO_THROW(spec_of({"#SBATCH --exclusive"}));
  EXPECT_NO_THROW(spec_of({"#SBATCH --exclusive=user"}));
  EXPECT_TRUE(contains(script_error({"#SBATCH --nice 5"}), "unexpected '5'"));
}

TEST(JobScriptDirectives, UnsupportedOptionsSayWhatToUse) {
  EXPECT_EQ(script_error({"#SBATCH --cpus-per-gpu=4"}),
            "job.sh:2: --cpus-per-gpu is not supported; use -c/--cpus-per-task");
  EXPECT_TRUE(contains(script_error({"#SBATCH --ntasks-per-gpu=1"}), "not supported"));
}

// ---------------------------------------------------------------------------------------------
// The command line

TEST(JobScriptArgs, ReadsOptionsUpToTheScript) {
  std::size_t operands = 0;
  auto ds = read_option_args(
      {"-N", "2", "--time=10", "-Jx", "--gres", "gpu:4", "train.sh", "-N", "5"}, &operands);
  EXPECT_EQ(operands, 6u);
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds[0], (Directive{"nodes", "-N", "2", "-N", 0}));
  EXPECT_EQ(ds[1], (Directive{"time", "--time", "10", "--time", 0}));
  EXPECT_EQ(ds[2], (Directive{"job-name", "-J", "x", "-J", 0}));
  EXPECT_EQ(ds[3], (Directive{"gres", "--gres", "gpu:4", "--gres", 0}));
  read_option_args({"-N", "2", "--", "-x.sh"}, &operands);
  EXPECT_EQ(operands, 3u);
  read_option_args({}, &operands);
  EXPECT_EQ(operands, 0u);
}

TEST(JobScriptArgs, ErrorsNameTheFlag) {
  EXPECT_EQ(error_of([] { read_option_args({"--foo", "1"}); }), "--foo: unknown option --foo");
  EXPECT_EQ(error_of([] { read_option_args({"-t"}); }), "-t: -t needs a value");
  EXPECT_EQ(error_of([] { read_option_args({"x.sh"}); }), "x.sh: unexpected argument 'x.sh'");
  JobOptions o;
  for (const auto& d : read_option_args({"--time=forever"})) {
    EXPECT_TRUE(contains(error_of([&] { apply_option(o, d); }), "--time: bad time limit"));
  }
}

TEST(JobScriptArgs, ApplyByNameInAnyForm) {
  JobOptions o;
  apply_option(o, "-t", "10", "-t");
  EXPECT_EQ(o.spec.walltime, 10 * kMin);
  apply_option(o, "time", "20", "--time");
  EXPECT_EQ(o.spec.walltime, 20 * kMin);
  apply_option(o, "--requeue", std::nullopt, "--requeue");
  EXPECT_EQ(finish_job_spec(o).max_retries, kDefaultRequeueRetries);
  EXPECT_EQ(error_of([&] { apply_option(o, "--foo", "1", "--foo"); }),
            "--foo: unknown option --foo");
  EXPECT_EQ(error_of([&] { apply_option(o, "-J", std::nullopt, "-J"); }), "-J: -J needs a value");
}

// ---------------------------------------------------------------------------------------------
// Applying and reconciling

TEST(JobScriptOptions, SimpleFields) {
  JobSpec s = spec_of({"#SBATCH -p gpu -A team-a -o out/%j.log -e err/%j.log -D /scratch/run",
                       "#SBATCH -c 4 --mem=16G --priority=-5 --array=0-7%2"});
  EXPECT_EQ(s.partition, "gpu");
  EXPECT_EQ(s.tenant, "team-a");
  EXPECT_EQ(s.stdout_path, "out/%j.log");
  EXPECT_EQ(s.stderr_path, "err/%j.log");
  EXPECT_EQ(s.work_dir, "/scratch/run");
  EXPECT_EQ(s.cpus_per_task, 4);
  EXPECT_EQ(s.mem_mib, 16 * 1024);
  EXPECT_EQ(s.priority, -5);
  EXPECT_EQ(s.array, "0-7%2");
  EXPECT_EQ(spec_of({"#SBATCH --chdir=/a --workdir=/b"}).work_dir, "/b");
  EXPECT_EQ(spec_of({"#SBATCH -a 1-3"}).array, "1-3");
}

TEST(JobScriptOptions, BadSimpleValues) {
  EXPECT_TRUE(contains(script_error({"#SBATCH -c 0"}), "-c needs a positive number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -c nan"}), "-c needs a positive number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --priority=2147483648"}), "whole number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --priority=top"}), "whole number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --retries=1001"}), "whole number from 0 to 1000"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -J \"a\tb\""}), "control character"));
}

TEST(JobScriptOptions, Dependencies) {
  EXPECT_EQ(spec_of({"#SBATCH --dependency=afterok:5:6,afterok:7"}).after_ok,
            (std::vector<JobId>{5, 6, 7}));
  EXPECT_EQ(spec_of({"#SBATCH -d afterok:9"}).after_ok, (std::vector<JobId>{9}));
  const std::string msg = script_error({"#SBATCH -N 1", "#SBATCH --dependency=afterany:5"});
  EXPECT_TRUE(contains(msg, "job.sh:3: dependency type 'afterany' is not supported: only afterok"))
      << msg;
}

TEST(JobScriptOptions, RequeueAndRetries) {
  EXPECT_EQ(spec_of({}).max_retries, 0);
  EXPECT_EQ(spec_of({"#SBATCH --requeue"}).max_retries, kDefaultRequeueRetries);
  EXPECT_EQ(spec_of({"#SBATCH --requeue", "#ZS --retries 5"}).max_retries, 5);
  EXPECT_EQ(spec_of({"#ZS --retries 2"}).max_retries, 2);
  EXPECT_EQ(spec_of({"#SBATCH --requeue --no-requeue"}).max_retries, 0);
  EXPECT_EQ(spec_of({"#SBATCH --no-requeue", "#ZS --retries=0"}).max_retries, 0);
  EXPECT_TRUE(
      contains(script_error({"#SBATCH --no-requeue", "#ZS --retries=2"}),
               "job.sh:3: --retries=2 at job.sh:3 conflicts with --no-requeue at job.sh:2"));
}

TEST(JobScriptOptions, Export) {
  JobScript r = parse_job_script(script({}), "job.sh");
  EXPECT_TRUE(r.exports.all);
  r = parse_job_script(script({"#SBATCH --export=ALL,FOO=bar,HOME"}), "job.sh");
  EXPECT_TRUE(r.exports.all);
  EXPECT_EQ(r.spec.env, (std::vector<std::string>{"FOO=bar"}));
  EXPECT_EQ(r.exports.names, (std::vector<std::string>{"HOME"}));
  r = parse_job_script(script({"#SBATCH --export=NONE"}), "job.sh");
  EXPECT_FALSE(r.exports.all);
  EXPECT_TRUE(r.spec.env.empty());
  // A later --export replaces an earlier one.
  r = parse_job_script(script({"#SBATCH --export=A=1", "#SBATCH --export=B=2"}), "job.sh");
  EXPECT_EQ(r.spec.env, (std::vector<std::string>{"B=2"}));
}

TEST(JobScriptOptions, Signal) {
  JobSpec s = spec_of({"#SBATCH --signal=B:USR2@90"});
  EXPECT_EQ(s.signal, SIGUSR2);
  EXPECT_EQ(s.signal_time_s, 90);
  EXPECT_TRUE(s.signal_batch);
  s = spec_of({"#SBATCH --signal USR1"});
  EXPECT_EQ(s.signal, SIGUSR1);
  EXPECT_EQ(s.signal_time_s, 60);  // sbatch's default
  EXPECT_FALSE(s.signal_batch);
  EXPECT_EQ(spec_of({}).signal, 0);
  // The command line replaces the script's, as for every option.
  JobScript r = parse_job_script(script({"#SBATCH --signal=B:USR2@90"}), "job.sh",
                                 read_option_args({"--signal=SIGTERM@5"}));
  EXPECT_EQ(r.spec.signal, SIGTERM);
  EXPECT_EQ(r.spec.signal_time_s, 5);
  EXPECT_FALSE(r.spec.signal_batch);
  EXPECT_TRUE(r.warnings.empty());
  // R: is accepted (scripts for Slurm run unchanged) and said to be ignored.
  r = parse_job_script(script({"#SBATCH --signal=R:USR1@30"}), "job.sh");
  EXPECT_EQ(r.spec.signal, SIGUSR1);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].where, "job.sh:2");
  EXPECT_TRUE(contains(r.warnings[0].message, "R: (reservations) is ignored"));
  // Errors name the line or the flag.
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 1", "#SBATCH --signal=KILL@10"}),
                       "job.sh:3: --signal 'KILL@10': SIGKILL cannot be caught"));
  EXPECT_EQ(script_error({"#SBATCH --signal"}), "job.sh:2: --signal needs a value");
  JobOptions o;
  for (const auto& d : read_option_args({"--signal=USR1@70000"}))
    EXPECT_TRUE(contains(error_of([&] { apply_option(o, d); }), "--signal: --signal 'USR1@70000'"));
  EXPECT_FALSE(is_ignored_option("--signal"));
}

TEST(JobScriptOptions, NodeRangeUsesTheMinimum) {
  JobScript r = parse_job_script(script({"#SBATCH -N 2-4"}), "job.sh");
  EXPECT_EQ(r.spec.nodes, 2);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0].message, "exactly 2 nodes")) << r.warnings[0].message;
  EXPECT_EQ(spec_of({"#SBATCH -N 3-3"}).nodes, 3);
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 4-2"}), "maximum is below the minimum"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 2-"}), "whole number"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 0"}), "whole number from 1"));
}

TEST(JobScriptShape, GresIsPerNode) {
  JobSpec s = spec_of({"#SBATCH -N 2 --gres=gpu:4"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.accel_per_node, 4);
  EXPECT_EQ(s.accel_count, 8);
  EXPECT_EQ(s.accel_type, "");
  s = spec_of({"#SBATCH --gres=gpu:4"});  // one node by default
  EXPECT_EQ(s.nodes, 1);
  EXPECT_EQ(s.accel_count, 4);
  s = spec_of({"#SBATCH --gres=mlu:MLU590:8 -N 4"});
  EXPECT_EQ(s.accel_count, 32);
  EXPECT_EQ(s.accel_type, "MLU590");
  s = spec_of({"#SBATCH --gpus-per-node=a100:8 -N 3"});
  EXPECT_EQ(s.accel_count, 24);
  EXPECT_EQ(s.accel_type, "a100");
}

TEST(JobScriptShape, NonAcceleratorGresIsIgnoredWithAWarning) {
  JobScript r = parse_job_script(script({"#SBATCH --gres=gpu:2,nvme:1"}), "job.sh");
  EXPECT_EQ(r.spec.accel_count, 2);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0].message, "'nvme:1' is not an accelerator"));
  EXPECT_EQ(spec_of({"#SBATCH --gres=gpu:0"}).accel_count, 0);
  EXPECT_EQ(spec_of({"#SBATCH --gres=gpu:a100:0"}).accel_type, "");
}

TEST(JobScriptShape, TotalAcceleratorsAndNodes) {
  JobSpec s = spec_of({"#SBATCH --gpus=8"});
  EXPECT_EQ(s.accel_count, 8);
  EXPECT_EQ(s.nodes, 0);  // the scheduler chooses
  EXPECT_EQ(s.accel_per_node, 0);
  s = spec_of({"#SBATCH -G 8 -N 2"});
  EXPECT_EQ(s.accel_per_node, 4);
  EXPECT_EQ(s.nodes, 2);
  s = spec_of({"#SBATCH --gpus 16 --gpus-per-node 4"});
  EXPECT_EQ(s.nodes, 4);
  EXPECT_EQ(s.accel_count, 16);
  s = spec_of({"#SBATCH --gpus 8 --gpus-per-node 4 -N 2"});  // consistent
  EXPECT_EQ(s.accel_count, 8);
  s = spec_of({"#ZS --accel MLU590:16 -N 2"});
  EXPECT_EQ(s.accel_type, "MLU590");
  EXPECT_EQ(s.accel_per_node, 8);
  s = spec_of({"#ZS --accel 4"});
  EXPECT_EQ(s.accel_count, 4);
  EXPECT_EQ(s.accel_type, "");
  s = spec_of({"#ZS --accel \"Ascend 910B3:8\""});
  EXPECT_EQ(s.accel_type, "Ascend 910B3");
}

TEST(JobScriptShape, ConflictsAreExplained) {
  std::string msg =
      script_error({"#SBATCH --gpus 16", "#SBATCH --gpus-per-node 4", "#SBATCH -N 2"});
  EXPECT_EQ(msg,
            "job.sh:2: --gpus=16 at job.sh:2 conflicts with --gpus-per-node=4 at job.sh:3 on 2 "
            "nodes (-N 2 at job.sh:4) = 8");
  msg = script_error({"#SBATCH --gpus 9 -N 2"});
  EXPECT_TRUE(contains(msg, "cannot split --gpus=9 at job.sh:2 evenly over 2 nodes")) << msg;
  msg = script_error({"#SBATCH --gpus 10 --gpus-per-node 4"});
  EXPECT_TRUE(contains(msg, "is not a whole number of nodes")) << msg;
  msg = script_error({"#SBATCH --gpus a100:8", "#SBATCH --gres gpu:v100:4"});
  EXPECT_TRUE(contains(msg, "asks for type 'v100' but --gpus=a100:8 at job.sh:2 for 'a100'"))
      << msg;
  msg = script_error({"#SBATCH --gpus 0 --gres gpu:4"});
  EXPECT_TRUE(contains(msg, "conflicts with")) << msg;
  // Types that agree, in any spelling, are fine.
  JobSpec s = spec_of({"#SBATCH --gpus A100_80GB:8", "#SBATCH --gres gpu:a100-80gb:4"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.accel_type, "A100_80GB");
}

TEST(JobScriptShape, CommandLineConflictsNameTheFlags) {
  const std::string text = script({"#SBATCH --gres=gpu:4 -N 2"});
  const std::string msg =
      error_of([&] { parse_job_script(text, "job.sh", read_option_args({"--gpus=16"})); });
  EXPECT_EQ(
      msg,
      "--gpus: --gpus=16 conflicts with --gres=gpu:4 at job.sh:2 on 2 nodes (-N 2 at job.sh:2) "
      "= 8");
  // The command line may fix the script's shape.
  JobScript r = parse_job_script(text, "job.sh", read_option_args({"-N", "4"}));
  EXPECT_EQ(r.spec.accel_count, 16);
}

TEST(JobScriptShape, Tasks) {
  JobSpec s = spec_of({"#SBATCH -n 8 --ntasks-per-node 4"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.tasks_per_node, 4);
  EXPECT_EQ(s.ntasks, 8);
  s = spec_of({"#SBATCH -n 8 -N 2"});
  EXPECT_EQ(s.tasks_per_node, 4);
  s = spec_of({"#SBATCH -n 7 -N 2"});
  EXPECT_EQ(s.tasks_per_node, 4);
  EXPECT_EQ(s.ntasks, 7);
  s = spec_of({"#SBATCH -n 8"});
  EXPECT_EQ(s.ntasks, 8);
  EXPECT_EQ(s.nodes, 0);
  s = spec_of({"#SBATCH -N 3 --tasks-per-node=2"});
  EXPECT_EQ(s.tasks_per_node, 2);
  EXPECT_EQ(s.ntasks, 0);  // = nodes x tasks_per_node
  s = spec_of({"#SBATCH -n 8 --ntasks-per-node=4 --gres=gpu:4"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.accel_count, 8);
  EXPECT_TRUE(contains(script_error({"#SBATCH -n 1 -N 2"}), "fewer tasks than the 2 nodes"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -n 9 -N 2 --ntasks-per-node 4"}), "does not match"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -n 4 -N 2 --ntasks-per-node 4"}), "does not match"));
}

TEST(JobScriptShape, GpusPerTask) {
  JobSpec s = spec_of({"#SBATCH -n 8 --gpus-per-task=1"});
  EXPECT_EQ(s.accel_count, 8);
  EXPECT_EQ(s.nodes, 0);
  s = spec_of({"#SBATCH -N 2 --ntasks-per-node=4 --gpus-per-task=2"});
  EXPECT_EQ(s.accel_count, 16);
  EXPECT_EQ(s.accel_per_node, 8);
  s = spec_of({"#SBATCH --gpus-per-task=2"});  // one task
  EXPECT_EQ(s.accel_count, 2);
  EXPECT_TRUE(contains(script_error({"#SBATCH -n 4 --gpus-per-task=1 --gpus=8"}), "conflicts"));
}

TEST(JobScriptShape, GpusPerTaskWithNtasksGivesEveryTaskItsDevice) {
  // --gpus-per-task=1 --ntasks=4 (issue 10/6): four devices for four tasks, nodes left to the
  // scheduler; the launch gives each task one device (launch_plan's tasks_per_node).
  JobSpec s = spec_of({"#SBATCH --gpus-per-task=1 --ntasks=4"});
  EXPECT_EQ(s.accel_count, 4);
  EXPECT_EQ(s.ntasks, 4);
  EXPECT_EQ(s.nodes, 0);
  s = spec_of({"#SBATCH -n 3"});  // three CPU tasks, as few nodes as fit
  EXPECT_EQ(s.ntasks, 3);
  EXPECT_EQ(s.nodes, 0);
}

// ---------------------------------------------------------------------------------------------
// When and where: --begin, --hold, --nodelist, --exclude

TEST(JobScriptPlacement, HoldAndBegin) {
  EXPECT_TRUE(spec_of({"#SBATCH --hold"}).hold);
  EXPECT_TRUE(spec_of({"#SBATCH -H"}).hold);
  EXPECT_FALSE(spec_of({}).hold);
  EXPECT_TRUE(contains(script_error({"#SBATCH --hold=yes"}), "takes no value"));
  JobOptions o;
  o.when.now_ms = 1'700'000'000'000;
  apply_option(o, "--begin", "now+1hour", "--begin");
  EXPECT_EQ(finish_job_spec(o).begin_ms, 1'700'003'600'000);
  apply_option(o, "-b", "@1800000000", "-b");
  EXPECT_EQ(finish_job_spec(o).begin_ms, 1'800'000'000'000);
  JobScript r = parse_job_script(script({"#SBATCH --begin=now+90"}), "job.sh", {}, nullptr,
                                 SubmitTime{1'700'000'000'000, nullptr});
  EXPECT_EQ(r.spec.begin_ms, 1'700'000'090'000);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(contains(script_error({"#SBATCH --begin=someday"}), "job.sh:2: bad begin time"));
}

TEST(JobScriptPlacement, NodelistAndExclude) {
  JobSpec s = spec_of({"#SBATCH -w node[1-3,5] -x gpu07"});
  EXPECT_EQ(s.nodelist, (std::vector<std::string>{"node1", "node2", "node3", "node5"}));
  EXPECT_EQ(s.exclude, (std::vector<std::string>{"gpu07"}));
  EXPECT_EQ(s.nodes, 4);  // every listed node (Slurm)
  s = spec_of({"#SBATCH --nodelist=node3"});
  EXPECT_EQ(s.nodes, 0);  // one node: the scheduler may still add more for the devices
  s = spec_of({"#SBATCH --nodelist=node[1-2] --gres=gpu:8"});
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.accel_count, 16);
  s = spec_of({"#SBATCH -N 4 --nodelist=node[1-2]"});
  EXPECT_EQ(s.nodes, 4);
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 1 -w node[1-2]"}),
                       "-w node[1-2] at job.sh:2 names 2 nodes but the job has 1"))
      << script_error({"#SBATCH -N 1 -w node[1-2]"});
  EXPECT_TRUE(contains(script_error({"#SBATCH -w node[1-2] -x node2"}),
                       "'node2' is both in --nodelist and --exclude"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -w node[3-1]"}), "goes down"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -w /etc/hosts"}), "not a file"));
  EXPECT_FALSE(is_ignored_option("--nodelist"));
  EXPECT_FALSE(is_ignored_option("-x"));
}

TEST(JobScriptCheck, ScriptsMustBeExecutableAsSbatchRequires) {
  EXPECT_EQ(script_problem("#!/bin/sh\necho hi\n"), "");
  EXPECT_EQ(script_problem("#!/usr/bin/env python3\nprint(1)\n"), "");
  EXPECT_TRUE(contains(script_problem("echo hi\n"), "does not start with #!"));
  EXPECT_TRUE(contains(script_problem(""), "does not start with #!"));
  EXPECT_TRUE(contains(script_problem(" #!/bin/sh\n"), "does not start with #!"));
  EXPECT_TRUE(contains(script_problem("#!/bin/bash\r\necho\r\n"), "DOS line breaks"));
  EXPECT_TRUE(contains(script_problem("#!/bin/bash\necho\necho x\r\n"), "first on line 3"));
  EXPECT_EQ(script_problem("#!/bin/sh\nprintf 'a\rb'\n"), "");  // a lone CR is the script's
}

TEST(JobScriptDirectives, WrapInAScriptSaysWhereItBelongs) {
  EXPECT_TRUE(contains(script_error({"#SBATCH --wrap='true'"}), "zs submit command line"));
}

TEST(JobScriptShape, Limits) {
  EXPECT_TRUE(contains(script_error({"#SBATCH --gres=gpu:65"}), "more than 64"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --gpus=1000001"}), "too large"));
  // Found by fuzz_job_script: a total split over the nodes must fit a node.
  EXPECT_TRUE(
      contains(script_error({"#ZS --accel 136 -N 2"}), "68 per node; a node has at most 64"));
  EXPECT_TRUE(contains(script_error({"#SBATCH -N 1000000 --gres=gpu:2"}), "at most 1000000"));
  EXPECT_TRUE(
      contains(script_error({"#SBATCH -n 10000000 --ntasks-per-node=1"}), "more than 1000000"));
}

TEST(JobScriptShape, MemoryPerCpuAndPerGpu) {
  EXPECT_EQ(spec_of({"#SBATCH --mem-per-cpu=1G -c 4 --ntasks-per-node=2"}).mem_mib, 8192);
  EXPECT_EQ(spec_of({"#SBATCH --mem-per-cpu=1G"}).mem_mib, 1024);
  EXPECT_EQ(spec_of({"#SBATCH --mem-per-gpu=10G --gres=gpu:4"}).mem_mib, 40960);
  EXPECT_EQ(spec_of({"#SBATCH --mem-per-gpu=10G --mem=1G"}).mem_mib, 1024);  // later wins
  EXPECT_TRUE(contains(script_error({"#SBATCH --mem-per-gpu=1G"}), "asks for no accelerators"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --mem-per-gpu=1G --gpus=8"}),
                       "needs the accelerators per node"));
  EXPECT_TRUE(
      contains(script_error({"#SBATCH --mem-per-cpu=1G -n 4"}), "needs the tasks per node"));
  EXPECT_TRUE(contains(script_error({"#SBATCH --mem-per-cpu=1T -c 2000 -N 1"}), "at most"));
}

TEST(JobScriptShape, CatalogResolvesTypes) {
  JobScript r = parse_job_script(script({"#SBATCH --gres=gpu:v100:4"}), "job.sh", {}, &test::cat);
  EXPECT_EQ(r.spec.accel_type, "V100-SXM2-32GB");
  r = parse_job_script(script({"#SBATCH --gpus=mlu590:8"}), "job.sh", {}, &test::cat);
  EXPECT_EQ(r.spec.accel_type, "MLU590");
  const std::string msg = error_of([&] {
    parse_job_script(script({"#SBATCH -N 1", "#SBATCH --gpus=a100:8"}), "job.sh", {}, &test::cat);
  });
  EXPECT_EQ(msg.rfind("job.sh:3: ", 0), 0u) << msg;  // ambiguous: A100-SXM4-40GB or -80GB
  EXPECT_TRUE(contains(error_of([&] {
                         parse_job_script(script({"#SBATCH --gpus=nosuch:8"}), "job.sh", {},
                                          &test::cat);
                       }),
                       "nosuch"));
}

// zs submit fetches the catalog only when a type must be resolved: building it costs more than
// the rest of the command, and most submissions name no type.
int catalog_fetches = 0;
const Catalog& counting_catalog() {
  ++catalog_fetches;
  return test::cat();
}

TEST(JobScriptShape, CatalogFetchedOnlyForANamedType) {
  catalog_fetches = 0;
  parse_job_script(script({"#SBATCH --gres=gpu:4 -N 2"}), "job.sh", {}, &counting_catalog);
  EXPECT_EQ(catalog_fetches, 0);
  EXPECT_EQ(parse_job_script(script({"#SBATCH --gres=gpu:v100:4"}), "job.sh", {}, &counting_catalog)
                .spec.accel_type,
            "V100-SXM2-32GB");
  EXPECT_EQ(catalog_fetches, 1);
}

TEST(JobScriptExample, ATypicalSlurmScript) {
  const std::string text =
      "#!/bin/bash\n"
      "#SBATCH --job-name=llama-ft        # job name\n"
      "#SBATCH --account=nlp\n"
      "#SBATCH --partition=a100\n"
      "#SBATCH --nodes=2\n"
      "#SBATCH --ntasks-per-node=8\n"
      "#SBATCH --cpus-per-task=12\n"
      "#SBATCH --gres=gpu:8\n"
      "#SBATCH --mem=0\n"
      "#SBATCH --time=2-00:00:00\n"
      "#SBATCH --output=logs/%x-%j.out\n"
      "#SBATCH --error=logs/%x-%j.err\n"
      "#SBATCH --mail-type=END,FAIL\n"
      "#SBATCH --requeue\n"
      "#SBATCH --exclusive\n"
      "\n"
      "module load cuda/12.1\n"
      "srun python train.py --config cfg.yaml\n";
  JobScript r = parse_job_script(text, "ft.sh");
  const JobSpec& s = r.spec;
  EXPECT_EQ(s.name, "llama-ft");
  EXPECT_EQ(s.tenant, "nlp");
  EXPECT_EQ(s.partition, "a100");
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.tasks_per_node, 8);
  EXPECT_EQ(s.ntasks, 0);
  EXPECT_EQ(s.cpus_per_task, 12);
  EXPECT_EQ(s.accel_per_node, 8);
  EXPECT_EQ(s.accel_count, 16);
  EXPECT_EQ(s.mem_mib, 0);
  EXPECT_EQ(s.walltime, 2 * kDay);
  EXPECT_EQ(s.stdout_path, "logs/%x-%j.out");
  EXPECT_EQ(s.stderr_path, "logs/%x-%j.err");
  EXPECT_EQ(s.max_retries, kDefaultRequeueRetries);
  EXPECT_EQ(s.script, text);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].where, "ft.sh:13");
  EXPECT_EQ(r.warnings[1].where, "ft.sh:15");
  EXPECT_EQ(r.directives.size(), 14u);
}

}  // namespace
}  // namespace zs
