// The `mapn` command-line tool: one binary, one subcommand per job, with
// the compositions of model::DefaultCompositions().
//
// Adding a subcommand (say `estimate`):
//   1. Write mapn/cli/estimate_command.cc with its ABSL_FLAGs, a run
//      function and `const Subcommand kEstimateCommand = {..., __FILE__,
//      ...}` (copy transcode_command.cc); its flags are the ones defined in
//      that file, and `mapn estimate --help` lists exactly those.
//   2. Add the file to the srcs of //mapn/cli:commands.
//   3. Add it to AllCommands() in context.cc.
#include "mapn/cli/context.h"
#include "mapn/model/compositions.h"

int main(int argc, char** argv) {
  return mapn::cli::RunMain(
      mapn::cli::AllCommands(),
      mapn::cli::ContextFor(mapn::model::DefaultCompositions()), argc, argv);
}
