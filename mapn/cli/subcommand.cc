#include "mapn/cli/subcommand.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"

namespace mapn::cli {
namespace {

// Abseil flag names are global, so two subcommands cannot both define
// --out. A subcommand may therefore name its flag "<command>_out": on its
// command line and in its help it is plain --out. Dashes and underscores
// are interchangeable (--compare-baseline is --compare_baseline).
std::string CommandLineName(const Subcommand& command,
                            const absl::CommandLineFlag& flag) {
  const std::string prefix = absl::StrCat(command.name, "_");
  std::string name(flag.Name());
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return name;
}

absl::CommandLineFlag* FindOwnFlag(const Subcommand& command,
                                   std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  for (const std::string& candidate :
       {absl::StrCat(command.name, "_", name), name}) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(candidate);
    if (flag != nullptr && flag->Filename() == command.flags_file &&
        CommandLineName(command, *flag) == name) {
      return flag;
    }
  }
  return nullptr;
}

std::vector<absl::CommandLineFlag*> FlagsOf(const Subcommand& command) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->Filename() == command.flags_file) flags.push_back(flag);
  }
  std::sort(
      flags.begin(), flags.end(),
      [&](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
        return CommandLineName(command, *a) < CommandLineName(command, *b);
      });
  return flags;
}

absl::Status FlagError(const Subcommand& command, const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat(message, " (see mapn ", command.name, " --help)"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFlags(
    const Subcommand& command, const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(),
                        args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (const size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    absl::CommandLineFlag* flag = FindOwnFlag(command, name);
    if (flag == nullptr && !has_value && name.rfind("no", 0) == 0) {
      absl::CommandLineFlag* negated = FindOwnFlag(command, name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        value = "false";
        has_value = true;
      }
    }
    if (flag == nullptr) {
      return FlagError(command, absl::StrCat("unknown flag --", name));
    }
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return FlagError(command,
                         absl::StrCat("flag --", name, " needs a value"));
      }
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return FlagError(command, absl::StrCat("bad value '", value, "' for --",
                                             name, ": ", error));
    }
  }
  const int n = static_cast<int>(positional.size());
  if (n < command.min_args || n > command.max_args) {
    return FlagError(command, absl::StrCat("expected ", command.usage, ", got ",
                                           n, " argument", n == 1 ? "" : "s"));
  }
  return positional;
}

std::string CommandHelp(const Subcommand& command,
                        const CommandContext& context) {
  std::string out =
      absl::StrCat("Usage: ", command.usage, "\n\n", command.description, "\n");
  if (command.lists_compositions && !context.compositions_help.empty()) {
    absl::StrAppend(&out, "\nModels (--model NAME: its components):\n",
                    context.compositions_help);
  }
  const std::vector<absl::CommandLineFlag*> flags = FlagsOf(command);
  if (!flags.empty()) absl::StrAppend(&out, "\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(
        &out, "  --", CommandLineName(command, *flag), " (default: ",
        flag->DefaultValue().empty() ? "\"\"" : flag->DefaultValue(),
        ")\n      ", flag->Help(), "\n");
  }
  return out;
}

std::string OverviewHelp(const std::vector<Subcommand>& commands) {
  std::string out =
      "mapn: human pose estimation from compressed video.\n\n"
      "Usage: mapn <subcommand> [arguments] [flags]\n\nSubcommands:\n";
  for (const Subcommand& c : commands) {
    absl::StrAppend(
        &out, "  ", c.name,
        std::string(std::max<size_t>(2, 12 - std::string(c.name).size()), ' '),
        c.summary, "\n");
  }
  absl::StrAppend(&out, "\nRun `mapn <subcommand> --help` for its flags.\n");
  return out;
}

int UsageError(const Subcommand& command, const std::string& message) {
  std::cerr << "mapn " << command.name << ": " << message << " (see mapn "
            << command.name << " --help)" << std::endl;
  return kExitUsage;
}

int Failure(const char* name, const std::string& message) {
  std::cerr << "mapn " << name << ": " << message << std::endl;
  return kExitFailure;
}

int RunMain(const std::vector<Subcommand>& commands,
            const CommandContext& context, int argc, char** argv) {
  // `bazel run` starts the binary in its runfiles tree; relative paths on the
  // command line mean the user's directory, which Bazel passes here.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (::chdir(dir) != 0) {
      std::cerr << "mapn: cannot enter " << dir << std::endl;
      return kExitFailure;
    }
  }
  if (argc < 2) {
    std::cerr << OverviewHelp(commands);
    return kExitUsage;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && argc > 2) {
      for (const Subcommand& c : commands) {
        if (argv[2] == std::string(c.name)) {
          std::cout << CommandHelp(c, context);
          return kExitOk;
        }
      }
    }
    std::cout << OverviewHelp(commands);
    return kExitOk;
  }
  const Subcommand* command = nullptr;
  for (const Subcommand& c : commands) {
    if (first == c.name) command = &c;
  }
  if (command == nullptr) {
    std::cerr << "mapn: unknown subcommand '" << first
              << "' (run mapn --help for the list)" << std::endl;
    return kExitUsage;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h" || a == "-help") {
      std::cout << CommandHelp(*command, context);
      return kExitOk;
    }
  }
  absl::StatusOr<std::vector<std::string>> positional =
      ParseFlags(*command, args);
  if (!positional.ok()) {
    std::cerr << "mapn " << command->name << ": "
              << positional.status().message() << std::endl;
    return kExitUsage;
  }
  return command->run(*positional, context);
}

}  // namespace mapn::cli
