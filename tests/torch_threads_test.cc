// Every binary that links //third_party:torch sizes LibTorch's thread pool
// from the CPUs it may use, instead of Debian's default of one thread, and
// keeps large tensors in the heap instead of fresh mmaps.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <malloc.h>
#include <sched.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace {

TEST(TorchThreadsTest, ThreadCountFollowsAffinityOrOverride) {
  int expected = 0;
  if (const char* env = std::getenv("MAPN_NUM_THREADS"))
    expected = std::atoi(env);
  if (expected <= 0) {
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    expected = CPU_COUNT(&set);
  }
  EXPECT_EQ(at::get_num_threads(), expected);
}

// A 64 MB tensor, far above glibc's mmap threshold, is not an mmapped
// block (mallinfo2's hblks counts those).
TEST(TorchThreadsTest, LargeTensorsComeFromTheHeap) {
  const char* env = std::getenv("MAPN_MALLOC_DEFAULT");
  if (env != nullptr && std::string(env) == "1") GTEST_SKIP();
  const size_t before = mallinfo2().hblks;
  const at::Tensor big = at::ones({16, 1024, 1024});
  EXPECT_EQ(big.sum().item<float>(), 16.0f * 1024 * 1024);
  EXPECT_EQ(mallinfo2().hblks, before);
}

}  // namespace
