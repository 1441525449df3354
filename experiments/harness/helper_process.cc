#include "experiments/harness/helper_process.h"

#include <ATen/Parallel.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mapn::experiments {

HelperProcess::HelperProcess(HelperProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      threads_after_(std::exchange(other.threads_after_, 0)) {}

HelperProcess& HelperProcess::operator=(HelperProcess&& other) noexcept {
  if (this != &other) {
    HelperProcess old(std::move(*this));
    pid_ = std::exchange(other.pid_, 0);
    threads_after_ = std::exchange(other.threads_after_, 0);
  }
  return *this;
}

HelperProcess::~HelperProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    RestoreThreads();
  }
}

void HelperProcess::RestoreThreads() {
  if (threads_after_ > 0) at::set_num_threads(threads_after_);
  threads_after_ = 0;
}

absl::Status HelperProcess::Wait() {
  if (pid_ <= 0) return absl::OkStatus();
  int status = 0;
  const int pid = std::exchange(pid_, 0);
  const pid_t waited = ::waitpid(pid, &status, 0);
  RestoreThreads();
  if (waited != pid) {
    return absl::InternalError(absl::StrCat("cannot wait for helper ", pid));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "helper process ", pid,
      WIFEXITED(status) ? absl::StrCat(" exited with ", WEXITSTATUS(status))
                        : absl::StrCat(" ended by signal ", WTERMSIG(status))));
}

absl::StatusOr<HelperProcess> StartHelperProcess(
    std::vector<std::string> command, int split, int threads,
    const LogFunction& log) {
  if (command.empty() || threads < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a helper needs a command and at least 2 threads, got ", threads));
  }
  const int helper_threads = threads / 2;
  command.push_back(absl::StrCat("--helper_split=", split));
  command.push_back(absl::StrCat("--threads=", helper_threads));
  command.push_back("--quiet");
  std::vector<char*> argv;
  for (std::string& arg : command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error =
      ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot start a helper process '", command[0], "': error ", error));
  }
  at::set_num_threads(threads - helper_threads);
  log(absl::StrCat("helper process ", pid, " trains part of split ", split,
                   "; ", helper_threads, " + ", threads - helper_threads,
                   " threads until it ends"));
  return HelperProcess(pid, threads);
}

}  // namespace mapn::experiments
