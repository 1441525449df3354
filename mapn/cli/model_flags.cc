#include "mapn/cli/model_flags.h"

#include "absl/strings/str_cat.h"
#include "mapn/model/options_json.h"

namespace mapn::cli {

absl::StatusOr<std::vector<std::string>> ModelSettings(
    const model::CompositionEntry* entry, const std::vector<std::string>& set,
    const std::vector<OptionShorthand>& shorthands,
    std::vector<std::string>* notes) {
  std::vector<std::string> settings;
  for (const std::string& assignment : set) {
    model::PipelineOptionValues check;
    absl::Status valid = model::ApplyOptionOverride(assignment, check);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set: ", valid.message()));
    }
    settings.push_back(assignment);
  }
  for (const OptionShorthand& s : shorthands) {
    if (s.value.empty()) continue;
    const std::string assignment = absl::StrCat(s.path, "=", s.value);
    if (entry != nullptr) {
      std::vector<std::string> skipped;
      absl::StatusOr<model::PipelineOptionValues> applies =
          model::SettingsFor(entry->defaults, {assignment}, &skipped);
      if (!applies.ok()) return applies.status();
      if (!skipped.empty()) {
        if (notes != nullptr) {
          notes->push_back(absl::StrCat(
              "--", s.flag, " sets ", s.path, ", which ", entry->name,
              " does not have (its components: ", entry->components[0], ", ",
              entry->components[1], ", ", entry->components[2], ", ",
              entry->components[3], "); ignored"));
        }
        continue;
      }
    }
    settings.push_back(assignment);
  }
  return settings;
}

}  // namespace mapn::cli
