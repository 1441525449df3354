// File: pose_windows.h
//
// A labelled dataset split as model-ready samples: every GOP window of every
// sequence's MPEG-4 video (mapn/data/video_cache.h), cropped with its GOP's
// box (mapn/data/gop_boxes.h) and, for training, augmented, with the joint
// labels carried into the crop's pixels. Training and evaluation both read
// their windows here, so they share one geometry.
//
// Geometry. A window's output -> source map is
//   BoxToSquare(gop_box, S).Compose(AugmentationAffine(draw, S))
// (identity augmentation for evaluation); ResampleWindow applies it to the
// frames, motion vectors and residuals alike. Joints go the other way
// through its inverse, into output pixels (pixel centres at integers), and
// a flipped window takes each joint from its mirror partner
// (JointSet::FlipPermutation), so "left wrist" stays the anatomical left of
// the mirrored person, as in the Simple Baseline. Input pixels become
// heatmap pixels (for the targets) and back (for evaluation) by
// mapn/pose/keypoints.h.
//
// Weights. visible[b, t, j] is 1 where frame t is a real, labelled frame
// and the joint is visible by the dataset's labels (Penn Action's
// visibility; always for Sub-JHMDB); padding frames and joints without
// labels are 0. MakeGaussianTargets additionally zeroes joints whose
// Gaussian misses the heatmap (outside the crop).
//
// Decoding. Create() finds every sequence's windows with a decode-only pass
// (frame types, for the GOP starts the boxes need; about 0.25 ms per
// 320 x 240 frame). Batch() then decodes windows with motion vectors and
// residuals on demand through one open reader (a request for a later window
// of the same sequence continues it; an earlier one reopens the file), and
// keeps decoded windows in a bounded LRU cache (cache_megabytes; a
// 320 x 240 window of 12 frames holds about 5.7 MB). docs/training.md has the
// measured costs behind this choice: decoding with residuals costs about
// 0.2 ms per 320 x 240 frame, cropping it to 128 x 128 about 1 ms, a
// training step far more, so windows are decoded again each epoch unless
// the cache holds them, and the crop itself is never cached (augmentation
// changes it every epoch).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(PoseDataset train,
//                         LoadPennAction(root, {.split = Split::kTrain}));
//   MAPN_ASSIGN_OR_RETURN(PoseWindows windows,
//                         PoseWindows::Create(std::move(train),
//                                             {.input_size = 128}));
//   std::vector<int64_t> ids = {0, 5};
//   MAPN_ASSIGN_OR_RETURN(PoseBatch batch, windows.Batch(ids, draws));
//   // batch.inputs goes to the model, batch.joints / batch.visible to
//   // MakeGaussianTargets after InputToHeatmap.
#ifndef MAPN_TRAIN_POSE_WINDOWS_H_
#define MAPN_TRAIN_POSE_WINDOWS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/gop_boxes.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/train/augmentation.h"
#include "mapn/video/gop.h"
#include "mapn/video/resample.h"

namespace mapn::train {

struct PoseWindowsOptions {
  int input_size = 256;        // S: crops are S x S
  int64_t window_length = 12;  // T
  CropBoxOptions crop = {};    // the GOP box: square, x 1.25
  // Decoded windows kept in memory between requests; 0 keeps none (each
  // request decodes, an in-order pass streams each file once).
  int64_t cache_megabytes = 1024;
  // Where sequences without an MPEG-4 conversion get one (CacheVideos);
  // empty: such sequences are an error.
  std::string video_cache_dir = {};
};

// Checks ranges; the message names the field.
absl::Status ValidatePoseWindowsOptions(const PoseWindowsOptions& options);

// One window of the dataset.
struct WindowInfo {
  int sequence = 0;          // index into dataset().sequences
  int64_t window_index = 0;  // position in its stream
  int64_t num_valid = 0;     // real frames; the rest is padding
  // Frame index (into the sequence's labels) of each of the T frames; -1
  // for padding.
  std::vector<int64_t> frames;
  Box crop_box;  // the box of the window's GOP
};

struct PoseBatch {
  GopBatch inputs;     // [B, T, ...] at S x S
  at::Tensor joints;   // float [B, T, J, 2], (x, y) in input pixels
  at::Tensor visible;  // float [B, T, J], see the file comment
  std::vector<int64_t> window_ids;
  // Output -> source pixels of each window (all its frames share it).
  std::vector<Affine2D> output_to_source;
  std::vector<AugmentDraw> augment;
};

class PoseWindows {
 public:
  struct Stats {
    int64_t windows_decoded = 0;  // decoded with motion and residuals
    int64_t cache_hits = 0;
    int64_t reader_opens = 0;
    double decode_seconds = 0;  // in the reader
    double crop_seconds = 0;    // resampling, batching and labels
  };

  // Indexes every window of `dataset` (a decode-only pass per sequence).
  // Errors name the sequence: no video, a frame count that differs from the
  // labels, a stream that does not start with an I-frame.
  static absl::StatusOr<PoseWindows> Create(
      PoseDataset dataset, const PoseWindowsOptions& options = {});

  PoseWindows(PoseWindows&&) noexcept;
  PoseWindows& operator=(PoseWindows&&) noexcept;
  ~PoseWindows();

  int64_t size() const;  // windows
  const WindowInfo& window(int64_t id) const;
  const PoseDataset& dataset() const;
  const PoseWindowsOptions& options() const;
  int64_t num_joints() const;
  int64_t valid_frames() const;  // real frames over all windows
  const Stats& stats() const;

  // OK when a model of S x S inputs and `joints` outputs can train on or be
  // evaluated on these windows; InvalidArgument naming both sides (and for
  // no windows at all).
  absl::Status CheckFits(int64_t input_size, int64_t joints) const;

  // The windows `ids` (any order, repeats allowed), each with its draw from
  // `augment` (one per id), or none when `augment` is empty.
  absl::StatusOr<PoseBatch> Batch(std::span<const int64_t> ids,
                                  std::span<const AugmentDraw> augment = {});

  // The decoded, uncropped window `id` (from the cache or the reader).
  absl::StatusOr<GopWindow> SourceWindow(int64_t id);

 private:
  struct State;
  explicit PoseWindows(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mapn::train

#endif  // MAPN_TRAIN_POSE_WINDOWS_H_
