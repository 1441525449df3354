// File: test_data.h
//
// Test-only data for the training and evaluation tests: a "dots" clip whose
// 13 Penn Action joints are coloured discs (green head, red left joints,
// blue right joints) at exactly known positions, a tiny SynthPose set, and a
// tiny model config that trains in milliseconds per step.
//
// Example:
//
//   absl::StatusOr<PoseDataset> dots = MakeDotsDataset(TestPath("dots"));
//   absl::StatusOr<PoseDataset> synth = MakeTinySynthPose(TestPath("synth"),
//   3); Mapn model(TinyConfig());
#ifndef MAPN_TRAIN_TEST_DATA_H_
#define MAPN_TRAIN_TEST_DATA_H_

#include <string>

#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/model/model_config.h"

namespace mapn::train::testing {

struct DotsSpec {
  int width = 160;
  int height = 128;
  int frames = 24;
  float radius = 5.0f;
  float speed = 0.5f;    // pixels per frame, to the right
  float speed_y = 0.3f;  // pixels per frame, down
};

// Writes `dir`/dots.mp4 (MPEG-4, GOP 12) and returns its one-sequence
// dataset (Penn Action joints, all visible, a fixed box around the dots).
absl::StatusOr<PoseDataset> MakeDotsDataset(const std::string& dir,
                                            const DotsSpec& spec = {});

// Where joint j of frame t is in the dots clip.
void DotPosition(const DotsSpec& spec, int t, int j, float* x, float* y);

// `clips` SynthPose clips of 128 x 96 and 24-30 frames under `dir`, loaded.
absl::StatusOr<PoseDataset> MakeTinySynthPose(const std::string& dir, int clips,
                                              uint64_t seed = 3);

// backbone_width 8, head_channels 16, S 64 (16 x 16 heatmaps), small gate.
model::ModelConfig TinyConfig();

}  // namespace mapn::train::testing

#endif  // MAPN_TRAIN_TEST_DATA_H_
