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

TEST(Text, TerminalSafeEscapesControlsVisibly) {
  EXPECT_EQ(terminal_safe("plain name-1_x.y"), "plain name-1_x.y");
  EXPECT_EQ(terminal_safe("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(terminal_safe("line\r\nnext\tcol"), "line\\r\\nnext\\tcol");
  EXPECT_EQ(terminal_safe(std::string("nul\0bell\a del\x7f", 14)), "nul\\x00bell\\x07 del\\x7f");
  // C1 controls arrive UTF-8 encoded (U+009B is an 8-bit CSI); the OSC sequence of a title
  // change is ESC ] ... BEL.
  EXPECT_EQ(terminal_safe("x\xc2\x9b"
                          "2J"),
            "x\\u009b2J");
  EXPECT_EQ(terminal_safe("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
}

TEST(Text, TerminalSafeKeepsUtf8ButNotInvisibleReordering) {
  EXPECT_EQ(terminal_safe("训练-任务 é ü 🚀"), "训练-任务 é ü 🚀");
  // Right-to-left override (Trojan Source), the isolates and the line separator.
  EXPECT_EQ(terminal_safe("ab\u202ecd"), "ab\\u202ecd");
  EXPECT_EQ(terminal_safe("\u2066x\u2069"), "\\u2066x\\u2069");
  EXPECT_EQ(terminal_safe("a\u2028b"), "a\\u2028b");
  // Invalid UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences.
  EXPECT_EQ(terminal_safe("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(terminal_safe("\xc0\x9b"), "\\xc0\\x9b");                    // overlong ESC-like
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a UTF-16 surrogate
  EXPECT_EQ(terminal_safe("ok\xe4\xbd"), "ok\\xe4\\xbd");                // cut short at the end
  EXPECT_EQ(terminal_safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // beyond U+10FFFF
  EXPECT_EQ(terminal_safe(""), "");
}

TEST(Text, TerminalSafeOutputHasNoControlBytes) {
  // Every byte value in every position: the result is printable ASCII or valid UTF-8 only.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string out = terminal_safe(all + all);
  for (unsigned char c : out) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << int(c);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

}  // namespace zs

#include "core/input_error.h"

namespace zs {
namespace {

// Errors quote hostile cells: cut long ones on a UTF-8 boundary, saying how much is left out.
TEST(InputErrorClip, LongPartsAreCutOnACharacterBoundary) {
  EXPECT_EQ(clip_for_message("short"), "short");
  std::string s = "a";
  for (int i = 0; i < 2000; ++i) s += "\xE7\xAE\x97";  // 算, 3 bytes each
  const std::string c = clip_for_message(s);
  EXPECT_EQ(c.substr(0, 1999), s.substr(0, 1999));  // "a" and 666 whole characters
  EXPECT_EQ(c.substr(1999), "... (4002 more bytes)");
  const InputError e(std::string(100'000, 'w'), std::string(1 << 20, 'x'));
  EXPECT_LT(std::string(e.what()).size(), 2'600u);
  EXPECT_LT(e.where().size(), 600u);
}

}  // namespace
}  // namespace zs
