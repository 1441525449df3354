#include "mapn/train/augmentation.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "mapn/data/synth_random.h"

namespace mapn::train {

absl::Status ValidateAugmentOptions(const AugmentOptions& o) {
  if (!(o.scale_factor >= 0 && o.scale_factor < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augmentation scale_factor must be in [0, 1), got ", o.scale_factor));
  }
  if (!(o.rotation_degrees >= 0 && o.rotation_degrees <= 180)) {
    return absl::InvalidArgumentError(
        absl::StrCat("augmentation rotation_degrees must be in [0, 180], got ",
                     o.rotation_degrees));
  }
  if (!(o.rotation_probability >= 0 && o.rotation_probability <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augmentation rotation_probability must be in [0, 1], got ",
        o.rotation_probability));
  }
  if (!(o.flip_probability >= 0 && o.flip_probability <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("augmentation flip_probability must be in [0, 1], got ",
                     o.flip_probability));
  }
  return absl::OkStatus();
}

AugmentDraw DrawAugmentation(const AugmentOptions& o, uint64_t seed) {
  // A fixed number of draws in a fixed order, whatever the options, so
  // turning one knob does not shift the others' values.
  SynthRandom rng(seed);
  const double scale_noise = rng.Normal();
  const double rotation_noise = rng.Normal();
  const double rotation_coin = rng.Unit();
  const double flip_coin = rng.Unit();
  AugmentDraw draw;
  draw.scale = std::clamp(1.0 + o.scale_factor * scale_noise,
                          1.0 - o.scale_factor, 1.0 + o.scale_factor);
  if (rotation_coin < o.rotation_probability) {
    const double degrees = std::clamp(o.rotation_degrees * rotation_noise,
                                      -o.rotation_degrees, o.rotation_degrees);
    draw.rotation_radians = degrees * std::numbers::pi / 180.0;
  }
  draw.flip = flip_coin < o.flip_probability;
  return draw;
}

Affine2D AugmentationAffine(const AugmentDraw& draw, int size) {
  const double c = 0.5 * (size - 1);
  const Affine2D scale = Affine2D::Translation(c, c)
                             .Compose(Affine2D::Scale(draw.scale, draw.scale))
                             .Compose(Affine2D::Translation(-c, -c));
  Affine2D map =
      scale.Compose(Affine2D::RotationAbout(draw.rotation_radians, c, c));
  if (draw.flip) map = map.Compose(Affine2D::FlipX(size));
  return map;
}

}  // namespace mapn::train
