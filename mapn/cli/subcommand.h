// File: subcommand.h
//
// The `mapn` binary's subcommands: what one is (a name, its usage, the flags
// it owns, a run function), and the dispatcher main.cc calls. Flags are
// Abseil flags, but parsed here rather than by absl::ParseCommandLine, so
// that each subcommand accepts and documents only its own flags (those
// defined in its source file), `mapn <subcommand> --help` prints just those,
// and every problem with the command line is one line on stderr with exit
// code 2 (1 is for failures while running).
//
// The compositions that --model names and checkpoints may hold come in a
// CommandContext (context.h), so a program that adds compositions of its
// own gets the whole command line for them: its main() passes its own
// table instead of the default one.
//
// Example (a subcommand in its own file, see inspect_command.cc):
//
//   ABSL_FLAG(int, gop, 12, "Frames per GOP of the output.");
//   int RunTranscode(const std::vector<std::string>& args,
//                    const CommandContext& context) { ... }
//   extern const Subcommand kTranscodeCommand = {
//       "transcode", "Re-encodes a video for the reader.",
//       "mapn transcode INPUT OUTPUT [flags]", "...", __FILE__, 2, 2,
//       &RunTranscode};
#ifndef MAPN_CLI_SUBCOMMAND_H_
#define MAPN_CLI_SUBCOMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::model {
class CompositionTable;
}  // namespace mapn::model

namespace mapn::cli {

// What every subcommand may use besides its flags.
struct CommandContext {
  // The compositions --model chooses from and checkpoints are loaded with.
  const model::CompositionTable* compositions = nullptr;
  // Their list for the help of commands that take a model (one line each).
  std::string compositions_help;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Subcommand {
  const char* name;         // "inspect"
  const char* summary;      // one line, for `mapn --help`
  const char* usage;        // "mapn inspect VIDEO [flags]"
  const char* description;  // a paragraph for `mapn inspect --help`
  // The file whose ABSL_FLAGs belong to this subcommand: pass __FILE__.
  const char* flags_file;
  int min_args;  // positional arguments
  int max_args;
  // Runs with the flags set; returns the exit code.
  int (*run)(const std::vector<std::string>& args,
             const CommandContext& context);
  // Whether its help lists the compositions (it takes --model).
  bool lists_compositions = false;
};

// Sets `command`'s flags from args (everything after the subcommand name)
// and returns the positional arguments. Accepts --flag=value, --flag value,
// --flag / --noflag for booleans, and "--" to end the flags.
// InvalidArgument with a one-line message for anything wrong.
absl::StatusOr<std::vector<std::string>> ParseFlags(
    const Subcommand& command, const std::vector<std::string>& args);

// The text of `mapn <name> --help`: usage, description, the compositions
// (for commands that list them), and the command's flags with their help
// and defaults.
std::string CommandHelp(const Subcommand& command,
                        const CommandContext& context);

// The text of `mapn --help`: every subcommand with its summary.
std::string OverviewHelp(const std::vector<Subcommand>& commands);

// Prints "mapn <name>: <message> (see mapn <name> --help)" on stderr and
// returns kExitUsage; for flag values a command finds invalid.
int UsageError(const Subcommand& command, const std::string& message);

// Prints "mapn <name>: <message>" on stderr and returns kExitFailure.
int Failure(const char* name, const std::string& message);

// The whole of main(): picks the subcommand from argv[1], handles --help,
// parses the flags and runs it with `context`.
int RunMain(const std::vector<Subcommand>& commands,
            const CommandContext& context, int argc, char** argv);

}  // namespace mapn::cli

#endif  // MAPN_CLI_SUBCOMMAND_H_
