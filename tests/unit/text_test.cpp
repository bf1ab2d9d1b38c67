#include <gtest/gtest.h>

#include "core/text.h"

namespace zs {

TEST(Text, ParsesDurationsInSlurmAndSuffixForms) {
  EXPECT_EQ(parse_duration_s("90"), 90);
  EXPECT_EQ(parse_duration_s("15m"), 900);
  EXPECT_EQ(parse_duration_s("2h"), 7200);
  EXPECT_EQ(parse_duration_s("1.5h"), 5400);
  EXPECT_EQ(parse_duration_s("3d"), 3 * 86400);
  EXPECT_EQ(parse_duration_s("30:00"), 1800);
  EXPECT_EQ(parse_duration_s("12:30:00"), 45000);
  EXPECT_EQ(parse_duration_s("1-12:00:00"), 86400 + 43200);
  EXPECT_EQ(parse_duration_s("2-00"), 2 * 86400);
}

TEST(Text, RejectsMalformedDurations) {
  for (const char* bad : {"", "abc", "-5", "5x", "1:2:3:4", "1-", "-1-00", "1e300h", "::"})
    EXPECT_FALSE(parse_duration_s(bad).has_value()) << bad;
}

TEST(Text, StrictNumbers) {
  EXPECT_EQ(parse_int(" 42 "), 42);
  EXPECT_FALSE(parse_int("42abc"));
  EXPECT_FALSE(parse_int("4.2"));
  EXPECT_EQ(parse_double("4.5"), 4.5);
  EXPECT_FALSE(parse_double("nan"));
  EXPECT_FALSE(parse_double("inf"));
  EXPECT_FALSE(parse_double(""));
}

TEST(Text, NormalizesNames) {
  EXPECT_EQ(normalize_name(" Ascend 910B3 "), "ascend-910b3");
  EXPECT_EQ(normalize_name("ascend_910B3"), "ascend-910b3");
}

}  // namespace zs
