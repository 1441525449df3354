// The `mapn` command-line tool: one binary, one subcommand per job.
//
// Adding a subcommand (say `estimate`):
//   1. Write mapn/cli/estimate_command.cc with its ABSL_FLAGs, a run
//      function and `const Subcommand kEstimateCommand = {..., __FILE__,
//      ...}` (copy transcode_command.cc); its flags are the ones defined in
//      that file, and `mapn estimate --help` lists exactly those.
//   2. Add the file to the srcs of //mapn/cli:commands.
//   3. Here: declare it below and add it to the list in main().
#include "mapn/cli/subcommand.h"

namespace mapn::cli {
extern const Subcommand kEstimateCommand;
extern const Subcommand kInspectCommand;
extern const Subcommand kSynthCommand;
extern const Subcommand kTranscodeCommand;
extern const Subcommand kTrainCommand;
extern const Subcommand kEvalCommand;
}  // namespace mapn::cli

int main(int argc, char** argv) {
  using namespace mapn::cli;  // NOLINT: the list below reads better
  return RunMain({kEstimateCommand, kInspectCommand, kTranscodeCommand,
                  kSynthCommand, kTrainCommand, kEvalCommand},
                 argc, argv);
}
