// File: data.h
//
// The data of an experiment: SynthPose generated once into the work
// directory from the scale's knobs (data/synthpose-<hash of the knobs>,
// shared by every experiment and process that asks for the same set), or
// a real dataset (Penn Action, Sub-JHMDB) read where it lies; and the
// training and test windows of one split, cropped to the scale's input
// size. A DataSource's key identifies the data in checkpoint cache keys.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(DataSource source,
//                         PrepareData("synthpose", "", scale, work_dir, log));
//   MAPN_ASSIGN_OR_RETURN(SplitData split,
//                         LoadSplit(source, 1, scale, 128, work_dir));
//   // split.train, split.test: train::PoseWindows; split.joints == 13
#ifndef MAPN_EXPERIMENTS_HARNESS_DATA_H_
#define MAPN_EXPERIMENTS_HARNESS_DATA_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/harness/scales.h"
#include "experiments/harness/work_dir.h"
#include "mapn/train/pose_windows.h"

namespace mapn::experiments {

struct DataSource {
  std::string dataset;  // synthpose, penn_action or jhmdb
  std::string root;     // absolute for real datasets
  // Identifies the data in cache keys: SynthPose's knobs, or the dataset
  // and its root.
  std::string key;
  int num_splits = 1;  // 3 for jhmdb (the paper averages them)
};

// Checks the dataset and its root and, for SynthPose (which takes no
// `data_root`), generates the scale's set under `work_dir` unless a
// complete one is there. InvalidArgument naming the flag for a bad dataset
// or root.
absl::StatusOr<DataSource> PrepareData(const std::string& dataset,
                                       const std::string& data_root,
                                       const Scale& scale,
                                       const std::string& work_dir,
                                       const LogFunction& log);

struct SplitData {
  int split = 0;  // 1-based
  train::PoseWindows train;
  train::PoseWindows test;  // streams each file once (no window cache)
  int64_t joints = 0;
  // "SynthPose, scale default: train 55 clips / 3166 frames, test ...".
  std::string description;
};

// The windows of `split` at `input_size`; videos that need an MPEG-4
// conversion get it under work_dir/video_cache. FailedPrecondition when
// either side of the split is empty.
absl::StatusOr<SplitData> LoadSplit(const DataSource& source, int split,
                                    const Scale& scale, int64_t input_size,
                                    const std::string& work_dir);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_DATA_H_
