// File: shared_data.h
//
// Finds the real clips and labels that other projects published
// (../shared/data/real beside the checkout, see third_party/shared_data.bzl)
// from inside a test. Where they are absent, for example in a user's own
// clone, tests that need them skip with the reason this returns.
//
// Example (the test's BUILD target lists "@shared_data//:real" in `data`):
//
//   TEST(ReaderTest, RealClip) {
//     MAPN_REQUIRE_SHARED_DATA(dir);
//     Open(dir + "/mv-extractor/vid_h264.mp4");
//   }
#ifndef MAPN_TESTING_SHARED_DATA_H_
#define MAPN_TESTING_SHARED_DATA_H_

#include <string>

#include "absl/status/statusor.h"

namespace mapn::testing {

// The runfiles path of shared/data/real (no trailing slash), or NotFound with
// a message that says where it was looked for and how to provide it.
absl::StatusOr<std::string> SharedDataDir();

}  // namespace mapn::testing

// Declares `std::string var` holding SharedDataDir(), or skips the test with
// the reason the data is missing.
#define MAPN_REQUIRE_SHARED_DATA(var)                                   \
  const absl::StatusOr<std::string> var##_or =                          \
      ::mapn::testing::SharedDataDir();                                 \
  if (!var##_or.ok()) GTEST_SKIP() << var##_or.status().message();      \
  const std::string var = *var##_or

#endif  // MAPN_TESTING_SHARED_DATA_H_
