// File: test_data.h
//
// Test-only data for the training, evaluation and estimation tests: a
// "dots" clip whose 13 Penn Action joints are coloured discs (green head,
// red left joints, blue right joints) at exactly known positions, a tiny
// SynthPose set, and tiny models of the Simple Baseline's family that train
// in milliseconds per step.
//
// Example:
//
//   absl::StatusOr<PoseDataset> dots = MakeDotsDataset(TestPath("dots"));
//   absl::StatusOr<PoseDataset> synth =
//       MakeTinySynthPose(TestPath("synth"), 3);
//   Mapn model(TinyOptions<Mapn>());
//   absl::StatusOr<model::AnyPipeline> any = MakeTinyModel("iframe_warp");
#ifndef MAPN_TESTING_TEST_DATA_H_
#define MAPN_TESTING_TEST_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/model/options_json.h"
#include "mapn/model/pipeline.h"

namespace mapn::testing {

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

// Option settings (model/options_json.h) of a tiny model: encoder width 8,
// head width 16, 64 x 64 inputs (16 x 16 heatmaps), a small gate, and
// `joints` heatmaps; applied where a composition has the field.
std::vector<std::string> TinyModelSettings(int64_t joints = 13);

// The tiny options of composition C.
template <model::PipelineModel C>
typename C::Options TinyOptions(int64_t joints = 13) {
  const model::PipelineOptionValues values =
      model::SettingsFor(model::ToOptionValues<C>(typename C::Options{}),
                         TinyModelSettings(joints))
          .value();
  return model::FromOptionValues<C>(values, "TinyOptions").value();
}

// The tiny model of the composition called `name` in `table`.
absl::StatusOr<model::AnyPipeline> MakeTinyModel(
    const std::string& name, int64_t joints = 13,
    const model::CompositionTable& table = model::DefaultCompositions());

}  // namespace mapn::testing

#endif  // MAPN_TESTING_TEST_DATA_H_
