// File: box.h
//
// Axis-aligned boxes in image pixels, and the crop box the model sees
// around a person: the box grown to the model's aspect (square for a
// square input, so a crop keeps the body's proportions) and scaled by a
// margin around its centre. Every package that crops (the reader, training,
// estimation, tracking) uses these, so that they share one convention:
// corners (x1, y1) inclusive and (x2, y2) exclusive, in pixel-edge
// coordinates (the left edge of column 0 is x = 0).
//
// Example:
//
//   const Box person{120, 40, 320, 420};          // x1, y1, x2, y2
//   const Box crop = ExpandBox(person);           // square, x 1.25
//   // crop.width() == crop.height() == 475
#ifndef MAPN_GEOMETRY_BOX_H_
#define MAPN_GEOMETRY_BOX_H_

namespace mapn {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

struct CropBoxOptions {
  // Width / height of the crop; the box grows along one side to reach it.
  // 1 matches a square model input (256 x 256); <= 0 keeps the box's aspect.
  float aspect = 1.0f;
  // Factor on width and height around the centre, after the aspect fix.
  float scale = 1.25f;
};

// Intersection over union of two boxes (0 when either is empty): how
// detections are de-duplicated, kept across keyframes and joined to tracks.
float IntersectionOverUnion(const Box& a, const Box& b);

// The box grown to `options.aspect` and scaled by `options.scale` around its
// centre. It may extend beyond the frame; the cropper pads.
Box ExpandBox(const Box& box, const CropBoxOptions& options = {});

}  // namespace mapn

#endif  // MAPN_GEOMETRY_BOX_H_
