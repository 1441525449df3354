// `mapn synth OUT_DIR`: writes a SynthPose dataset (synthetic articulated
// figures with exact labels) in Penn Action's layout, or Sub-JHMDB's, which
// `mapn train`, `mapn eval` and the experiments read like the real datasets.
// docs/data.md describes every knob; the common ones are flags here.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "mapn/cli/subcommand.h"
#include "mapn/data/synthpose.h"

// Defined as synth_<name>, given as --<name> (subcommand.h says why).
ABSL_FLAG(int64_t, synth_seed, 1,
          "Same seed and flags: byte-identical output.");
ABSL_FLAG(int, synth_num_clips, 16, "Clips to write.");
ABSL_FLAG(int, synth_width, 320, "Frame width (even).");
ABSL_FLAG(int, synth_height, 240, "Frame height (even).");
ABSL_FLAG(int, synth_min_frames, 40, "Shortest clip, in frames.");
ABSL_FLAG(int, synth_max_frames, 80, "Longest clip, in frames.");
ABSL_FLAG(double, synth_frame_rate, 30.0, "Frames per second.");
ABSL_FLAG(double, synth_train_fraction, 0.5,
          "Share of clips in the training split.");
ABSL_FLAG(std::string, synth_layout, "penn_action",
          "penn_action (13 joints) or jhmdb (15 joints, three splits).");
ABSL_FLAG(double, synth_fast_fraction, 0.4,
          "Share of fast motion segments (where a gate should ask for fresh "
          "features), 0 to 1.");
ABSL_FLAG(double, synth_camera_pan, 1.2, "Camera pan speed, pixels per frame.");
ABSL_FLAG(double, synth_camera_zoom, 0.12, "Zoom range, 1 +- this.");
ABSL_FLAG(double, synth_lighting_change, 0.25, "Brightness range, 1 +- this.");
ABSL_FLAG(double, synth_noise_sigma, 2.0, "Sensor noise, grey levels.");
ABSL_FLAG(
    bool, synth_videos, true,
    "Also write each clip as MPEG-4 Part 2, GOP 12 (the reader's input).");

namespace mapn::cli {

extern const Subcommand kSynthCommand;  // defined at the end of the file

namespace {

int RunSynth(const std::vector<std::string>& args,
             const CommandContext& /*context*/) {
  const Subcommand& self = kSynthCommand;
  SynthPoseOptions options;
  options.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_synth_seed));
  options.num_clips = absl::GetFlag(FLAGS_synth_num_clips);
  options.width = absl::GetFlag(FLAGS_synth_width);
  options.height = absl::GetFlag(FLAGS_synth_height);
  options.min_frames = absl::GetFlag(FLAGS_synth_min_frames);
  options.max_frames = absl::GetFlag(FLAGS_synth_max_frames);
  options.frame_rate = absl::GetFlag(FLAGS_synth_frame_rate);
  options.train_fraction = absl::GetFlag(FLAGS_synth_train_fraction);
  options.fast_fraction = absl::GetFlag(FLAGS_synth_fast_fraction);
  options.camera_pan = absl::GetFlag(FLAGS_synth_camera_pan);
  options.camera_zoom = absl::GetFlag(FLAGS_synth_camera_zoom);
  options.lighting_change = absl::GetFlag(FLAGS_synth_lighting_change);
  options.noise_sigma = absl::GetFlag(FLAGS_synth_noise_sigma);
  options.write_videos = absl::GetFlag(FLAGS_synth_videos);
  const std::string layout = absl::GetFlag(FLAGS_synth_layout);
  if (layout == "penn_action") {
    options.layout = SynthLayout::kPennAction;
  } else if (layout == "jhmdb") {
    options.layout = SynthLayout::kJhmdb;
    options.joint_set = "jhmdb";
  } else {
    return UsageError(self, absl::StrCat("--layout must be penn_action or "
                                         "jhmdb, not '",
                                         layout, "'"));
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, int>{"--width", options.width},
        {"--height", options.height}}) {
    if (value % 2 != 0 || value < 32 || value > 4096) {
      return UsageError(self, absl::StrCat(flag,
                                           " must be even and within "
                                           "32..4096, not ",
                                           value));
    }
  }
  if (absl::GetFlag(FLAGS_synth_seed) < 0) {
    return UsageError(self, "--seed must be >= 0");
  }
  // The library names the offending knob; on the command line it is a flag.
  const absl::Status valid = ValidateSynthPoseOptions(options);
  if (!valid.ok()) return UsageError(self, std::string(valid.message()));
  const absl::Status status = GenerateSynthPose(options, args[0]);
  if (!status.ok()) return Failure(self.name, std::string(status.message()));
  std::cerr << "wrote " << options.num_clips << " SynthPose clips to "
            << args[0] << "\n";
  return kExitOk;
}

}  // namespace

const Subcommand kSynthCommand = {
    "synth",
    "Writes a SynthPose dataset (synthetic figures with exact labels).",
    "mapn synth OUT_DIR [flags]",
    "Renders articulated figures walking, jumping, swinging their arms and "
    "bending, with slow and fast segments, on moving textured backgrounds "
    "with camera pan and zoom, lighting change and noise, and writes them "
    "with exact joint labels in Penn Action's layout (frames/, labels/*.mat, "
    "mpeg4_gop12/*.mp4) or, with --layout jhmdb, Sub-JHMDB's. mapn train and "
    "mapn eval read it with --dataset synthpose (or jhmdb). Every knob is "
    "described in docs/data.md.",
    __FILE__,
    1,
    1,
    &RunSynth,
};

}  // namespace mapn::cli
