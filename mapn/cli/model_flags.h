// File: model_flags.h
//
// Model options on the command line. Every component option can be set by
// its path with --set ROLE.NAME=VALUE (comma-separated for several:
// --set extractor.depth=34,propagator.kernel=1), and the common ones have
// shorthand flags of their own (--backbone_depth sets extractor.depth). A
// shorthand that names a field the chosen composition does not have is an
// error that says so, rather than a silently ignored flag.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(
//       std::vector<std::string> settings,
//       ModelSettings(entry, absl::GetFlag(FLAGS_set),
//                     {{"backbone_depth", "extractor.depth", "34"}}));
#ifndef MAPN_CLI_MODEL_FLAGS_H_
#define MAPN_CLI_MODEL_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/model/composition.h"

namespace mapn::cli {

// A shorthand flag for one option; `value` empty when it was not given.
struct OptionShorthand {
  std::string flag;  // "backbone_depth"
  std::string path;  // "extractor.depth"
  std::string value;
};

// The option assignments of `set` (each "ROLE.NAME=VALUE" or
// "input_size=VALUE") and of the shorthands that were given. With `entry`,
// a given shorthand whose field the composition lacks is InvalidArgument
// naming the flag, the field and the composition; without (the composition
// is read from a checkpoint later), they are passed on unchecked.
absl::StatusOr<std::vector<std::string>> ModelSettings(
    const model::CompositionEntry* entry, const std::vector<std::string>& set,
    const std::vector<OptionShorthand>& shorthands);

}  // namespace mapn::cli

#endif  // MAPN_CLI_MODEL_FLAGS_H_
