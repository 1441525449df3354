#include "mapn/testing/shared_data.h"

#include <sys/stat.h>

#include "gtest/gtest.h"

namespace mapn::testing {
namespace {

TEST(SharedDataTest, FindsTheRealClipsWhenPresent) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  struct stat st;
  EXPECT_EQ(::stat((dir + "/SOURCES.md").c_str(), &st), 0) << dir;
  EXPECT_EQ(::stat((dir + "/mv-extractor/vid_h264.mp4").c_str(), &st), 0);
}

}  // namespace
}  // namespace mapn::testing
