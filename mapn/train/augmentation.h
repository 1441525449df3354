// File: augmentation.h
//
// The training augmentation of the Simple Baseline, drawn once per window
// and applied as one affine map to every frame, motion field and residual
// of the window (so the motion vectors stay consistent with the frames):
// scale, rotation about the crop's centre, horizontal flip. The map is
// "output pixel -> crop pixel"; composed after BoxToSquare (crop pixel ->
// source pixel) it gives ResampleWindow's output -> source map.
//
// Draws (Simple Baseline's sampling, bounded to the stated ranges):
//   scale    = clamp(1 + scale_factor * N(0, 1), 1 - f, 1 + f); > 1 shows
//              more context (the person smaller)
//   rotation = clamp(rotation_degrees * N(0, 1), -r, r) with probability
//              rotation_probability, else 0
//   flip     with probability flip_probability; the caller swaps left and
//              right joints (JointSet::FlipPermutation)
// Every draw comes from a SplitMix64 stream seeded by the caller (mapn's
// trainer uses (seed, stage, epoch, window)), never from a global
// generator, so a resumed run draws exactly what an uninterrupted one does.
//
// Example:
//
//   AugmentDraw draw = DrawAugmentation(options, MixSeed(seed, window));
//   Affine2D output_to_source =
//       BoxToSquare(box, 256).Compose(AugmentationAffine(draw, 256));
#ifndef MAPN_TRAIN_AUGMENTATION_H_
#define MAPN_TRAIN_AUGMENTATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "mapn/video/resample.h"

namespace mapn::train {

struct AugmentOptions {
  double scale_factor = 0.25;      // +- fraction of the crop side
  double rotation_degrees = 30.0;  // +- degrees
  double rotation_probability = 0.6;
  double flip_probability = 0.5;
};

// No augmentation at all (evaluation, and tests of the plain crop).
inline AugmentOptions NoAugmentation() { return {0, 0, 0, 0}; }

// Ranges: scale_factor in [0, 1), rotation_degrees in [0, 180], the
// probabilities in [0, 1]; the message names the field.
absl::Status ValidateAugmentOptions(const AugmentOptions& options);

struct AugmentDraw {
  double scale = 1.0;
  double rotation_radians = 0.0;  // counter-clockwise on screen
  bool flip = false;
};

// One draw from the stream `seed`.
AugmentDraw DrawAugmentation(const AugmentOptions& options, uint64_t seed);

// Output pixel -> crop pixel for an S x S crop (pixel centres at integers):
// flip the output horizontally, then rotate and scale about the centre
// ((S - 1) / 2, (S - 1) / 2).
Affine2D AugmentationAffine(const AugmentDraw& draw, int size);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_AUGMENTATION_H_
