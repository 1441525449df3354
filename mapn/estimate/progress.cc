#include "mapn/estimate/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace mapn {
namespace {

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const int64_t s = static_cast<int64_t>(std::lround(seconds));
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%02d:%02d", s / 60, s % 60);
}

}  // namespace

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled,
                         std::FILE* out)
    : label_(std::move(label)),
      total_(std::max<int64_t>(0, total)),
      enabled_(enabled),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::Line(int64_t done, double seconds) const {
  const double fps = seconds > 0 ? done / seconds : 0;
  if (total_ <= 0) {
    return absl::StrFormat("%s %d frames  %.1f frames/s  %s", label_, done, fps,
                           Duration(seconds));
  }
  const double fraction = std::min(1.0, static_cast<double>(done) / total_);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const double eta = fps > 0 ? (total_ - done) / fps : -1;
  return absl::StrFormat("%s [%s%s] %d/%d  %.1f frames/s  ETA %s", label_,
                         std::string(filled, '#'),
                         std::string(kWidth - filled, '.'), done, total_, fps,
                         Duration(eta));
}

void ProgressBar::Update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(out_, "\r%s\x1b[K", Line(done, seconds).c_str());
  std::fflush(out_);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start_)
                             .count();
  std::fprintf(out_, "\r%s\x1b[K\n", Line(done_, seconds).c_str());
  std::fflush(out_);
}

}  // namespace mapn
