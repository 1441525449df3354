#include "mapn/estimate/default_model.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mapn {
namespace {

constexpr char kRunfilesSubdir[] = "mapn/mapn/estimate/models";

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ExecutablePath() {
  std::vector<char> buffer(4096);
  const ssize_t n =
      ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0) return "";
  return std::string(buffer.data(), static_cast<size_t>(n));
}

}  // namespace

absl::StatusOr<std::string> DefaultCheckpointPath(bool causal) {
  return BundledCheckpointPath(causal ? kDefaultCausalCheckpoint
                                      : kDefaultCheckpoint);
}

absl::StatusOr<std::string> BundledCheckpointPath(const std::string& name) {
  std::vector<std::string> folders;
  if (const char* dir = std::getenv("MAPN_MODEL_DIR")) folders.push_back(dir);
  if (const char* runfiles = std::getenv("RUNFILES_DIR")) {
    folders.push_back(absl::StrCat(runfiles, "/", kRunfilesSubdir));
  }
  const std::string exe = ExecutablePath();
  if (!exe.empty()) {
    folders.push_back(absl::StrCat(exe, ".runfiles/", kRunfilesSubdir));
  }
  for (const std::string& folder : folders) {
    const std::string path = absl::StrCat(folder, "/", name);
    if (IsFile(path)) return path;
  }
  return absl::NotFoundError(absl::StrCat(
      "the bundled model ", name, " was not found (looked in ",
      folders.empty() ? "no folder" : absl::StrJoin(folders, ", "),
      "); run mapn through `bazel run //:mapn` or from bazel-bin, set "
      "MAPN_MODEL_DIR, or pass --checkpoint"));
}

}  // namespace mapn
