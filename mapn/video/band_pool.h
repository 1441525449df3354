// File: band_pool.h
//
// Runs the bands of one frame (colour conversion, motion field, residual)
// on a few threads. It replaces at::parallel_for because Debian's LibTorch
// parallelises with OpenMP, whose idle workers spin after every parallel
// region: measured on a 2-core machine, the spinning took 30 % of the CPU
// that FFmpeg's decoder threads needed, and made the reader slower than
// with no parallelism at all. These workers sleep on a condition variable
// between frames. One process-wide pool serves every reader; a caller that
// finds it busy (another reader on another thread) runs its bands itself.
//
// Example:
//
//   BandPool::Default().Run(bands, [&](int64_t begin, int64_t end) {
//     ConvertRows(begin, end);
//   });
#ifndef MAPN_VIDEO_BAND_POOL_H_
#define MAPN_VIDEO_BAND_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mapn {

class BandPool {
 public:
  // `threads` workers besides the caller (0: everything on the caller).
  explicit BandPool(int threads);
  ~BandPool();
  BandPool(const BandPool&) = delete;
  BandPool& operator=(const BandPool&) = delete;

  // The shared pool: one worker less than the CPUs this process may use
  // (MAPN_NUM_THREADS overrides the count, as for LibTorch).
  static BandPool& Default();

  // Calls fn(begin, end) over disjoint chunks covering [0, n), in parallel
  // with the caller taking part, and returns when all are done.
  void Run(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  void Work();
  // Takes chunks of the current job until none are left.
  void Drain();

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one job at a time
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, next_ = 0, chunk_ = 1, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_BAND_POOL_H_
