// sbatch --begin forms, resolved against a fixed "now" in the local time zone.
#include <gtest/gtest.h>

#include "core/begin_time.h"
#include "core/input_error.h"

namespace zs {
namespace {

// A zone eight hours east of UTC (no daylight saving), so the results do not depend on the
// machine's TZ.
const FixedOffsetZone kZone(8 * 3600);

// Local time in kZone -> ms since the epoch.
TimeMs local_ms(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return kZone.epoch_s({y, mo, d, h, mi, s}) * 1000;
}

// 2025-06-15 14:30:00 local time.
const TimeMs kNow = local_ms(2025, 6, 15, 14, 30, 0);

TimeMs begin(const char* text) {
  return parse_begin_time(text, kNow, kZone);
}

TEST(BeginTime, NowAndOffsets) {
  EXPECT_EQ(begin("now"), kNow);
  EXPECT_EQ(begin("NOW"), kNow);
  EXPECT_EQ(begin("now+90"), kNow + 90'000);  // seconds by default
  EXPECT_EQ(begin("now+1hour"), kNow + 3'600'000);
  EXPECT_EQ(begin("now+2hours"), kNow + 7'200'000);
  EXPECT_EQ(begin("now+30min"), kNow + 1'800'000);
  EXPECT_EQ(begin("now+30minutes"), kNow + 1'800'000);
  EXPECT_EQ(begin("now+45s"), kNow + 45'000);
  EXPECT_EQ(begin("now+1day"), kNow + 86'400'000);
  EXPECT_EQ(begin("now+2weeks"), kNow + 14 * 86'400'000LL);
  EXPECT_EQ(begin("now-10minutes"), kNow - 600'000);  // in the past: eligible at once
  EXPECT_EQ(begin(" now+1h "), kNow + 3'600'000);
}

TEST(BeginTime, IsoDatesAndTimes) {
  EXPECT_EQ(begin("2025-07-01"), local_ms(2025, 7, 1));
  EXPECT_EQ(begin("2025-07-01T08:00"), local_ms(2025, 7, 1, 8));
  EXPECT_EQ(begin("2025-07-01T08:00:30"), local_ms(2025, 7, 1, 8, 0, 30));
  EXPECT_EQ(begin("2025-07-01 08:00"), local_ms(2025, 7, 1, 8));
  EXPECT_EQ(begin("2020-01-01"), local_ms(2020, 1, 1));  // past: allowed
}

TEST(BeginTime, TimesOfDayAreTheNextToCome) {
  EXPECT_EQ(begin("16:00"), local_ms(2025, 6, 15, 16));
  EXPECT_EQ(begin("16:00:10"), local_ms(2025, 6, 15, 16, 0, 10));
  EXPECT_EQ(begin("08:00"), local_ms(2025, 6, 16, 8));  // passed today: tomorrow
  EXPECT_EQ(begin("4:00pm"), local_ms(2025, 6, 15, 16));
  EXPECT_EQ(begin("4:00 PM"), local_ms(2025, 6, 15, 16));
  EXPECT_EQ(begin("12:00am"), local_ms(2025, 6, 16, 0));
  EXPECT_EQ(begin("noon"), local_ms(2025, 6, 16, 12));  // 12:00 has passed
  EXPECT_EQ(begin("teatime"), local_ms(2025, 6, 15, 16));
  EXPECT_EQ(begin("fika"), local_ms(2025, 6, 15, 15));
  EXPECT_EQ(begin("midnight"), local_ms(2025, 6, 16, 0));
  EXPECT_EQ(begin("today"), local_ms(2025, 6, 15, 0));
  EXPECT_EQ(begin("tomorrow"), local_ms(2025, 6, 16, 0));
  EXPECT_EQ(begin("tomorrow 08:00"), local_ms(2025, 6, 16, 8));
  EXPECT_EQ(begin("08:00 tomorrow"), local_ms(2025, 6, 16, 8));
}

TEST(BeginTime, SlurmDates) {
  EXPECT_EQ(begin("0701"), local_ms(2025, 7, 1));
  EXPECT_EQ(begin("070126"), local_ms(2026, 7, 1));
  EXPECT_EQ(begin("07/01"), local_ms(2025, 7, 1));
  EXPECT_EQ(begin("07/01/26"), local_ms(2026, 7, 1));
  EXPECT_EQ(begin("07.01.26"), local_ms(2026, 7, 1));
  EXPECT_EQ(begin("06/01"), local_ms(2026, 6, 1));  // passed this year: next year's
  EXPECT_EQ(begin("12/25-08:00"), local_ms(2025, 12, 25, 8));
  EXPECT_EQ(begin("08:00 12/25"), local_ms(2025, 12, 25, 8));
}

TEST(BeginTime, CivilArithmetic) {
  EXPECT_EQ(kZone.epoch_s({1970, 1, 1, 8, 0, 0}), 0);
  EXPECT_EQ(FixedOffsetZone().epoch_s({2000, 3, 1, 0, 0, 0}), 951868800);
  EXPECT_EQ(FixedOffsetZone().civil(951868799), (CivilTime{2000, 2, 29, 23, 59, 59}));
  EXPECT_EQ(kZone.civil(kNow / 1000), (CivilTime{2025, 6, 15, 14, 30, 0}));
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(2100, 2), 28);
  EXPECT_EQ(days_in_month(2000, 2), 29);
  // Tomorrow across a month and a year end.
  const TimeMs dec31 = local_ms(2025, 12, 31, 23, 0);
  EXPECT_EQ(parse_begin_time("tomorrow", dec31, kZone), local_ms(2026, 1, 1));
  EXPECT_EQ(parse_begin_time("08:00", dec31, kZone), local_ms(2026, 1, 1, 8));
  EXPECT_EQ(parse_begin_time("2024-02-29", dec31, kZone), local_ms(2024, 2, 29));
  EXPECT_THROW(parse_begin_time("2025-02-29", dec31, kZone), InputError);
}

TEST(BeginTime, Epoch) {
  EXPECT_EQ(begin("@1800000000"), 1'800'000'000'000);
  EXPECT_EQ(begin("1800000000"), 1'800'000'000'000);
  EXPECT_EQ(begin("@0"), 0);
}

TEST(BeginTime, RejectsWhatItCannotRead) {
  for (const char* bad : {"",
                          "soon",
                          "now+",
                          "now+x",
                          "now+5 parsecs",
                          "now*2",
                          "now+99999999999weeks",
                          "25:00",
                          "12:60",
                          "13:00pm",
                          "2025-02-30",
                          "2025-13-01",
                          "2025-07-01T25:00",
                          "02/30",
                          "1301",
                          "12345",
                          "1234567",
                          "@",
                          "@12x",
                          "16:00 17:00",
                          "today tomorrow",
                          "07/01 08/01",
                          "0701 tomorrow",
                          "2025-07-01X08:00",
                          "\x1b[2J",
                          "10000-01-01",
                          "@999999999999"}) {
    try {
      parse_begin_time(bad, kNow, kZone, "--begin");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "--begin") << bad;
      EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << bad;
    }
  }
}

}  // namespace
}  // namespace zs
