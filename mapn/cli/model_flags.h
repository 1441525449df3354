// File: model_flags.h
//
// Model options on the command line. Every component option can be set by
// its path with --set ROLE.NAME=VALUE (comma-separated for several:
// --set extractor.depth=34,propagator.kernel=1); a path the composition
// does not have is an error naming it. The common options have shorthand
// flags of their own (--backbone_depth sets extractor.depth), written for
// a family of compositions: a script passes the same sizes to every step
// of a training chain, so a shorthand for a component the composition
// lacks (--lstm_kernel for simple_baseline, which has no ConvLSTM) is
// skipped, and the command says so.
//
// Example:
//
//   std::vector<std::string> notes;
//   MAPN_ASSIGN_OR_RETURN(
//       std::vector<std::string> settings,
//       ModelSettings(entry, absl::GetFlag(FLAGS_set),
//                     {{"backbone_depth", "extractor.depth", "34"}}, &notes));
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
// "input_size=VALUE"; a malformed one is InvalidArgument) and of the
// shorthands that were given. With `entry`, a given shorthand whose field
// the composition lacks is left out and a line saying so goes to `notes`;
// without (the composition is read from a checkpoint later), shorthands
// are passed on unchecked.
absl::StatusOr<std::vector<std::string>> ModelSettings(
    const model::CompositionEntry* entry, const std::vector<std::string>& set,
    const std::vector<OptionShorthand>& shorthands,
    std::vector<std::string>* notes = nullptr);

}  // namespace mapn::cli

#endif  // MAPN_CLI_MODEL_FLAGS_H_
