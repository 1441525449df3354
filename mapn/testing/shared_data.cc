#include "mapn/testing/shared_data.h"

#include <sys/stat.h>

#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mapn::testing {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

absl::StatusOr<std::string> SharedDataDir() {
  std::vector<std::string> candidates;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(absl::StrCat(srcdir, "/shared_data/real"));
    candidates.push_back(absl::StrCat(srcdir, "/mapn/external/shared_data/real"));
  }
  if (const char* shared = std::getenv("MAPN_SHARED_DIR")) {
    candidates.push_back(absl::StrCat(shared, "/data/real"));
  }
  for (const std::string& dir : candidates) {
    if (IsDirectory(dir) && IsDirectory(dir + "/mv-extractor")) return dir;
  }
  return absl::NotFoundError(
      "real test clips not found: ../shared/data/real (beside the checkout) "
      "or $MAPN_SHARED_DIR/data/real is absent; these files come from other "
      "projects and are not part of this repository (DEVELOPERS.md)");
}

}  // namespace mapn::testing
