// Sets up every process that uses LibTorch, at start-up: the size of its
// intra-op thread pool, and how glibc gives large tensors their memory.
//
// Threads: Debian's LibTorch 1.13 runs on a single thread unless told
// otherwise, which halves CPU throughput on a 2-core machine.
// MAPN_NUM_THREADS overrides the detected count (useful for reproducible
// training runs, whose results depend on the thread count).
//
// Memory: glibc serves every allocation above its mmap threshold (at most
// 32 MB) with a fresh mmap and returns it with munmap on free, so a tensor
// that size allocated again every step (a batch of activations, a window's
// features) page-faults all its pages in again every time. On the virtual
// machines this project runs on a page fault costs enough that it dominated:
// a 3 x 3 depthwise convolution of a 4 x 144 x 128 x 128 tensor took 183 ms
// instead of 5 ms, and a small stage-1 training run took 12.5 s instead of
// 6.5 s with the same weights. So large blocks come from the heap like small
// ones and freed memory stays with the process for the next allocation
// (M_MMAP_MAX 0, M_TRIM_THRESHOLD 2 GB): the process keeps its peak memory
// instead. MAPN_MALLOC_DEFAULT=1 leaves glibc's defaults.
//
// This file is linked (alwayslink) into every binary that depends on
// //third_party:torch, so no main() has to remember it.
#include <ATen/Parallel.h>
#include <malloc.h>
#include <sched.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <thread>

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

void KeepLargeBlocksInTheHeap() {
  const char* env = std::getenv("MAPN_MALLOC_DEFAULT");
  if (env != nullptr && std::string(env) == "1") return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

const bool kProcessConfigured = [] {
  KeepLargeBlocksInTheHeap();
  at::set_num_threads(HardwareThreads());
  return true;
}();

}  // namespace
