// Every binary that links //third_party:torch sizes LibTorch's thread pool
// from the CPUs it may use, instead of Debian's default of one thread.
#include <sched.h>

#include <cstdlib>

#include <ATen/Parallel.h>

#include "gtest/gtest.h"

namespace {

TEST(TorchThreadsTest, ThreadCountFollowsAffinityOrOverride) {
  int expected = 0;
  if (const char* env = std::getenv("MAPN_NUM_THREADS")) expected = std::atoi(env);
  if (expected <= 0) {
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    expected = CPU_COUNT(&set);
  }
  EXPECT_EQ(at::get_num_threads(), expected);
}

}  // namespace
