// File: canvas.h
//
// A small RGB raster with the drawing primitives mapn's pictures need: pose
// skeletons on overlay videos, labels on inspection dumps, and the scatter
// plots of the experiments. Lines and discs are anti-aliased; text uses a
// built-in 5x7 pixel font (ASCII 32-126), scaled by an integer factor, so no
// font files or libraries are needed.
//
// Example:
//
//   Canvas canvas(320, 240, Rgb{255, 255, 255});
//   canvas.DrawLine(10, 10, 300, 200, /*thickness=*/3, Rgb{255, 0, 0});
//   canvas.FillDisc(160, 120, 5, Rgb{0, 128, 255});
//   canvas.DrawText(12, 220, "PCK 97.1", /*scale=*/2, Rgb{0, 0, 0});
//   at::Tensor chw = canvas.ToTensor();  // uint8 [3, 240, 320]
#ifndef MAPN_DRAW_CANVAS_H_
#define MAPN_DRAW_CANVAS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mapn {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {0, 0, 0});
  // Copies a uint8 [3, H, W] tensor (RGB, channel-first).
  static Canvas FromTensor(const at::Tensor& rgb_chw);

  int width() const { return width_; }
  int height() const { return height_; }
  // Interleaved RGB24 rows, width() * 3 bytes each.
  const std::vector<uint8_t>& pixels() const { return pixels_; }
  uint8_t* row(int y) { return pixels_.data() + static_cast<size_t>(y) * width_ * 3; }
  Rgb At(int x, int y) const;

  // Blends `color` into pixel (x, y) with coverage `alpha` in [0, 1];
  // pixels outside the canvas are ignored.
  void Blend(int x, int y, Rgb color, float alpha);

  void FillRect(int x, int y, int w, int h, Rgb color, float alpha = 1.0f);
  void DrawRect(int x, int y, int w, int h, int thickness, Rgb color);
  // Anti-aliased segment with round caps.
  void DrawLine(float x0, float y0, float x1, float y1, float thickness,
                Rgb color, float alpha = 1.0f);
  void FillDisc(float cx, float cy, float radius, Rgb color,
                float alpha = 1.0f);
  // Top-left of the first character at (x, y); '\n' starts a new line.
  void DrawText(int x, int y, const std::string& text, int scale, Rgb color);
  // Pixel size of `text` drawn at `scale`.
  static int TextWidth(const std::string& text, int scale);
  static int TextHeight(int scale) { return 8 * scale; }

  // Copies `other` with its top-left corner at (x, y), clipped.
  void Paste(const Canvas& other, int x, int y);

  // uint8 [3, H, W].
  at::Tensor ToTensor() const;

 private:
  int width_;
  int height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace mapn

#endif  // MAPN_DRAW_CANVAS_H_
