// Sizes LibTorch's intra-op thread pool from the hardware at start-up.
//
// Debian's LibTorch 1.13 runs on a single thread unless told otherwise, which
// halves CPU throughput on a 2-core machine. This file is linked (alwayslink)
// into every binary that depends on //third_party:torch, so no main() has to
// remember it. MAPN_NUM_THREADS overrides the detected count (useful for
// reproducible training runs, whose results depend on the thread count).
#include <sched.h>

#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

namespace {

int HardwareThreads() {
  if (const char* env = std::getenv("MAPN_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  // The affinity mask is what this process may actually use (containers and
  // taskset narrow it); hardware_concurrency() reports the whole machine.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

const bool kThreadsConfigured = [] {
  at::set_num_threads(HardwareThreads());
  return true;
}();

}  // namespace
