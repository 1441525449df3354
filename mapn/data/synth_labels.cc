#include "mapn/data/synth_labels.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "mapn/data/synth_plan.h"

namespace mapn::synth {

int PointOfJoint(const std::string& name) {
  if (name == "head" || name == "face") return kPtHead;
  if (name == "neck") return kPtNeck;
  if (name == "belly") return kPtBelly;
  if (name.size() < 3 || name[1] != '_') return -1;
  const int side = name[0] == 'l' ? kLeft : (name[0] == 'r' ? kRight : -1);
  if (side < 0) return -1;
  const std::string part = name.substr(2);
  if (part == "shoulder") return kPtShoulder + side;
  if (part == "elbow") return kPtElbow + side;
  if (part == "wrist") return kPtWrist + side;
  if (part == "hip") return kPtHip + side;
  if (part == "knee") return kPtKnee + side;
  if (part == "ankle") return kPtAnkle + side;
  return -1;
}

bool IsOwnPart(int point, int part) {
  switch (point) {
    case kPtHead:
      return part == kHead || part == kNeck;
    case kPtNeck:
      return part == kNeck || part == kTorso || part == kHead;
    case kPtBelly:
      return part == kTorso;
    default:
      break;
  }
  const int side = (point - kPtShoulder) % 2;
  switch ((point - kPtShoulder) / 2) {
    case 0:
      return part == kTorso || part == kUpperArm + side;
    case 1:
      return part == kUpperArm + side || part == kForearm + side;
    case 2:
      return part == kForearm + side || part == kHand + side;
    case 3:
      return part == kTorso || part == kThigh + side;
    case 4:
      return part == kThigh + side || part == kShin + side;
    default:
      return part == kShin + side || part == kFoot + side;
  }
}

bool IsPointVisible(const Canvas& canvas, const DrawnFigure& figure, int point,
                    bool occlusion) {
  const Vec2& q = figure.points[point];
  const bool in_frame = q.x() >= 0 && q.y() >= 0 && q.x() <= canvas.width - 1 &&
                        q.y() <= canvas.height - 1;
  if (!in_frame || !occlusion) return in_frame;
  const int top =
      canvas.part[static_cast<size_t>(std::lround(q.y())) * canvas.width +
                  std::lround(q.x())];
  if (!IsOwnPart(point, top)) return false;
  const bool near_side_only =
      (point >= kPtShoulder && point < kPtShoulder + 2) ||
      (point >= kPtHip && point < kPtHip + 2);
  // A shoulder or hip on the far side of the chest.
  return !(near_side_only && top == kTorso &&
           figure.depth[point] < figure.torso_depth - 0.02);
}

std::optional<Box> FigureMask(const Canvas& canvas,
                              std::vector<uint8_t>& mask) {
  const int w = canvas.width, h = canvas.height;
  mask.resize(static_cast<size_t>(w) * h);
  int x_min = w, x_max = -1, y_min = h, y_max = -1;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      mask[i] = canvas.cover[i] >= 0.5f;
      if (!mask[i]) continue;
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  if (x_max < 0) return std::nullopt;
  return Box{static_cast<float>(x_min), static_cast<float>(y_min),
             static_cast<float>(x_max + 1), static_cast<float>(y_max + 1)};
}

SynthMotion MainMotion(const std::vector<SynthSegment>& segments) {
  std::array<int64_t, kNumSynthMotions> frames_of{};
  for (const SynthSegment& s : segments) {
    frames_of[static_cast<int>(s.motion)] += s.num_frames;
  }
  return static_cast<SynthMotion>(
      std::max_element(frames_of.begin(), frames_of.end()) - frames_of.begin());
}

std::string PoseName(double yaw) {
  yaw = std::remainder(yaw, kTwoPi);
  if (std::abs(yaw) <= kPi / 4) return "front";
  if (std::abs(yaw) >= 3 * kPi / 4) return "back";
  // Positive yaw turns the figure's front towards +x, the screen's right.
  return yaw > 0 ? "right" : "left";
}

}  // namespace mapn::synth
