// Reading log slices for the agents' log server: only regular files, and with an expected
// identity only the very file an attempt wrote.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "api/file_slice.h"
#include "scratch_dir.h"

namespace zs {
namespace {

FileIdentity identity_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

TEST(FileSlice, ServesOnlyTheFileItWasToldOf) {
  test::ScratchDir dir;
  test::write_text(dir / "out", "mine\n");
  test::write_text(dir / "secret", "not yours\n");
  const FileIdentity written = identity_of(dir / "out");
  std::string data;
  EXPECT_EQ(read_file_slice(dir / "out", 0, 100, data, &written), "");
  EXPECT_EQ(data, "mine\n");

  // The user swaps their output for a link to a file they may not read.
  ASSERT_EQ(::unlink((dir / "out").c_str()), 0);
  ASSERT_EQ(::symlink((dir / "secret").c_str(), (dir / "out").c_str()), 0);
  data.clear();
  EXPECT_EQ(read_file_slice(dir / "out", 0, 100, data, &written),
            "not the file this attempt wrote (it was replaced)");
  EXPECT_EQ(data, "");
  const FileIdentity unknown;
  EXPECT_NE(read_file_slice(dir / "secret", 0, 100, data, &unknown), "");
  EXPECT_EQ(data, "");
  EXPECT_EQ(read_file_slice(dir / "secret", 0, 100, data), "") << "no identity: any regular file";
  EXPECT_EQ(read_file_slice("/dev/null", 0, 100, data), "not a regular file");
}

}  // namespace
}  // namespace zs
