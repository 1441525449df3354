#include "mapn/cli/context.h"

namespace mapn::cli {

extern const Subcommand kEstimateCommand;
extern const Subcommand kInspectCommand;
extern const Subcommand kSynthCommand;
extern const Subcommand kTranscodeCommand;
extern const Subcommand kTrainCommand;
extern const Subcommand kEvalCommand;
extern const Subcommand kDistillCommand;

CommandContext ContextFor(const model::CompositionTable& table) {
  return CommandContext{&table, table.Describe(/*indent=*/2)};
}

std::vector<Subcommand> AllCommands() {
  return {kEstimateCommand, kInspectCommand, kTranscodeCommand,
          kSynthCommand,    kTrainCommand,   kDistillCommand,
          kEvalCommand};
}

}  // namespace mapn::cli
