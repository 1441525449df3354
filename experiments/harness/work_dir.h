// File: work_dir.h
//
// The plumbing of an experiment's work directory, shared by the data it
// generates there and the checkpoint cache: where the directory is by
// default, creating folders, the file lock that lets two processes (an
// experiment and its helper, or two experiments) share the directory
// without doing the same work twice, the hash that names cached things,
// and the progress line every part of the harness writes.
//
// Example:
//
//   MAPN_RETURN_IF_ERROR(MakeDirs(dir));
//   MAPN_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path + ".lock"));
//   if (!FileExists(path)) { ... write path ... }   // still absent: ours
//   std::string key = HashKey(recipe_json);         // "3f0c9a4e1b2d7c58"
#ifndef MAPN_EXPERIMENTS_HARNESS_WORK_DIR_H_
#define MAPN_EXPERIMENTS_HARNESS_WORK_DIR_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn::experiments {

// Where progress goes: a line on stderr marked with the process's role
// (Experiment::Log).
using LogFunction = std::function<void(const std::string&)>;

// $HOME/.cache/mapn/experiments (or ./mapn-experiments without HOME).
std::string DefaultWorkDir();

// 64-bit FNV-1a of `text` as 16 hex digits (the cache keys).
std::string HashKey(const std::string& text);

bool FileExists(const std::string& path);

// Creates `dir` and its parents; Unavailable naming it otherwise.
absl::Status MakeDirs(const std::string& dir);

// An exclusive flock() on a lock file, held until destruction: whoever
// holds it is the one process producing what the lock guards, and whoever
// waited for it finds the result when it gets it.
class FileLock {
 public:
  // Blocks until the lock is ours.
  static absl::StatusOr<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();  // releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_WORK_DIR_H_
