// File: context.h
//
// The CommandContext (subcommand.h) of a composition table: what main()
// hands every subcommand. mapn's own main() uses the default table; a
// program with compositions of its own builds a table with them and gets
// the whole command line (train, eval, estimate) for them.
//
// Example (the main() of a program with its own composition):
//
//   int main(int argc, char** argv) {
//     static model::CompositionTable table = model::DefaultCompositions();
//     if (!table.Add<MyComposition>().ok()) return 1;
//     return RunMain(AllCommands(), ContextFor(table), argc, argv);
//   }
#ifndef MAPN_CLI_CONTEXT_H_
#define MAPN_CLI_CONTEXT_H_

#include <vector>

#include "mapn/cli/subcommand.h"
#include "mapn/model/composition.h"

namespace mapn::cli {

// `table` must outlive the context.
CommandContext ContextFor(const model::CompositionTable& table);

// Every subcommand of the mapn binary, in the order its help lists them.
std::vector<Subcommand> AllCommands();

}  // namespace mapn::cli

#endif  // MAPN_CLI_CONTEXT_H_
