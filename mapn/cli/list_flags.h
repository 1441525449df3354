// File: list_flags.h
//
// Comma-separated numbers on the command line, and one value per training
// stage from them: what `mapn train` and `mapn distill` take for --epochs
// and --lr ("10", or "8,4,2" for three stages).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> epochs,
//                         ParseList<int64_t>("epochs", "8,4,2"));
//   MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> per_stage,
//                         PerStage("epochs", epochs, 3));
#ifndef MAPN_CLI_LIST_FLAGS_H_
#define MAPN_CLI_LIST_FLAGS_H_

#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mapn::cli {

// The numbers of `text` ("1e-3,1e-4"); InvalidArgument naming --`flag` and
// the part that is not a number. Empty text gives no numbers.
template <typename T>
absl::StatusOr<std::vector<T>> ParseList(const std::string& flag,
                                         const std::string& text) {
  std::vector<T> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    T value;
    bool ok;
    if constexpr (std::is_same_v<T, double>) {
      ok = absl::SimpleAtod(part, &value);
    } else {
      ok = absl::SimpleAtoi(part, &value);
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, " has '", std::string(part), "', which is not a number"));
    }
    out.push_back(value);
  }
  return out;
}

// One value per stage from a list of one or `n` values.
template <typename T>
absl::StatusOr<std::vector<T>> PerStage(const std::string& flag,
                                        const std::vector<T>& values,
                                        size_t n) {
  if (values.size() == 1) return std::vector<T>(n, values[0]);
  if (values.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " has ", values.size(), " values for ", n,
                     " stages; give one, or one per stage"));
  }
  return values;
}

}  // namespace mapn::cli

#endif  // MAPN_CLI_LIST_FLAGS_H_
