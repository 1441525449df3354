#include "mapn/core/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace mapn {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

int CountEntries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  ::closedir(d);
  return n;
}

TEST(AtomicFileTest, WritesAndReadsBack) {
  const std::string path = TempDir() + "/out.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "hello").ok());
  absl::StatusOr<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello");
}

TEST(AtomicFileTest, CommittedFileHasUmaskPermissionsNotMkstemps) {
  const std::string path = TempDir() + "/mode.txt";
  const mode_t old = ::umask(022);
  ASSERT_TRUE(WriteFileAtomically(path, "x").ok());
  ::umask(old);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFileTest, UncommittedWriteLeavesTargetUntouchedAndNoTempFile) {
  const std::string dir = TempDir() + "/uncommitted";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const std::string path = dir + "/keep.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "original").ok());
  {
    absl::StatusOr<AtomicFile> file = AtomicFile::Create(path);
    ASSERT_TRUE(file.ok());
    FILE* f = std::fopen(file->temp_path().c_str(), "w");
    std::fputs("half-written", f);
    std::fclose(f);
    // Dropped without Commit(), as on an error path.
  }
  EXPECT_EQ(*ReadFile(path), "original");
  EXPECT_EQ(CountEntries(dir), 1);
}

TEST(AtomicFileTest, MissingDirectoryIsNotFoundAndNamesThePath) {
  const absl::Status status =
      WriteFileAtomically(TempDir() + "/no/such/dir/x.json", "{}");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("no/such/dir"), std::string::npos);
}

TEST(AtomicFileTest, DirectoryTargetIsRejected) {
  const absl::Status status = WriteFileAtomically(TempDir(), "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(AtomicFileTest, UnwritableDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) {
    // root may write anywhere; use a path under /proc instead, which nobody can.
    const absl::Status status = WriteFileAtomically("/proc/mapn.json", "x");
    EXPECT_FALSE(status.ok());
    return;
  }
  const std::string dir = TempDir() + "/readonly";
  ASSERT_EQ(::mkdir(dir.c_str(), 0555), 0);
  const absl::Status status = WriteFileAtomically(dir + "/x.json", "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
}

TEST(AtomicFileTest, CheckWritableLeavesNothingBehind) {
  const std::string dir = TempDir() + "/check";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  EXPECT_TRUE(CheckWritable(dir + "/out.json").ok());
  EXPECT_EQ(CountEntries(dir), 0);
  EXPECT_EQ(CheckWritable(dir + "/missing/out.json").code(),
            absl::StatusCode::kNotFound);
}

TEST(AtomicFileTest, ReadMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(TempDir() + "/absent").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mapn
