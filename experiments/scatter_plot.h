// File: scatter_plot.h
//
// The scatter plot of Figure 5: points at (x, y) with a marker radius
// proportional to a third value (GFLOPs per frame), axes with "nice" ticks
// and labels, a grid, a title, point labels and a legend, drawn with the
// anti-aliased primitives and bitmap font of mapn/draw/canvas.h and saved
// with mapn/viz/png.h. No plotting library is needed.
//
// Example:
//
//   ScatterPlot plot;
//   plot.title = "PCK against keyframes";
//   plot.x_label = "keyframes (%)";
//   plot.y_label = "PCK@0.2 (%)";
//   plot.points.push_back({29.0, 97.7, 0.31, "lambda 1e-4", {200, 60, 40}});
//   at::Tensor image = RenderScatterPlot(plot);   // uint8 [3, H, W]
//   MAPN_RETURN_IF_ERROR(WritePng("fig5.png", image));
#ifndef MAPN_EXPERIMENTS_SCATTER_PLOT_H_
#define MAPN_EXPERIMENTS_SCATTER_PLOT_H_

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mapn/draw/canvas.h"

namespace mapn::experiments {

struct ScatterPoint {
  double x = 0;
  double y = 0;
  double size = 0;  // radius = max_radius * size / (largest size)
  std::string label;
  Rgb color;
};

struct LegendEntry {
  Rgb color;
  std::string text;
};

struct ScatterPlot {
  std::string title;
  std::string subtitle;
  std::string x_label;
  std::string y_label;
  std::vector<ScatterPoint> points;
  std::vector<LegendEntry> legend;
  int width = 1000;
  int height = 680;
  double max_radius = 26;  // pixels, for the largest size
  double min_radius = 3;   // pixels, so that tiny sizes stay visible
  // Axis ranges; default: the data's, padded and rounded to ticks.
  std::optional<std::pair<double, double>> x_range;
  std::optional<std::pair<double, double>> y_range;
};

// About `target` tick values covering [lo, hi], at steps of 1, 2 or 5 times
// a power of ten, the first >= lo and the last <= hi. Empty when hi <= lo
// or either is not finite.
std::vector<double> NiceTicks(double lo, double hi, int target);

// Widens [lo, hi] outwards to multiples of the NiceTicks step (and to a
// non-empty range when lo == hi).
std::pair<double, double> NiceRange(double lo, double hi, int target);

// Draws the plot; uint8 [3, height, width] RGB.
at::Tensor RenderScatterPlot(const ScatterPlot& plot);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_SCATTER_PLOT_H_
