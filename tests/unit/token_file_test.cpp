// Credential files (api/token_file.h): used only when they are the caller's own, private,
// regular, and one short line; refused with what to do otherwise.
#include "api/token_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/input_error.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using test::ScratchDir;
using test::write_text;

std::string refusal(const std::string& path) {
  try {
    read_token_file(path, "--token-file");
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "--token-file");
    return e.message();
  }
  return "";
}

TEST(TokenFile, APrivateFileIsRead) {
  ScratchDir dir;
  const std::string path = dir / "token";
  write_text(path, "  zs_0123456789abcdef_secret\n\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(read_token_file(path, "--token-file"), "zs_0123456789abcdef_secret");
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_EQ(read_token_file(path, "--token-file"), "zs_0123456789abcdef_secret");
}

TEST(TokenFile, OthersMustNotReadOrWriteIt) {
  ScratchDir dir;
  const std::string path = dir / "token";
  write_text(path, "zs_x\n");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(refusal(path), path + " is readable by other users (mode 0644): chmod 600 " + path);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_NE(refusal(path).find("chmod 600"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
  EXPECT_EQ(refusal(path), path + " is writable by other users (mode 0620): chmod 600 " + path);
}

TEST(TokenFile, OnlyOneShortLineInARegularFile) {
  ScratchDir dir;
  const std::string path = dir / "token";
  for (const std::string& bad :
       {std::string(""), std::string(" \n"), std::string("two words\n"), std::string("a\nb\n"),
        std::string("tab\there"), std::string("nul\0x", 5), std::string(5000, 'a')}) {
    write_text(path, bad);
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    EXPECT_NE(refusal(path), "") << "accepted: " << bad.substr(0, 20);
  }
  EXPECT_EQ(refusal(dir.path()), dir.path() + " is not a regular file");
  EXPECT_NE(refusal(dir / "missing").find("cannot read"), std::string::npos);
  EXPECT_NE(refusal("").find("expected"), std::string::npos);
  EXPECT_NE(refusal("/dev/null").find("not a regular file"), std::string::npos);
}

// What zs login, zs up and the controller's first start write: private, whole, and read back.
TEST(TokenFile, WrittenPrivateWithPrivateParentsAndReadBack) {
  ScratchDir dir;
  const std::string path = dir / "home/.config/zs/token";
  write_token_file(path, "zs_0123456789abcdef_secret", "test");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir / "home/.config/zs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(read_token_file(path, "test"), "zs_0123456789abcdef_secret");
  // Replaced whole; a stale temporary file (even a symlink planted there) is not followed.
  ASSERT_EQ(::symlink((dir / "elsewhere").c_str(), (path + ".tmp").c_str()), 0);
  write_token_file(path, "zs_second", "test");
  EXPECT_EQ(read_token_file(path, "test"), "zs_second");
  EXPECT_NE(::access((dir / "elsewhere").c_str(), F_OK), 0);
  try {
    write_token_file(dir / "nodir/x/" + std::string(5000, 'a'), "t", "login");
    ADD_FAILURE() << "wrote to an impossible path";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "login");
  }
}

}  // namespace
}  // namespace zs
