// File: distill_data.h
//
// What distillation learns from: the GOP windows of a folder of unlabelled
// videos, cropped around the person as `mapn estimate` crops them (one box
// per window, BoxSource), with the teacher's answer for every frame: the
// stride-4 features of per-frame MoveNet's encoder, from which its head
// gives the target maps. The student (a MoveNet composition: the encoder on
// the frames its gate picks, the ConvLSTM warped by the motion vectors in
// between, the same head) never needs the encoder while its ConvLSTM and gate
// train: keyframe inputs are the cached features too.
//
// Teacher cache. Running the teacher costs far more than a training step
// reads, so each video's windows (features, motion vectors and residuals of
// the crops, as float16; the frames themselves only when the encoder is to
// be fine-tuned) are written to one file in `cache_dir`, atomically, and
// read back by later runs. A file is used only when its key matches: the
// teacher's weights (a hash of every tensor), the video (path, size, mtime)
// and every option that shapes the windows (crop size, window length, the
// box source, ...); anything else rebuilds it. About 0.5 MB a frame at 192 x
// 192 (0.6 MB with frames).
//
// Videos the reader refuses (other codecs, B-frames) are transcoded first
// (video/transcode.h), into `cache_dir` too; a video that cannot be read at
// all is left out and listed; a folder where no video can be read is an
// error listing why for each.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Teacher teacher, Teacher::Pretrained("lightning"));
//   MAPN_ASSIGN_OR_RETURN(std::vector<BatchVideo> videos,
//                         ListVideoDirectory("clips/"));
//   DistillDataOptions options;
//   options.cache_dir = "/tmp/teacher";
//   MAPN_ASSIGN_OR_RETURN(
//       DistillData data,
//       DistillData::Build(videos, teacher, BoxSource::WholeFrame(),
//                          "whole frame", options));
//   std::vector<int64_t> ids = {0, 3};
//   MAPN_ASSIGN_OR_RETURN(DistillBatch batch, data.Batch(ids));
#ifndef MAPN_DISTILL_DISTILL_DATA_H_
#define MAPN_DISTILL_DISTILL_DATA_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/estimate/batch.h"
#include "mapn/estimate/box_source.h"
#include "mapn/movenet/movenet.h"
#include "mapn/video/gop.h"

namespace mapn::distill {

// Per-frame MoveNet: the encoder whose features the student's ConvLSTM
// learns to carry, and the head that turns them into the target maps.
struct Teacher {
  movenet::MoveNetEncoder encoder{nullptr};
  movenet::MoveNetHead head{nullptr};
  // "<variant>-<FNV-1a of every weight>": what the cache is keyed by.
  std::string key;

  // The pretrained model of `variant` from the model cache (NotFound naming
  // tools/setup.sh when it is not there).
  static absl::StatusOr<Teacher> Pretrained(const std::string& variant);
  // Any encoder and head of the same variant (tests use random weights).
  static absl::StatusOr<Teacher> FromModules(movenet::MoveNetEncoder encoder,
                                             movenet::MoveNetHead head);

  const std::string& variant() const { return encoder->options().variant; }
  int64_t input_size() const { return encoder->options().input_size(); }
  // The joints of its head: COCO's 17.
  int64_t joints() const { return movenet::kNumKeypoints; }
};

struct DistillDataOptions {
  // Frames per window (a longer GOP continues in the next window).
  int64_t window_length = 12;
  // Windows kept per video at most, evenly spread over it (0: all).
  int64_t max_windows_per_video = 0;
  // Keep the cropped frames (uint8) too: needed when the encoder is
  // fine-tuned (stage 4 with the encoder trained).
  bool keep_frames = false;
  // Required: where the teacher's outputs (and transcoded videos) go.
  std::string cache_dir;
  bool quiet = false;  // no progress lines on stderr
};

absl::Status ValidateDistillDataOptions(const DistillDataOptions& options);

// One video's part.
struct DistillVideo {
  std::string name;               // as listed
  std::string path;               // what was read (a transcoded copy for some)
  int64_t frames = 0;             // decoded
  int64_t windows = 0;            // kept (with a person)
  int64_t frames_in_windows = 0;  // valid frames of the kept windows
  int64_t windows_without_person = 0;
  bool from_cache = false;
};

// One window: float16 and uint8 tensors as they are kept in memory.
struct DistillWindow {
  int video = 0;             // index into videos()
  int64_t window_index = 0;  // in its stream
  int64_t num_valid = 0;
  at::Tensor features;  // half [T, C, f, f]: the teacher's encoder
  at::Tensor motion;    // half [T, 2, S, S], pixels of the crop
  at::Tensor residual;  // half [T, 3, S, S], grey levels / 255
  at::Tensor rgb;       // uint8 [T, 3, S, S] with keep_frames, else undefined
  at::Tensor valid;     // bool [T]
};

// Windows made ready for a model.
struct DistillBatch {
  // rgb float [B, T, 3, S, S] in [0, 1] (zeros without keep_frames), motion,
  // residual, valid, as the pipeline takes them.
  GopBatch inputs;
  at::Tensor features;  // float [B, T, C, f, f]: the teacher's encoder
  std::vector<int64_t> ids;
};

class DistillData {
 public:
  // Reads every video of `videos`, crops each window with `boxes` (whose
  // `boxes_key` names it in the cache key: "whole frame", "multipose 0.5
  // 0.3"), and runs the teacher, or reads all of this from the cache.
  static absl::StatusOr<DistillData> Build(
      const std::vector<BatchVideo>& videos, const Teacher& teacher,
      const BoxSource& boxes, const std::string& boxes_key,
      const DistillDataOptions& options);

  int64_t size() const { return static_cast<int64_t>(windows_.size()); }
  const DistillWindow& window(int64_t id) const { return windows_[id]; }
  const std::vector<DistillVideo>& videos() const { return videos_; }
  // Videos listed but not read, each "name: why".
  const std::vector<std::string>& skipped() const { return skipped_; }
  int64_t input_size() const { return input_size_; }
  int64_t valid_frames() const;
  bool has_frames() const { return options_.keep_frames; }
  // What the data is, for a training state's recipe: the teacher's key and
  // each video's name, stamp and window count.
  const std::string& key() const { return key_; }

  // The windows `ids` (any order, repeats allowed) as float tensors.
  absl::StatusOr<DistillBatch> Batch(std::span<const int64_t> ids) const;

 private:
  DistillData() = default;
  DistillDataOptions options_;
  int64_t input_size_ = 0;
  std::vector<DistillVideo> videos_;
  std::vector<DistillWindow> windows_;
  std::vector<std::string> skipped_;
  std::string key_;
};

}  // namespace mapn::distill

#endif  // MAPN_DISTILL_DISTILL_DATA_H_
