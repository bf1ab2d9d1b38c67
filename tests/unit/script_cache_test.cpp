// Job scripts stored by content on an agent: shared, written once, kept while used, and only a
// bounded number of unused ones kept.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "agent/script_cache.h"
#include "scratch_dir.h"

namespace zs {
namespace {

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(ScriptCache, SameTextSharesOneExecutableFile) {
  test::ScratchDir tmp;
  ScriptCache cache(tmp / "scripts");
  std::string error;
  const std::string a = cache.acquire("#!/bin/sh\necho hi\n", error);
  const std::string b = cache.acquire("#!/bin/sh\necho hi\n", error);
  const std::string c = cache.acquire("#!/bin/sh\necho other\n", error);
  ASSERT_FALSE(a.empty()) << error;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(test::read_text(a), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(test::read_text(c), "#!/bin/sh\necho other\n");
  struct stat st {};
  ASSERT_EQ(::stat(a.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(files_in(tmp / "scripts"), 2u);  // no temporary files left behind
}

// A script is its job's Unix user's alone: owned by them, mode 0700, never shared with another
// user's job of the same text, in a directory others may pass through but not list, under a
// name no one can guess.
TEST(ScriptCache, EachUsersScriptsAreTheirsAlone) {
  test::ScratchDir tmp;
  ScriptCache cache(tmp / "scripts");
  struct stat st {};
  ASSERT_EQ(::stat((tmp / "scripts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0711u);
  std::string error;
  const std::string mine = cache.acquire("#!/bin/sh\nid\n", error);
  ASSERT_FALSE(mine.empty()) << error;
  const std::string name = std::filesystem::path(mine).filename().string();
  EXPECT_EQ(name.size(), 32u + 3u) << name;  // 128 random bits in hex, ".sh"
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef"), 32u) << name;
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  const ScriptOwner alice{true, 4242, 4343}, bob{true, 4244, 4343};
  const std::string a = cache.acquire("#!/bin/sh\nid\n", error, alice);
  const std::string b = cache.acquire("#!/bin/sh\nid\n", error, bob);
  ASSERT_FALSE(a.empty()) << error;
  ASSERT_FALSE(b.empty()) << error;
  EXPECT_NE(a, mine);
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.acquire("#!/bin/sh\nid\n", error, alice), a) << "shared by one user's jobs";
  ASSERT_EQ(::stat(a.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4343u);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(b.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4244u);
}

TEST(ScriptCache, KeepsAFileWhileUsedAndBoundsTheUnusedOnes) {
  test::ScratchDir tmp;
  ScriptCache cache(tmp / "scripts", 2);
  std::string error;
  const std::string used = cache.acquire("used", error);
  for (int i = 0; i < 5; ++i) cache.release(cache.acquire("idle " + std::to_string(i), error));
  EXPECT_EQ(cache.files(), 3u);  // the used one and the two most recently released
  EXPECT_EQ(files_in(tmp / "scripts"), 3u);
  EXPECT_TRUE(std::filesystem::exists(used));
  EXPECT_EQ(test::read_text(used), "used");
  // An idle file is reused as is, and its reuse makes it used again.
  const std::string again = cache.acquire("idle 4", error);
  cache.release(cache.acquire("idle 5", error));
  cache.release(cache.acquire("idle 6", error));
  EXPECT_TRUE(std::filesystem::exists(again));
  cache.release(again);
  cache.release(used);
  cache.release(used);  // one release too many is ignored
  EXPECT_EQ(cache.files(), 2u);
  EXPECT_EQ(files_in(tmp / "scripts"), 2u);
}

TEST(ScriptCache, AFileChangedBehindItsBackIsNotReused) {
  test::ScratchDir tmp;
  ScriptCache cache(tmp / "scripts");
  std::string error;
  const std::string a = cache.acquire("original", error);
  test::write_text(a, "tampered");
  const std::string b = cache.acquire("original", error);
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a, b);
  EXPECT_EQ(test::read_text(b), "original");
}

TEST(ScriptCache, StartsEmptyAndReportsUnwritableDirectories) {
  test::ScratchDir tmp;
  std::filesystem::create_directories(tmp / "scripts");
  test::write_text(tmp / "scripts/stale.sh", "old");
  ScriptCache cache(tmp / "scripts");
  EXPECT_EQ(files_in(tmp / "scripts"), 0u);
  ScriptCache broken("/proc/zs-no-such-dir/scripts");
  std::string error;
  EXPECT_EQ(broken.acquire("x", error), "");
  EXPECT_NE(error.find("cannot write the job script"), std::string::npos) << error;
}

}  // namespace
}  // namespace zs
