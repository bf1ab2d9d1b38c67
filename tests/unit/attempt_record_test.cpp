// Attempt records (agent/attempt_record.h): the lines survive a round trip, damaged or partial
// records never throw and count only whole lines, and the node's exit is computed the same way
// whether the agent saw the tasks end or a restarted agent reads them from the record.
#include "agent/attempt_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <limits>
#include <string>

#include "agent/shim.h"

namespace zs {
namespace {

AttemptHeader header() {
  AttemptHeader h;
  h.key = {42, 3};
  h.node_rank = 1;
  h.ranks = {4, 5};
  h.devices = {0, 1, 6};
  h.deadline_ms = 1'700'000'123'456;
  h.kernel_boot = "d7c1e1f0-boot";
  h.tracking = "/sys/fs/cgroup/unified/zhisuan/n1-0a1b2c3d/job-42.3";
  h.limit_dirs = {"/sys/fs/cgroup/cpu/zhisuan/n1-0a1b2c3d/job-42.3"};
  h.cgroup_procs = {h.tracking + "/cgroup.procs", h.limit_dirs[0] + "/cgroup.procs"};
  h.stdout_path = "/jobs/out \"quoted\"\nnewline.log";
  h.stderr_path = "/jobs/err.log";
  // The files the log server may serve (a restarted agent still knows them).
  h.stdout_id = {2049, std::numeric_limits<std::uint64_t>::max()};
  h.stderr_id = {66306, 1234567};
  h.script = "/w/scripts/00ff-12.sh";
  h.program = "/w/scripts/00ff-12.sh";
  h.cwd = "/jobs";
  h.signal = 10;  // --signal=B:USR1@60 (a restarted agent still sends it)
  h.signal_batch = true;
  h.signal_ms = 1'700'000'063'456;
  return h;
}

TEST(AttemptRecord, HeaderRoundTrips) {
  const AttemptHeader h = header();
  const std::string line = record_header_line(h);
  ASSERT_EQ(line.substr(0, 2), "R ");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, whatever the paths hold";
  AttemptRecord rec = parse_attempt_record(line);
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(*rec.header, h);
  ASSERT_EQ(rec.ranks.size(), 2u);
  EXPECT_FALSE(rec.ranks.at(4).started);
  EXPECT_FALSE(rec.stopped);
}

TEST(AttemptRecord, HeaderWithoutASignalIsOneWithout) {
  // Records of agents older than --signal: no signal, nothing due.
  AttemptHeader h = header();
  const std::string line = record_header_line(h);
  nlohmann::json j = nlohmann::json::parse(line.substr(2));
  for (const char* key : {"signal", "signal_batch", "signal_ms"}) ASSERT_EQ(j.erase(key), 1u);
  AttemptRecord rec = parse_attempt_record("R " + j.dump() + "\n");
  ASSERT_TRUE(rec.header);
  h.signal = 0;
  h.signal_batch = false;
  h.signal_ms = 0;
  EXPECT_EQ(*rec.header, h);
}

TEST(AttemptRecord, ShimAndAgentLines) {
  std::string text = record_header_line(header());
  text += "S 42 3 4 1234 98765 77 5000\n";
  text += "S 42 3 5 1235 98766 77 5000\n";
  text += "E 42 3 5 143 15 1700000000999 0 0\n";
  text += record_failed_line(4, "cannot open stdout", 1'700'000'000'100);
  text += record_stop_line("timeout", 1'700'000'000'500);
  text += record_stop_line("killed", 1'700'000'000'600);
  AttemptRecord rec = parse_attempt_record(text);
  ASSERT_TRUE(rec.header);
  const RankRecord& r4 = rec.ranks.at(4);
  const RankRecord& r5 = rec.ranks.at(5);
  EXPECT_TRUE(r4.started);
  EXPECT_EQ(r4.task_pid, 1234);
  EXPECT_EQ(r4.task_start, "98765");
  EXPECT_EQ(r4.shim_pid, 77);
  EXPECT_EQ(r4.shim_start, "5000");
  EXPECT_FALSE(r4.ended);
  EXPECT_EQ(r4.failed, "cannot open stdout");
  EXPECT_TRUE(r5.ended);
  EXPECT_EQ(r5.exit_code, 143);
  EXPECT_EQ(r5.signal, 15);
  EXPECT_EQ(r5.end_ms, 1'700'000'000'999);
  EXPECT_TRUE(rec.stopped);
  EXPECT_EQ(rec.stop_reason, "timeout") << "the first stop counts";
  EXPECT_EQ(rec.stop_ms, 1'700'000'000'500);
}

TEST(AttemptRecord, OnlyWholeLinesOfThisAttemptAfterTheHeaderCount) {
  const std::string h = record_header_line(header());
  // Lines before the header, of another attempt (a reused file), for unknown ranks, malformed,
  // duplicated, or cut short.
  std::string text = "E 42 3 4 1 0 5 0 0\n" + h +
                     "S 42 3 9 11 2 7 1\nS 42 3 4 x 2 7 1\nS 42 3 4 11 2\nS 42 3 4 0 5 7 1\n"
                     "S 42 3 4 11 2 0 1\nS 42 2 4 77 5 7 1\n"
                     "E 41 3 4 9 0 50 0 0\nE 42 3 4 1 0\nE 42 3 4 a b c d e\n"
                     "E 42 3 4 7 0 100 0 0\nE 42 3 4 8 0 200 0 0\nX garbage\n\n F {}\nT not json\n"
                     "E 42 3 5 3 0 9 0 0";
  AttemptRecord rec = parse_attempt_record(text);
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(rec.ranks.size(), 2u);
  EXPECT_FALSE(rec.ranks.at(4).started) << "pid 0, another attempt's and malformed S lines";
  EXPECT_TRUE(rec.ranks.at(4).ended);
  EXPECT_EQ(rec.ranks.at(4).exit_code, 7) << "the first E line of this attempt counts";
  EXPECT_FALSE(rec.ranks.at(5).ended) << "a last line without its newline is not written yet";
  EXPECT_FALSE(rec.stopped);
}

TEST(AttemptRecord, AKnownHeaderIsNotDecodedAgain) {
  const AttemptHeader h = header();
  AttemptHeader other = h;
  other.stdout_path = "/elsewhere";
  const std::string text = record_header_line(h) + "E 42 3 4 0 0 10 0 0\n";
  AttemptRecord rec = parse_attempt_record(text, &other);
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(rec.header->stdout_path, "/elsewhere");
  EXPECT_TRUE(rec.ranks.at(4).ended);
  EXPECT_FALSE(parse_attempt_record("S 42 3 4 1 2\n", &other).header) << "no R line, no record";
}

TEST(AttemptRecord, DamagedRecordsNeverThrow) {
  for (std::string text :
       {std::string(), std::string("R "), std::string("R {\n"), std::string("R []\n"),
        std::string("R {\"job\":0}\n"),
        std::string("R {\"job\":1,\"attempt\":1}\n"),  // no ranks
        std::string("R {\"job\":1,\"attempt\":1,\"ranks\":[0],\"devices\":[64]}\n"),
        std::string("R {\"job\":\"x\",\"attempt\":1,\"ranks\":[0]}\n"), std::string(3000, '\n'),
        std::string("\xff\xfe\x00R", 4)}) {
    AttemptRecord rec;
    EXPECT_NO_THROW(rec = parse_attempt_record(text));
    EXPECT_FALSE(rec.header) << text.substr(0, 60);
  }
  // A header whose fields have the wrong types keeps what it can, and never throws.
  AttemptRecord rec = parse_attempt_record(
      "R {\"job\":7,\"attempt\":0,\"ranks\":[0],\"stdout\":5,\"limit_dirs\":\"x\"}\n");
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(rec.header->stdout_path, "");
  EXPECT_TRUE(rec.header->limit_dirs.empty());
}

TEST(AttemptRecord, BoundedText) {
  EXPECT_EQ(bounded_text("plain reason"), "plain reason");
  EXPECT_EQ(bounded_text("a\nb\tc\x01"), "a?b?c?");
  EXPECT_EQ(bounded_text("bad \xff utf8"), "bad ? utf8");
  const std::string huge(1 << 20, 'x');
  const std::string cut = bounded_text("cannot open stdout file '" + huge + "'");
  EXPECT_LE(cut.size(), kMaxReportedText + 3);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  // A multi-byte character is never cut in half.
  std::string chinese;
  for (int i = 0; i < 600; ++i) chinese += "\xe6\x99\xba";  // 智
  const std::string c = bounded_text(chinese);
  EXPECT_EQ((c.size() - 3) % 3, 0u);
}

TEST(AttemptRecord, OutcomeOfARank) {
  const AttemptHeader h = header();
  RankRecord r;
  EXPECT_FALSE(outcome_of(r, h)) << "no E or F line: still running, or lost";
  r.started = true;
  r.ended = true;
  r.exit_code = 3;
  r.end_ms = 77;
  auto o = outcome_of(r, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, RankOutcome::exited);
  EXPECT_EQ(o->exit_code, 3);
  EXPECT_EQ(o->end_ms, 77);
  r.exit_code = 127;
  r.step = kShimExec;
  r.detail = ENOENT;
  o = outcome_of(r, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, RankOutcome::launch_failed);
  EXPECT_EQ(o->reason,
            "cannot exec '/w/scripts/00ff-12.sh': No such file or directory (a missing #! "
            "interpreter?)");
  r.step = kShimJoinCgroup;
  r.detail = 1 * 4096 + EACCES;
  EXPECT_EQ(outcome_of(r, h)->reason,
            "cannot join cgroup via '" + h.cgroup_procs[1] + "': Permission denied");
  RankRecord f;
  f.failed = "cannot open stdout file '/x': Permission denied";
  f.failed_ms = 5;
  o = outcome_of(f, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, RankOutcome::launch_failed);
  EXPECT_EQ(o->exit_code, 127);
  EXPECT_EQ(o->reason, f.failed);
}

TEST(AttemptRecord, NodeExit) {
  using K = RankOutcome::Kind;
  const AttemptKey key{9, 1};
  NodeExit e = node_exit_of(key, {{0, {K::exited, 0, 100, ""}}, {1, {K::exited, 0, 250, ""}}}, "");
  EXPECT_EQ(e.key, key);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(e.end_ms, 250) << "the last rank's end";
  // The rank that failed first decides the code, whatever its rank number.
  e = node_exit_of(
      key,
      {{0, {K::exited, 143, 300, ""}}, {1, {K::exited, 2, 200, ""}}, {2, {K::exited, 5, 200, ""}}},
      "");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(e.end_ms, 300);
  // A stop reason wins over everything else.
  // Rank 1 failed (7); the agent stopped rank 0 at 200, which died of SIGTERM at 210 - but its
  // end was recorded before rank 1's (rank 1's end came from a later poll): 7 wins all the same.
  e = node_exit_of(key, {{0, {K::exited, 143, 210, ""}}, {1, {K::exited, 7, 220, ""}}}, "", 200);
  EXPECT_EQ(e.exit_code, 7);
  // Only stopped ranks failed (a kill of the whole attempt): their code.
  e = node_exit_of(key, {{0, {K::exited, 143, 210, ""}}, {1, {K::exited, 0, 150, ""}}}, "", 200);
  EXPECT_EQ(e.exit_code, 143);
  e = node_exit_of(key, {{0, {K::exited, 143, 300, ""}}}, "timeout");
  EXPECT_EQ(e.exit_code, 143);
  EXPECT_EQ(e.reason, "timeout");
  e = node_exit_of(
      key,
      {{0, {K::launch_failed, 127, 10, "program 'x' not found"}}, {1, {K::exited, 143, 20, ""}}},
      "");
  EXPECT_EQ(e.exit_code, 127);
  EXPECT_EQ(e.reason, "launch failed: program 'x' not found");
  e = node_exit_of(key, {{0, {K::lost, -1, 10, "the node restarted"}}, {1, {K::exited, 0, 5, ""}}},
                   "");
  EXPECT_EQ(e.exit_code, -1);
  EXPECT_EQ(e.reason, "lost: the node restarted");
  // Reasons are bounded, whatever they are made of.
  e = node_exit_of(key, {{0, {K::launch_failed, 127, 1, std::string(2 << 20, 'p')}}}, "");
  EXPECT_LE(e.reason.size(), kMaxReportedText + 3);
}

}  // namespace
}  // namespace zs
