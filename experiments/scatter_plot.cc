#include "experiments/scatter_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace mapn::experiments {
namespace {

constexpr Rgb kBlack = {0, 0, 0};
constexpr Rgb kGrey = {90, 90, 90};
constexpr Rgb kGrid = {226, 226, 226};
constexpr Rgb kWhite = {255, 255, 255};

double TickStep(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(1, target);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

// Enough decimals to tell ticks `step` apart.
std::string TickText(double value, double step) {
  const int decimals =
      std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return absl::StrFormat("%.*f", decimals,
                         std::abs(value) < step * 1e-6 ? 0.0 : value);
}

Rgb Darker(Rgb c) {
  return {static_cast<uint8_t>(c.r * 0.55), static_cast<uint8_t>(c.g * 0.55),
          static_cast<uint8_t>(c.b * 0.55)};
}

// Greedy word wrap of `text` into lines at most `max_width` pixels wide at
// `scale` (a single word wider than that stays whole). Empty text: no lines.
std::vector<std::string> WrapText(const std::string& text, int max_width,
                                  int scale) {
  std::vector<std::string> lines;
  std::string line;
  for (const absl::string_view word : absl::StrSplit(text, ' ')) {
    const std::string candidate =
        line.empty() ? std::string(word) : absl::StrCat(line, " ", word);
    if (!line.empty() && Canvas::TextWidth(candidate, scale) > max_width) {
      lines.push_back(line);
      line = std::string(word);
    } else {
      line = candidate;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo) return {};
  const double step = TickStep(lo, hi, target);
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9;
       v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

std::pair<double, double> NiceRange(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi <= lo) {
    const double pad = std::max(1.0, std::abs(lo) * 0.05);
    lo -= pad;
    hi += pad;
  }
  const double step = TickStep(lo, hi, target);
  return {std::floor(lo / step + 1e-9) * step,
          std::ceil(hi / step - 1e-9) * step};
}

at::Tensor RenderScatterPlot(const ScatterPlot& plot) {
  Canvas canvas(plot.width, plot.height, kWhite);
  // Plot area.
  const int left = 96, right = plot.width - 36;
  // A subtitle wider than the picture wraps at spaces onto more lines.
  const std::vector<std::string> subtitle =
      WrapText(plot.subtitle, plot.width - 24, 2);
  const int line_height = Canvas::TextHeight(2) + 6;
  const int top =
      70 + 22 * !subtitle.empty() +
      line_height * std::max(0, static_cast<int>(subtitle.size()) - 1);
  const int bottom = plot.height - 78;

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo, size_max = 0;
  for (const ScatterPoint& p : plot.points) {
    x_lo = std::min(x_lo, p.x);
    x_hi = std::max(x_hi, p.x);
    y_lo = std::min(y_lo, p.y);
    y_hi = std::max(y_hi, p.y);
    size_max = std::max(size_max, p.size);
  }
  if (plot.points.empty()) x_lo = y_lo = 0, x_hi = y_hi = 1;
  // Room for the markers: 8 % of the span on each side.
  const double x_pad = std::max((x_hi - x_lo) * 0.08, 1e-6);
  const double y_pad = std::max((y_hi - y_lo) * 0.12, 0.5);
  const auto [x0, x1] =
      plot.x_range.value_or(NiceRange(x_lo - x_pad, x_hi + x_pad, 8));
  const auto [y0, y1] =
      plot.y_range.value_or(NiceRange(y_lo - y_pad, y_hi + y_pad, 6));
  auto px = [&](double x) {
    return left + (x - x0) / (x1 - x0) * (right - left);
  };
  auto py = [&](double y) {
    return bottom - (y - y0) / (y1 - y0) * (bottom - top);
  };

  // Grid, ticks and tick labels.
  const double x_step = TickStep(x0, x1, 8), y_step = TickStep(y0, y1, 6);
  for (double x : NiceTicks(x0, x1, 8)) {
    const float X = static_cast<float>(px(x));
    canvas.DrawLine(X, top, X, bottom, 1, kGrid);
    canvas.DrawLine(X, bottom, X, bottom + 6, 1.5f, kBlack);
    const std::string text = TickText(x, x_step);
    canvas.DrawText(static_cast<int>(X) - Canvas::TextWidth(text, 2) / 2,
                    bottom + 12, text, 2, kBlack);
  }
  for (double y : NiceTicks(y0, y1, 6)) {
    const float Y = static_cast<float>(py(y));
    canvas.DrawLine(left, Y, right, Y, 1, kGrid);
    canvas.DrawLine(left - 6, Y, left, Y, 1.5f, kBlack);
    const std::string text = TickText(y, y_step);
    canvas.DrawText(left - 12 - Canvas::TextWidth(text, 2),
                    static_cast<int>(Y) - Canvas::TextHeight(2) / 2 + 1, text,
                    2, kBlack);
  }
  // Axes.
  canvas.DrawLine(left, bottom, right, bottom, 2, kBlack);
  canvas.DrawLine(left, top, left, bottom, 2, kBlack);

  // Titles and axis labels (the bitmap font does not rotate: the y label
  // sits above its axis).
  canvas.DrawText((plot.width - Canvas::TextWidth(plot.title, 3)) / 2, 16,
                  plot.title, 3, kBlack);
  for (size_t i = 0; i < subtitle.size(); ++i) {
    canvas.DrawText((plot.width - Canvas::TextWidth(subtitle[i], 2)) / 2,
                    50 + static_cast<int>(i) * line_height, subtitle[i], 2,
                    kGrey);
  }
  canvas.DrawText((left + right - Canvas::TextWidth(plot.x_label, 2)) / 2,
                  bottom + 44, plot.x_label, 2, kBlack);
  canvas.DrawText(left - 80, top - 24, plot.y_label, 2, kBlack);

  // Markers, largest first so that small ones stay on top, then labels.
  std::vector<size_t> order(plot.points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plot.points[a].size > plot.points[b].size;
  });
  auto radius = [&](const ScatterPoint& p) {
    const double r =
        size_max > 0 ? plot.max_radius * p.size / size_max : plot.min_radius;
    return static_cast<float>(std::max(plot.min_radius, r));
  };
  for (size_t i : order) {
    const ScatterPoint& p = plot.points[i];
    const float r = radius(p);
    canvas.FillDisc(static_cast<float>(px(p.x)), static_cast<float>(py(p.y)),
                    r + 1.5f, Darker(p.color), 0.9f);
    canvas.FillDisc(static_cast<float>(px(p.x)), static_cast<float>(py(p.y)), r,
                    p.color, 0.75f);
  }
  // Each label goes right of its marker, else left, below or above (centred,
  // then flush with the marker's right edge, for markers near the right
  // border), else one or two lines above or below its left place: the first
  // place inside the plot that no earlier label occupies. With none free it
  // still stays inside the plot, at its left place moved in.
  struct Rect {
    int x0, y0, x1, y1;
  };
  std::vector<Rect> placed;
  auto inside = [&](const Rect& a) {
    return a.x0 >= left && a.x1 <= right && a.y0 >= top && a.y1 <= bottom;
  };
  auto free = [&](const Rect& a) {
    if (!inside(a)) return false;
    for (const Rect& b : placed) {
      if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) {
        return false;
      }
    }
    return true;
  };
  for (const ScatterPoint& p : plot.points) {
    if (p.label.empty()) continue;
    const int r = static_cast<int>(std::ceil(radius(p)));
    const int cx = static_cast<int>(px(p.x)), cy = static_cast<int>(py(p.y));
    const int w = Canvas::TextWidth(p.label, 2), h = Canvas::TextHeight(2);
    auto at = [&](int x0, int y0) { return Rect{x0, y0, x0 + w, y0 + h}; };
    const int mid = cy - h / 2, below = cy + r + 4, above = cy - r - 4 - h;
    const int right_of = cx + r + 6, left_of = cx - r - 6 - w;
    const Rect candidates[] = {
        at(right_of, mid),
        at(left_of, mid),
        at(cx - w / 2, below),
        at(cx - w / 2, above),
        at(cx + r - w, below),
        at(cx + r - w, above),
        at(left_of, mid - h - 4),
        at(left_of, mid + h + 4),
        at(left_of, mid - 2 * (h + 4)),
        at(left_of, mid + 2 * (h + 4)),
    };
    Rect chosen = at(std::max(left, std::min(left_of, right - w)),
                     std::max(top, std::min(mid, bottom - h)));
    for (const Rect& c : candidates) {
      if (free(c)) {
        chosen = c;
        break;
      }
    }
    placed.push_back(chosen);
    canvas.DrawText(chosen.x0, chosen.y0, p.label, 2, Darker(p.color));
  }

  // Legend, bottom right inside the plot area.
  if (!plot.legend.empty()) {
    int width = 0;
    for (const LegendEntry& e : plot.legend) {
      width = std::max(width, Canvas::TextWidth(e.text, 2));
    }
    const int line = Canvas::TextHeight(2) + 8;
    const int box_w = width + 44;
    const int box_h = static_cast<int>(plot.legend.size()) * line + 12;
    const int bx = right - box_w - 10, by = bottom - box_h - 10;
    canvas.FillRect(bx, by, box_w, box_h, kWhite, 0.92f);
    canvas.DrawRect(bx, by, box_w, box_h, 1, kGrey);
    for (size_t i = 0; i < plot.legend.size(); ++i) {
      const int y = by + 8 + static_cast<int>(i) * line;
      canvas.FillDisc(static_cast<float>(bx + 16),
                      static_cast<float>(y + line / 2 - 4), 7,
                      plot.legend[i].color, 0.85f);
      canvas.DrawText(bx + 32, y, plot.legend[i].text, 2, kBlack);
    }
  }
  return canvas.ToTensor();
}

}  // namespace mapn::experiments
