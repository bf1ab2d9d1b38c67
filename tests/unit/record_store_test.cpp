// The store of attempt records (agent/record_store.h): files are reused rather than created and
// deleted per attempt, a reused file holds only its new attempt, and a restarting agent finds
// exactly the records that hold an attempt.
#include "agent/record_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "scratch_dir.h"

namespace zs {
namespace {

using test::read_text;
using test::ScratchDir;
using test::write_text;
namespace fs = std::filesystem;

AttemptHeader header(JobId job) {
  AttemptHeader h;
  h.key = {job, 1};
  h.ranks = {0};
  h.devices = {2};
  return h;
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(RecordStore, FilesAreReusedAndHoldOnlyTheirAttempt) {
  ScratchDir base;
  const std::string dir = base / "attempts";
  RecordStore store(dir);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  std::string path, error;
  int fd = store.create(record_header_line(header(1)), path, error);
  ASSERT_GE(fd, 3) << error;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string line = "S 1 1 0 4242 99 40 9\nE 1 1 0 0 0 123 0 0\n";
  ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  ::close(fd);
  store.append(path, record_stop_line("killed", 5));
  AttemptRecord rec = parse_attempt_record(store.read(path));
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(rec.header->key, (AttemptKey{1, 1}));
  EXPECT_TRUE(rec.ranks.at(0).ended);
  EXPECT_EQ(rec.stop_reason, "killed");

  // Freed: the same file comes back for the next attempt, holding only that attempt.
  const ino_t inode = st.st_ino;
  store.free(path);
  EXPECT_EQ(store.spares(), 1u);
  EXPECT_FALSE(parse_attempt_record(store.read(path)).header) << "a spare holds no attempt";
  std::string again;
  fd = store.create(record_header_line(header(2)), again, error);
  ASSERT_GE(fd, 3) << error;
  EXPECT_EQ(again, path);
  ASSERT_EQ(::stat(again.c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, inode) << "no new file";
  // A late line of the earlier attempt is appended after the new header: it does not count.
  const std::string late = "E 1 1 0 9 0 7 0 0\n";
  ASSERT_EQ(::write(fd, late.data(), late.size()), static_cast<ssize_t>(late.size()));
  ::close(fd);
  rec = parse_attempt_record(store.read(again));
  ASSERT_TRUE(rec.header);
  EXPECT_EQ(rec.header->key, (AttemptKey{2, 1}));
  EXPECT_FALSE(rec.ranks.at(0).ended);
  EXPECT_FALSE(rec.stopped);
  EXPECT_EQ(files_in(dir), 1u);
}

TEST(RecordStore, LoadFindsTheAttemptsAndKeepsTheRestAsSpares) {
  ScratchDir base;
  const std::string dir = base / "attempts";
  std::string a, b, c, error;
  {
    RecordStore store(dir);
    for (auto [job, path] : {std::pair{JobId{1}, &a}, {JobId{2}, &b}, {JobId{3}, &c}}) {
      int fd = store.create(record_header_line(header(job)), *path, error);
      ASSERT_GE(fd, 3) << error;
      ::close(fd);
    }
    store.free(b);
  }
  write_text(c, "R {\"job\":3,\"attem");  // cut short while the header was written
  write_text(dir + "/stray.tmp", "x");    // not a record
  RecordStore store(dir);
  auto found = store.load();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, a);
  EXPECT_EQ(found[0].record.header->key, (AttemptKey{1, 1}));
  EXPECT_EQ(store.spares(), 2u);
  EXPECT_FALSE(fs::exists(dir + "/stray.tmp"));
  // New files do not take the name of an existing one.
  std::string path;
  for (int i = 0; i < 3; ++i) {
    int fd = store.create(record_header_line(header(10 + i)), path, error);
    ASSERT_GE(fd, 3) << error;
    ::close(fd);
    EXPECT_NE(path, a);
  }
  EXPECT_EQ(files_in(dir), 4u);
  EXPECT_EQ(parse_attempt_record(store.read(a)).header->key, (AttemptKey{1, 1}));
}

TEST(RecordStore, SparesAreBounded) {
  ScratchDir base;
  RecordStore store(base / "attempts");
  std::vector<std::string> paths;
  std::string error;
  for (std::size_t i = 0; i < RecordStore::kMaxSpares + 10; ++i) {
    std::string path;
    int fd = store.create(record_header_line(header(i + 1)), path, error);
    ASSERT_GE(fd, 3) << error;
    ::close(fd);
    paths.push_back(path);
  }
  for (const auto& p : paths) store.free(p);
  EXPECT_EQ(store.spares(), RecordStore::kMaxSpares);
  EXPECT_EQ(files_in(base / "attempts"), RecordStore::kMaxSpares);
}

TEST(RecordStore, AnUnusableDirectoryIsAnError) {
  ScratchDir base;
  write_text(base / "attempts", "a file where the directory should be");
  RecordStore store(base / "attempts");
  std::string path, error;
  EXPECT_EQ(store.create(record_header_line(header(1)), path, error), -1);
  EXPECT_NE(error.find("cannot write the attempt record " + (base / "attempts")), std::string::npos)
      << error;
  EXPECT_TRUE(store.load().empty());
}

}  // namespace
}  // namespace zs
