#include "mapn/testing/test_data.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/penn_action.h"
#include "mapn/data/synthpose.h"
#include "mapn/video/test_clips.h"

namespace mapn::testing {

void DotPosition(const DotsSpec& spec, int t, int j, float* x, float* y) {
  // Five columns 24 px apart, three rows 32 px apart, centred.
  const float x0 = 0.5f * spec.width - 48.0f;
  const float y0 = 0.5f * spec.height - 36.0f;
  *x = x0 + 24.0f * static_cast<float>(j % 5) +
       spec.speed * static_cast<float>(t);
  *y = y0 + 32.0f * static_cast<float>(j / 5) +
       spec.speed_y * static_cast<float>(t);
}

absl::StatusOr<PoseDataset> MakeDotsDataset(const std::string& dir,
                                            const DotsSpec& spec) {
  std::filesystem::create_directories(dir);
  const JointSet& joints = PennActionJoints();
  const int n = joints.num_joints();
  at::Tensor frames =
      at::full({spec.frames, 3, spec.height, spec.width}, 40, at::kByte);
  auto px = frames.accessor<uint8_t, 4>();
  PoseSequence seq;
  seq.dataset = "penn_action";
  seq.id = "dots";
  seq.width = spec.width;
  seq.height = spec.height;
  seq.num_frames = spec.frames;
  seq.num_joints = n;
  for (int t = 0; t < spec.frames; ++t) {
    for (int j = 0; j < n; ++j) {
      float x, y;
      DotPosition(spec, t, j, &x, &y);
      seq.joints.push_back(x);
      seq.joints.push_back(y);
      seq.visible.push_back(1);
      // Green head, red left joints (odd), blue right joints (even > 0).
      const int channel = j == 0 ? 1 : (j % 2 == 1 ? 0 : 2);
      for (int yy = 0; yy < spec.height; ++yy) {
        for (int xx = 0; xx < spec.width; ++xx) {
          const float dx = static_cast<float>(xx) - x;
          const float dy = static_cast<float>(yy) - y;
          if (dx * dx + dy * dy <= spec.radius * spec.radius) {
            for (int c = 0; c < 3; ++c)
              px[t][c][yy][xx] = c == channel ? 230 : 30;
          }
        }
      }
    }
    // The joints' extent (joint 0 top-left, joint 4 ends the first row,
    // joint 12 is on the last row) plus the discs and a margin.
    float x1, y1, x2, y2, unused;
    DotPosition(spec, t, 0, &x1, &y1);
    DotPosition(spec, t, 4, &x2, &unused);
    DotPosition(spec, t, 12, &unused, &y2);
    seq.boxes.push_back(Box{x1 - 10, y1 - 10, x2 + 11, y2 + 11});
  }
  seq.cached_video = dir + "/dots.mp4";
  MAPN_RETURN_IF_ERROR(mapn::testing::WriteClip(seq.cached_video, frames,
                                                mapn::testing::Mpeg4Options()));
  PoseDataset dataset;
  dataset.name = "penn_action";
  dataset.root = dir;
  dataset.joints = joints;
  dataset.sequences.push_back(std::move(seq));
  return dataset;
}

absl::StatusOr<PoseDataset> MakeTinySynthPose(const std::string& dir, int clips,
                                              uint64_t seed) {
  SynthPoseOptions options;
  options.seed = seed;
  options.num_clips = clips;
  options.width = 128;
  options.height = 96;
  options.min_frames = 24;
  options.max_frames = 30;
  options.jpeg_quality = 8;
  MAPN_RETURN_IF_ERROR(GenerateSynthPose(options, dir));
  return LoadPennAction(dir);
}

std::vector<std::string> TinyModelSettings(int64_t joints) {
  return {"input_size=64",           "extractor.width=8",
          "head.width=16",           absl::StrCat("head.out_channels=", joints),
          "policy.conv1_channels=4", "policy.conv2_channels=8",
          "policy.pe_dims=4",        "policy.temporal_channels=8"};
}

absl::StatusOr<model::AnyPipeline> MakeTinyModel(
    const std::string& name, int64_t joints,
    const model::CompositionTable& table) {
  MAPN_ASSIGN_OR_RETURN(const model::CompositionEntry* entry, table.Get(name));
  MAPN_ASSIGN_OR_RETURN(
      model::PipelineOptionValues values,
      model::SettingsFor(entry->defaults, TinyModelSettings(joints)));
  return entry->create(values, "MakeTinyModel");
}

}  // namespace mapn::testing
