#include <gtest/gtest.h>

#include "core/input_error.h"
#include "core/state_filter.h"

namespace zs {
namespace {

StateFilter of(std::initializer_list<JobState> states) {
  StateFilter f;
  for (JobState s : states) f.add(s);
  return f;
}

TEST(StateFilter, SlurmNamesAndShortFormsAnyCase) {
  EXPECT_EQ(parse_state_filter("PD"), of({JobState::pending}));
  EXPECT_EQ(parse_state_filter("pending"), of({JobState::pending}));
  EXPECT_EQ(parse_state_filter("PENDING"), of({JobState::pending}));
  EXPECT_EQ(parse_state_filter("R"), of({JobState::running}));
  EXPECT_EQ(parse_state_filter("Running"), of({JobState::running}));
  EXPECT_EQ(parse_state_filter("cd,F"), of({JobState::completed, JobState::failed}));
  EXPECT_EQ(parse_state_filter("CA,TO,NF"),
            of({JobState::cancelled, JobState::timeout, JobState::node_fail}));
  EXPECT_EQ(parse_state_filter("NODE_FAIL"), of({JobState::node_fail}));
  EXPECT_EQ(parse_state_filter("node-fail"), of({JobState::node_fail}));
  EXPECT_EQ(parse_state_filter(" PD , R "), StateFilter::active());
  EXPECT_EQ(parse_state_filter("active"), StateFilter::active());
}

TEST(StateFilter, AllMeansEveryState) {
  for (const char* text : {"all", "ALL", "All", "pd,all"}) {
    StateFilter f = parse_state_filter(text);
    EXPECT_TRUE(f.is_all()) << text;
    for (JobState s : {JobState::pending, JobState::running, JobState::completed, JobState::failed,
                       JobState::cancelled, JobState::timeout, JobState::node_fail})
      EXPECT_TRUE(f.contains(s)) << text;
  }
}

TEST(StateFilter, SlurmStatesZhisuanNeverHasMatchNothing) {
  EXPECT_TRUE(parse_state_filter("CG").empty());
  EXPECT_TRUE(parse_state_filter("suspended,PR,OOM").empty());
  EXPECT_EQ(parse_state_filter("S,R"), of({JobState::running}));
}

TEST(StateFilter, RejectsUnknownWordsAndEmptyEntries) {
  for (const char* bad : {"", "PENDIN", "P", "R,,PD", "run ning", "\x1b[2J"}) {
    try {
      parse_state_filter(bad, "-t");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "-t");
      EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos);
    }
  }
}

TEST(StateFilter, QueryHelpers) {
  JobState one{};
  EXPECT_TRUE(parse_state_filter("R").single(one));
  EXPECT_EQ(one, JobState::running);
  EXPECT_FALSE(parse_state_filter("R,PD").single(one));
  EXPECT_FALSE(StateFilter{}.single(one));
  EXPECT_TRUE(parse_state_filter("R,PD").within_active());
  EXPECT_FALSE(parse_state_filter("R,CD").within_active());
  EXPECT_FALSE(parse_state_filter("CD").is_all());
}

}  // namespace
}  // namespace zs
