// File: test_helpers.h
//
// What the experiments' tests share (testonly): a folder in the test's
// temporary directory, the smoke-scale options every end-to-end case runs
// with (one work directory per test binary, as the binaries share one),
// substring checks, and an evaluated row with made-up numbers for the
// table and averaging code.
//
// Example:
//
//   absl::StatusOr<Experiment> exp = Experiment::Create("t", SmokeOptions());
//   const train::EvalResult row = FakeRow("e mapn", 91.25, 27.5);
//   EXPECT_TRUE(Has(FormatComparisonTable(table), "91.2"));
#ifndef MAPN_EXPERIMENTS_HARNESS_TEST_HELPERS_H_
#define MAPN_EXPERIMENTS_HARNESS_TEST_HELPERS_H_

#include <cstdint>
#include <cstdlib>
#include <string>

#include "experiments/harness/experiment.h"
#include "mapn/train/evaluate.h"

namespace mapn::experiments {

inline bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// $TEST_TMPDIR/name (/tmp/name outside Bazel).
inline std::string TestDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

inline ExperimentOptions SmokeOptions() {
  ExperimentOptions options;
  options.scale = "smoke";
  options.work_dir = TestDir("work");
  options.quiet = true;
  return options;
}

// Every group's PCK `mean`, 100 frames of which `keyframes` % keyframes,
// half a GMAC per frame against one for the baseline.
inline train::EvalResult FakeRow(const std::string& label, double mean,
                                 double keyframes) {
  train::EvalResult r;
  r.label = label;
  r.pck.label = label;
  r.pck.joint_set = "penn_action";
  r.pck.group_names = {"Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank."};
  r.pck.groups = {mean, mean, mean, mean, mean, mean, mean};
  r.pck.mean = mean;
  r.pck.joint_names = {"head"};
  r.pck.joint_hits = {9};
  r.pck.joint_counts = {10};
  r.frames = 100;
  r.keyframes = static_cast<int64_t>(keyframes);
  r.keyframe_percent = keyframes;
  r.macs_per_frame = {0.5 * (1 << 30), 1.0 * (1 << 30)};
  r.true_macs_ratio = 0.25;
  r.model_fps = 100;
  return r;
}

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_TEST_HELPERS_H_
