// File: progress.h
//
// A one-line progress bar on stderr for long jobs over video: frames done,
// frames per second and the time left, redrawn at most five times a second.
// It draws only when stderr is a terminal (so logs and pipes stay clean)
// unless forced.
//
// Example:
//
//   ProgressBar bar("estimate", total_frames, StderrIsTerminal());
//   for (...) bar.Update(frames_done);
//   bar.Finish();
#ifndef MAPN_ESTIMATE_PROGRESS_H_
#define MAPN_ESTIMATE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace mapn {

bool StderrIsTerminal();

class ProgressBar {
 public:
  // `total` may be 0 when unknown (no bar, no ETA). `out` defaults to stderr.
  ProgressBar(std::string label, int64_t total, bool enabled,
              std::FILE* out = stderr);

  void Update(int64_t done);
  // Draws the final state and ends the line.
  void Finish();

  // The text of the line for `done` frames after `seconds` (for tests).
  std::string Line(int64_t done, double seconds) const;

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  std::FILE* out_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_PROGRESS_H_
