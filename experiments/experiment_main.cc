#include "experiments/experiment_main.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/report.h"

ABSL_FLAG(std::string, scale, "default",
          "smoke (seconds; checks the code path), default (each experiment "
          "within 45 minutes on a 2-core machine), large (hours), paper (the "
          "paper's model size; days on a CPU). docs/results.md lists them.");
ABSL_FLAG(std::string, dataset, "synthpose",
          "synthpose (generated into the work directory), penn_action or "
          "jhmdb (Sub-JHMDB, averaged over its 3 splits; both need "
          "--data_root).");
ABSL_FLAG(std::string, data_root, "",
          "Root of the Penn Action or Sub-JHMDB dataset.");
ABSL_FLAG(std::string, work_dir, "",
          "Where data, trained checkpoints (shared by all experiments) and "
          "results go; default $HOME/.cache/mapn/experiments.");
ABSL_FLAG(int, threads, 0,
          "Cores to use (0: MAPN_NUM_THREADS, else every core). Alone, the "
          "experiment runs that many LibTorch threads; while its helper "
          "process trains, each process takes half (docs/results.md). On a "
          "busy machine, 1 (no helper) avoids threads waiting on each other.");
ABSL_FLAG(int64_t, seed, 1,
          "Seed of the initial weights, window order, augmentation and gate "
          "noise (part of every checkpoint's cache key).");
ABSL_FLAG(bool, quiet, false, "No training and evaluation progress lines.");
ABSL_FLAG(bool, helper, true,
          "Let a second process (this binary again) train part of the "
          "models, sharing the checkpoint cache: on 2 cores, 1 thread each "
          "trains faster than one process of 2 threads.");
ABSL_FLAG(int, helper_split, 0,
          "Internal: set by an experiment for its helper process.");

namespace mapn::experiments {

namespace {

// This binary with the arguments it was started with: the command line of
// a helper process.
std::vector<std::string> SelfCommand(int argc, char** argv) {
  std::vector<std::string> command;
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return command;
  command.emplace_back(self, static_cast<size_t>(n));
  for (int i = 1; i < argc; ++i) command.emplace_back(argv[i]);
  return command;
}

}  // namespace

int ExperimentMain(int argc, char** argv,
                   const ExperimentDefinition& definition) {
  const std::string name = definition.name;
  const std::vector<std::string> self = SelfCommand(argc, argv);
  absl::SetProgramUsageMessage(absl::StrCat(
      definition.summary, "\n\nUsage: bazel run //experiments:", name,
      " -- [--scale=default] [--dataset=synthpose|penn_action|jhmdb "
      "--data_root=DIR] [--work_dir=DIR] [--threads=N] [--seed=1]"));
  // absl's --help lists the flags of files named like the program
  // (table1_ablation); every experiment's flags are defined here.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "experiments/experiment_main");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << name << ": unexpected argument '" << rest[1]
              << "' (see --help)\n";
    return 2;
  }
  // `bazel run` starts the binary in its runfiles tree; relative paths on
  // the command line mean the user's directory.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (::chdir(dir) != 0) {
      std::cerr << name << ": cannot enter " << dir << "\n";
      return 1;
    }
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 0) {
    std::cerr << name << ": --threads must be >= 0\n";
    return 2;
  }
  // third_party/torch_threads.cc has already set MAPN_NUM_THREADS or the
  // cores this process may run on.
  if (threads > 0) at::set_num_threads(threads);
  if (absl::GetFlag(FLAGS_seed) < 0) {
    std::cerr << name << ": --seed must be >= 0\n";
    return 2;
  }
  ExperimentOptions options;
  options.scale = absl::GetFlag(FLAGS_scale);
  options.dataset = absl::GetFlag(FLAGS_dataset);
  options.data_root = absl::GetFlag(FLAGS_data_root);
  options.work_dir = absl::GetFlag(FLAGS_work_dir);
  options.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  options.quiet = absl::GetFlag(FLAGS_quiet);
  options.threads = at::get_num_threads();
  options.helper_split = absl::GetFlag(FLAGS_helper_split);
  if (absl::GetFlag(FLAGS_helper) && options.helper_split == 0) {
    options.helper_command = self;
  }

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Experiment> experiment = Experiment::Create(name, options);
  if (!experiment.ok()) {
    std::cerr << name << ": " << experiment.status().message() << "\n";
    return absl::IsInvalidArgument(experiment.status()) ? 2 : 1;
  }
  experiment->Log(absl::StrCat(
      name, ", scale ", options.scale, " (", experiment->scale().description,
      "), ", at::get_num_threads(), " threads, work directory ",
      experiment->options().work_dir));
  absl::StatusOr<ExperimentReport> report = definition.run(*experiment);
  if (!report.ok()) {
    std::cerr << name << ": " << report.status().message() << "\n";
    return 1;
  }
  if (experiment->is_helper()) return 0;  // its models are in the cache
  const int64_t seconds = static_cast<int64_t>(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  experiment->Log(absl::StrCat(name, " finished in ", seconds / 60, " min ",
                               seconds % 60, " s"));
  for (const std::string& file : report->files) {
    std::cout << "wrote " << file << "\n";
  }
  std::cout << "\n" << report->table << std::flush;
  return 0;
}

}  // namespace mapn::experiments
