#include "mapn/estimate/overlay.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"
#include "mapn/draw/canvas.h"
#include "mapn/viz/flow_color.h"
#include "mapn/viz/panels.h"
#include "mapn/viz/png.h"

namespace mapn {
namespace {

constexpr Rgb kCoral{255, 127, 80};
constexpr Rgb kLeft{64, 160, 255};
constexpr Rgb kRight{255, 80, 80};
constexpr Rgb kCentre{80, 230, 120};
constexpr int kPanelGap = 4;

// Left joints blue, right joints red, the rest green, from the joint names
// of both datasets ("l_wrist", "left_...", "r_knee", ...).
Rgb SideColor(const std::string& name) {
  if (name.rfind("l_", 0) == 0 || name.rfind("left", 0) == 0) return kLeft;
  if (name.rfind("r_", 0) == 0 || name.rfind("right", 0) == 0) return kRight;
  return kCentre;
}

// Track ids cycle through colours that stand apart from each other and
// from the side colours of the joints.
Rgb TrackColor(int64_t id) {
  static constexpr Rgb kColors[] = {
      {255, 220, 0},   {0, 220, 220},  {255, 105, 180}, {150, 255, 80},
      {190, 130, 255}, {255, 160, 40}, {255, 255, 255}, {120, 180, 120}};
  constexpr int64_t n = sizeof(kColors) / sizeof(kColors[0]);
  return kColors[((id - 1) % n + n) % n];
}

// "dir" without trailing slashes ("/" stays "/").
std::string TrimSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

int EvenUp(int v) { return v + (v & 1); }

int PanelWidth(int64_t width, bool panels) {
  return panels ? static_cast<int>(3 * width + 2 * kPanelGap)
                : static_cast<int>(width);
}

}  // namespace

at::Tensor RenderOverlayFrame(const GopWindow& window, int64_t t,
                              const FramePose& pose, const JointSet& joints,
                              const OverlayOptions& options) {
  Canvas canvas = Canvas::FromTensor(window.rgb[t]);
  const int w = canvas.width(), h = canvas.height();
  const float scale = std::max(1.0f, std::min(w, h) / 240.0f);

  const int text_scale = std::max(1, static_cast<int>(scale));
  for (const PersonPose& person : pose.people) {
    // A tracked person (detected boxes) in their own colour: limbs, box and
    // id tag; joints keep their side colours so left and right stay
    // readable. Given boxes: one person, limbs by side, no box.
    const bool tracked = person.box_origin != PersonBoxOrigin::kGiven;
    const Rgb own = TrackColor(person.track_id);
    // Strokes sized for the frame, thinner for a small person (a 60-pixel
    // pedestrian would vanish under full-size joint discs).
    const float stroke = std::clamp(person.box.height() / 100.0f, 0.5f, scale);
    // Skeleton: limbs first, joints on top.
    for (const auto& [a, b] : joints.skeleton) {
      if (a >= static_cast<int>(person.joints.size()) ||
          b >= static_cast<int>(person.joints.size())) {
        continue;
      }
      const JointEstimate& ja = person.joints[a];
      const JointEstimate& jb = person.joints[b];
      const float alpha =
          std::min(ja.confidence, jb.confidence) >= options.min_confidence
              ? 0.9f
              : 0.35f;
      const std::string& name_a = joints.joint_names[a];
      const std::string& name_b = joints.joint_names[b];
      Rgb color = SideColor(name_b);
      if (SideColor(name_a).r == kCentre.r &&
          SideColor(name_b).r == kCentre.r) {
        color = kCentre;
      }
      if (tracked) color = own;
      canvas.DrawLine(ja.x, ja.y, jb.x, jb.y, 2.5f * stroke, color, alpha);
    }
    for (size_t j = 0; j < person.joints.size(); ++j) {
      const JointEstimate& je = person.joints[j];
      const float alpha = je.confidence >= options.min_confidence ? 1.0f : 0.4f;
      canvas.FillDisc(je.x, je.y, 3.0f * stroke, Rgb{255, 255, 255}, alpha);
      canvas.FillDisc(je.x, je.y, 2.0f * stroke,
                      SideColor(joints.joint_names[j]), alpha);
    }
    if (!tracked) continue;
    // The box, thicker on the keyframe its detection joined; the id above
    // it, with "F" where this person's features were extracted.
    const Box& b = person.box;
    const int x1 = static_cast<int>(std::lround(b.x1));
    const int y1 = static_cast<int>(std::lround(b.y1));
    const int thin = std::max(1, static_cast<int>(scale));
    canvas.DrawRect(
        x1, y1, std::max(1, static_cast<int>(std::lround(b.x2)) - x1),
        std::max(1, static_cast<int>(std::lround(b.y2)) - y1),
        person.box_origin == PersonBoxOrigin::kDetected ? 2 * thin : thin, own);
    const std::string tag =
        absl::StrCat(person.track_id, person.features_extracted ? " F" : "");
    const int th = Canvas::TextHeight(text_scale) + 4;
    const int ty = std::max(0, y1 - th);
    canvas.FillRect(x1, ty, Canvas::TextWidth(tag, text_scale) + 6, th, own);
    canvas.DrawText(x1 + 3, ty + 2, tag, text_scale, Rgb{0, 0, 0});
  }

  std::string caption =
      absl::StrFormat("#%d %c", pose.frame_index, FrameTypeChar(pose.type));
  if (!pose.has_person()) caption += " NO PERSON";
  // Damage read through: the picture (and so the pose) is approximate.
  if (pose.damage == FrameDamage::kConcealed) caption += " CONCEALED";
  if (pose.damage == FrameDamage::kLost) caption += " LOST";
  canvas.FillRect(0, 0, Canvas::TextWidth(caption, text_scale) + 6,
                  Canvas::TextHeight(text_scale) + 4, Rgb{0, 0, 0}, 0.55f);
  canvas.DrawText(3, 3, caption, text_scale, Rgb{255, 255, 255});
  if (pose.features_extracted) {
    const int border = std::max(3, static_cast<int>(2 * scale));
    canvas.DrawRect(0, 0, w, h, border, kCoral);
    const std::string tag = "FEATURES";
    const int tw = Canvas::TextWidth(tag, text_scale);
    canvas.FillRect(w - tw - 8 - border, border, tw + 6,
                    Canvas::TextHeight(text_scale) + 4, kCoral);
    canvas.DrawText(w - tw - 5 - border, border + 3, tag, text_scale,
                    Rgb{0, 0, 0});
  }
  at::Tensor frame = canvas.ToTensor();
  if (!options.panels) return frame;

  at::Tensor motion_panel, residual_panel;
  if (window.motion.defined() && window.intra.defined()) {
    motion_panel = MotionToColor(window.motion[t], window.intra[t], 0.0f,
                                 window.height(), window.width());
  } else {
    motion_panel = at::zeros_like(frame);
  }
  if (window.has_residual()) {
    residual_panel =
        ResidualToImage(DenseResidual(window, t), options.residual_gain);
  } else {
    residual_panel = at::zeros_like(frame);
  }
  return HStack({frame, motion_panel, residual_panel}, kPanelGap);
}

std::string OverlayFramePath(const std::string& dir, int64_t frame_index) {
  const std::string trimmed = TrimSlashes(dir);
  const char* separator = trimmed.empty() || trimmed.back() == '/' ? "" : "/";
  return absl::StrFormat("%s%s%06d.png", trimmed, separator, frame_index);
}

absl::Status PrepareOverlayFramesDir(const std::string& dir) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("--overlay_frames: no directory given");
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    const absl::StatusCode code =
        error == std::errc::permission_denied ||
                error == std::errc::read_only_file_system
            ? absl::StatusCode::kPermissionDenied
            : absl::StatusCode::kInvalidArgument;
    return absl::Status(
        code, absl::StrCat("--overlay_frames: cannot create directory '", dir,
                           "': ", error.message()));
  }
  if (!std::filesystem::is_directory(dir, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--overlay_frames: '", dir, "' is not a directory"));
  }
  const absl::Status writable = CheckWritable(OverlayFramePath(dir, 0));
  if (!writable.ok()) {
    return absl::Status(
        writable.code(),
        absl::StrCat("--overlay_frames: directory '", dir,
                     "' is not writable: ", writable.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OverlaySink>> OverlaySink::Open(
    const OverlayTargets& targets, int64_t width, int64_t height,
    double frame_rate, const OverlayOptions& options) {
  if (targets.video.empty() && targets.frames_dir.empty()) {
    return absl::InvalidArgumentError(
        "an overlay needs a video, a frames directory or both");
  }
  if (!targets.frames_dir.empty()) {
    if (absl::Status s = PrepareOverlayFramesDir(targets.frames_dir); !s.ok()) {
      return s;
    }
  }
  const int out_w = EvenUp(PanelWidth(width, options.panels));
  const int out_h = EvenUp(static_cast<int>(height));
  std::unique_ptr<VideoWriter> video;
  if (!targets.video.empty()) {
    VideoWriterOptions writer_options;
    writer_options.codec = "libx264";
    writer_options.qscale = 0;
    writer_options.gop_size = 250;
    writer_options.codec_options = {{"preset", "veryfast"}, {"crf", "20"}};
    // A plausible rate keeps players happy when the stream has none.
    const double fps = frame_rate > 0 ? frame_rate : 25.0;
    writer_options.frame_rate_num = static_cast<int>(std::lround(fps * 1000));
    writer_options.frame_rate_den = 1000;
    absl::StatusOr<std::unique_ptr<VideoWriter>> writer =
        VideoWriter::Open(targets.video, out_w, out_h, writer_options);
    if (!writer.ok()) {
      return absl::Status(
          writer.status().code(),
          absl::StrCat("--overlay: ", writer.status().message()));
    }
    video = *std::move(writer);
  }
  return std::unique_ptr<OverlaySink>(new OverlaySink(
      std::move(video), out_w, out_h, targets.frames_dir, options));
}

absl::Status OverlaySink::Add(const GopWindow& window, int64_t t,
                              const FramePose& pose, const JointSet& joints) {
  at::Tensor picture = RenderOverlayFrame(window, t, pose, joints, options_);
  if (!frames_dir_.empty()) {
    const std::string path = OverlayFramePath(frames_dir_, pose.frame_index);
    if (absl::Status s = WritePng(path, picture); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("--overlay_frames: ", s.message()));
    }
  }
  if (writer_ == nullptr) return absl::OkStatus();
  const int64_t ph = picture.size(1), pw = picture.size(2);
  if (ph != video_height_ || pw != video_width_) {
    // Odd source sizes: pad one black row / column to the encoder's size.
    const int64_t h = std::min<int64_t>(ph, video_height_);
    const int64_t w = std::min<int64_t>(pw, video_width_);
    at::Tensor padded = at::zeros({3, video_height_, video_width_}, at::kByte);
    padded.narrow(1, 0, h).narrow(2, 0, w).copy_(
        picture.narrow(1, 0, h).narrow(2, 0, w));
    picture = padded;
  }
  return writer_->WriteFrame(picture);
}

absl::Status OverlaySink::Close() {
  return writer_ == nullptr ? absl::OkStatus() : writer_->Close();
}

}  // namespace mapn
