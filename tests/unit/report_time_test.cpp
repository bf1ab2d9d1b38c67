// The edges of accounting reports (core/report_time.h): UTC, never rolled forward.
#include "core/report_time.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/input_error.h"

namespace zs {
namespace {

// 2026-12-06T17:30:00Z
constexpr TimeMs kNow = 1'796'578'200'000;

TEST(ReportTime, Forms) {
  EXPECT_EQ(utc_time_text(kNow), "2026-12-06T17:30:00Z");
  EXPECT_EQ(utc_time_text(parse_report_time("2026-11", kNow, "-S")), "2026-11-01T00:00:00Z");
  EXPECT_EQ(utc_time_text(parse_report_time("2026-12-01", kNow, "-S")), "2026-12-01T00:00:00Z");
  EXPECT_EQ(utc_time_text(parse_report_time("2026-12-01T08:15", kNow, "-S")),
            "2026-12-01T08:15:00Z");
  EXPECT_EQ(parse_report_time("now", kNow, "-E"), kNow);
  EXPECT_EQ(parse_report_time("now-7days", kNow, "-S"), kNow - 7 * 86'400'000);
  EXPECT_EQ(utc_time_text(parse_report_time("today", kNow, "-S")), "2026-12-06T00:00:00Z");
  EXPECT_EQ(utc_time_text(parse_report_time("Yesterday", kNow, "-S")), "2026-12-05T00:00:00Z");
  EXPECT_EQ(parse_report_time("@1700000000", kNow, "-S"), 1'700'000'000'000);
  EXPECT_EQ(utc_time_text(utc_month_start(kNow)), "2026-12-01T00:00:00Z");
  EXPECT_EQ(utc_month_start(parse_report_time("2027-01-01", kNow, "-S")),
            parse_report_time("2027-01", kNow, "-S"));
}

TEST(ReportTime, BadTextNamesTheFlagAndTheForms) {
  const std::vector<std::string> bad_texts = {
      "",       "12/25",    "08:00",      "tomorrow", "2026-13",
      "2026-1", "x2026-11", "2026-02-30", "now+",     std::string(100, '1')};
  for (const std::string& bad : bad_texts) {
    try {
      parse_report_time(bad, kNow, "-S/--starttime");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "-S/--starttime");
      EXPECT_NE(std::string(e.what()).find("YYYY-MM"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace zs
