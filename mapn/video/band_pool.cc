#include "mapn/video/band_pool.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>

namespace mapn {
namespace {

int UsableCpus() {
  if (const char* env = std::getenv("MAPN_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

BandPool::BandPool(int threads) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

BandPool::~BandPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

BandPool& BandPool::Default() {
  // Never destroyed: readers may run during static destruction.
  static BandPool* pool = new BandPool(std::max(0, UsableCpus() - 1));
  return *pool;
}

void BandPool::Drain() {
  while (true) {
    int64_t begin;
    const std::function<void(int64_t, int64_t)>* fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ >= n_) return;
      begin = next_;
      next_ = std::min(n_, next_ + chunk_);
      ++pending_;
      fn = fn_;
    }
    (*fn)(begin, std::min(n_, begin + chunk_));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0 && next_ >= n_) done_.notify_all();
    }
  }
}

void BandPool::Work() {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    Drain();
  }
}

void BandPool::Run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
  if (workers_.empty() || n == 1 || !run.owns_lock()) {
    fn(0, n);  // no workers, nothing to split, or the pool is busy
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    // A few chunks per thread, so an unlucky slow chunk does not idle the rest.
    chunk_ = std::max<int64_t>(
        1, n / (4 * (static_cast<int64_t>(workers_.size()) + 1)));
    pending_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  Drain();
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return pending_ == 0 && next_ >= n_; });
  fn_ = nullptr;
}

}  // namespace mapn
