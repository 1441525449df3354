// File: helper_process.h
//
// A second process that trains part of an experiment's models while this
// one trains the rest: on a 2-core machine two processes of one LibTorch
// thread each train faster than one of two threads (and one of two threads
// faster than one of one). The helper is this experiment's own binary run
// again with the same flags plus --helper_split (the split whose part it
// trains), --threads (its share of the cores) and --quiet; the two share
// the checkpoint cache, whose locks make each skip what the other trained.
// This process runs on the rest of the cores until the helper ends, then
// takes them all back.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(
//       HelperProcess helper,
//       StartHelperProcess(self_command, /*split=*/1, /*threads=*/2, log));
//   ... train this process's part on 1 thread ...
//   MAPN_RETURN_IF_ERROR(helper.Wait());  // 2 threads again
#ifndef MAPN_EXPERIMENTS_HARNESS_HELPER_PROCESS_H_
#define MAPN_EXPERIMENTS_HARNESS_HELPER_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/harness/work_dir.h"

namespace mapn::experiments {

// A running helper, or none. Destroying a running one stops it (and gives
// the cores back).
class HelperProcess {
 public:
  HelperProcess() = default;  // none
  // `threads_after` > 0: this process's LibTorch thread count once the
  // helper has ended (it ran with fewer while the helper shared the cores).
  explicit HelperProcess(int pid, int threads_after = 0)
      : pid_(pid), threads_after_(threads_after) {}
  HelperProcess(HelperProcess&& other) noexcept;
  HelperProcess& operator=(HelperProcess&& other) noexcept;
  ~HelperProcess();

  bool running() const { return pid_ > 0; }
  // Waits for it and gives its cores back to this process; an error saying
  // how it ended when it failed (its models are then trained by whoever
  // asks for them next).
  absl::Status Wait();

 private:
  void RestoreThreads();

  int pid_ = 0;
  int threads_after_ = 0;
};

// Starts `command` (argv[0] an absolute path) with --helper_split=`split`,
// --threads=`threads` / 2 and --quiet appended (the last occurrence of a
// flag wins), and sets this process to the other threads - threads / 2.
// `threads` must be at least 2. Unavailable naming the command when it
// cannot start.
absl::StatusOr<HelperProcess> StartHelperProcess(
    std::vector<std::string> command, int split, int threads,
    const LogFunction& log);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_HELPER_PROCESS_H_
