// SynthPose: determinism, label consistency, the slow/fast and occlusion
// knobs, and the files it writes read back by the Penn Action and Sub-JHMDB
// loaders; and its parts alone: the plan, the simulation, the finishing of
// frames and the labels.
#include "mapn/data/synthpose.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/image_file.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/penn_action.h"
#include "mapn/data/synth_body.h"
#include "mapn/data/synth_draw.h"
#include "mapn/data/synth_labels.h"
#include "mapn/data/synth_plan.h"
#include "mapn/data/synth_render.h"
#include "mapn/data/video_cache.h"
#include "mapn/video/ffmpeg_util.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(base ? base : "/tmp", "/", name);
  fs::remove_all(dir);
  return dir;
}

// Small and short, so that the tests stay fast.
SynthPoseOptions Tiny() {
  SynthPoseOptions o;
  o.width = 96;
  o.height = 72;
  o.min_frames = 14;
  o.max_frames = 18;
  o.num_clips = 2;
  o.min_segment_frames = 4;
  o.max_segment_frames = 8;
  o.blend_frames = 2;
  return o;
}

SynthClip Render(const SynthPoseOptions& o, int clip) {
  absl::StatusOr<SynthClip> c = RenderSynthClip(o, clip);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : SynthClip{};
}

TEST(SynthPoseTest, SameSeedSameClip) {
  const SynthPoseOptions o = Tiny();
  const SynthClip a = Render(o, 1);
  const SynthClip b = Render(o, 1);
  ASSERT_FALSE(a.frames.empty());
  EXPECT_EQ(a.frames, b.frames);
  EXPECT_EQ(a.labels.joints, b.labels.joints);
  EXPECT_EQ(a.labels.visible, b.labels.visible);
  EXPECT_EQ(a.masks, b.masks);
  // A clip does not depend on how many clips the set has.
  SynthPoseOptions more = o;
  more.num_clips = 50;
  EXPECT_EQ(Render(more, 1).frames, a.frames);
  // Another seed or clip number gives another clip.
  SynthPoseOptions other = o;
  other.seed = 2;
  EXPECT_NE(Render(other, 1).labels.joints, a.labels.joints);
  EXPECT_NE(Render(o, 2).labels.joints, a.labels.joints);
  // Knobs of one group leave the others' draws alone: noise changes pixels,
  // not the motion.
  SynthPoseOptions quiet = o;
  quiet.noise_sigma = 0;
  const SynthClip q = Render(quiet, 1);
  EXPECT_EQ(q.labels.joints, a.labels.joints);
  EXPECT_NE(q.frames, a.frames);
}

TEST(SynthPoseTest, LabelsAgreeWithThePicture) {
  const SynthPoseOptions o = Tiny();
  for (int clip = 1; clip <= 4; ++clip) {
    const SynthClip c = Render(o, clip);
    const PoseSequence& seq = c.labels;
    ASSERT_TRUE(seq.Validate().ok());
    EXPECT_EQ(seq.num_joints, 13);
    EXPECT_GE(seq.num_frames, o.min_frames);
    EXPECT_LE(seq.num_frames, o.max_frames);
    EXPECT_EQ(c.frames.size(), static_cast<size_t>(seq.num_frames));
    EXPECT_EQ(c.frames[0].size(), static_cast<size_t>(o.width * o.height * 3));
    EXPECT_EQ(seq.repaired_boxes, 0);
    // Segments tile the clip.
    int64_t next = 0;
    for (const SynthSegment& s : c.segments) {
      EXPECT_EQ(s.first_frame, next);
      next += s.num_frames;
    }
    EXPECT_EQ(next, seq.num_frames);
    for (int64_t t = 0; t < seq.num_frames; ++t) {
      const Box& b = seq.boxes[t];
      // The box is the mask's extent.
      int x_min = o.width, x_max = -1, y_min = o.height, y_max = -1;
      for (int y = 0; y < o.height; ++y) {
        for (int x = 0; x < o.width; ++x) {
          if (!c.masks[t][y * o.width + x]) continue;
          x_min = std::min(x_min, x);
          x_max = std::max(x_max, x);
          y_min = std::min(y_min, y);
          y_max = std::max(y_max, y);
        }
      }
      ASSERT_GE(x_max, 0) << "clip " << clip << " frame " << t;
      EXPECT_EQ(b.x1, x_min);
      EXPECT_EQ(b.x2, x_max + 1);
      EXPECT_EQ(b.y1, y_min);
      EXPECT_EQ(b.y2, y_max + 1);
      for (int j = 0; j < 13; ++j) {
        const float x = seq.x(t, j), y = seq.y(t, j);
        const bool in_frame =
            x >= 0 && y >= 0 && x <= o.width - 1 && y <= o.height - 1;
        if (!in_frame) {
          EXPECT_FALSE(seq.is_visible(t, j));
        }
        if (!seq.is_visible(t, j)) continue;
        // A visible joint lies on the figure: inside its box and on a mask
        // pixel next to it.
        EXPECT_GE(x, b.x1 - 1);
        EXPECT_LE(x, b.x2);
        EXPECT_GE(y, b.y1 - 1);
        EXPECT_LE(y, b.y2);
        bool on_mask = false;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const int xx = std::clamp(static_cast<int>(std::lround(x)) + dx, 0,
                                      o.width - 1);
            const int yy = std::clamp(static_cast<int>(std::lround(y)) + dy, 0,
                                      o.height - 1);
            on_mask |= c.masks[t][yy * o.width + xx] != 0;
          }
        }
        EXPECT_TRUE(on_mask)
            << "clip " << clip << " frame " << t << " joint " << j;
      }
    }
    // The head is above the ankles in the first frame (the figure stands).
    const float head_y = seq.y(0, 0);
    EXPECT_LT(head_y, seq.y(0, 11));
    EXPECT_LT(head_y, seq.y(0, 12));
  }
}

TEST(SynthPoseTest, FastSegmentsMoveMore) {
  SynthPoseOptions o = Tiny();
  o.min_frames = o.max_frames = 24;
  // The figure's own motion; camera motion moves every joint alike.
  o.camera_pan = 0;
  o.camera_zoom = 0;
  double fast_sum = 0, slow_sum = 0;
  int fast_n = 0, slow_n = 0;
  for (double fraction : {0.0, 1.0}) {
    o.fast_fraction = fraction;
    for (int clip = 1; clip <= 6; ++clip) {
      const SynthClip c = Render(o, clip);
      for (size_t t = 1; t < c.fast.size(); ++t) {
        EXPECT_EQ(c.fast[t], fraction == 1.0);
        if (c.fast[t]) {
          fast_sum += c.joint_motion[t];
          ++fast_n;
        } else {
          slow_sum += c.joint_motion[t];
          ++slow_n;
        }
      }
    }
  }
  ASSERT_GT(fast_n, 0);
  ASSERT_GT(slow_n, 0);
  const double fast = fast_sum / fast_n, slow = slow_sum / slow_n;
  // Amplitude about 3x and rate about 4.7x: joints move far faster.
  EXPECT_GT(fast, 4 * slow) << "fast " << fast << " px/frame, slow " << slow;
}

TEST(SynthPoseTest, OcclusionKnob) {
  SynthPoseOptions o = Tiny();
  o.fast_fraction = 1.0;
  int hidden_with = 0, hidden_without = 0;
  for (bool occlusion : {true, false}) {
    o.occluded_joints_invisible = occlusion;
    for (int clip = 1; clip <= 6; ++clip) {
      const SynthClip c = Render(o, clip);
      const PoseSequence& seq = c.labels;
      for (int64_t t = 0; t < seq.num_frames; ++t) {
        for (int j = 0; j < 13; ++j) {
          const float x = seq.x(t, j), y = seq.y(t, j);
          const bool in_frame =
              x >= 0 && y >= 0 && x <= o.width - 1 && y <= o.height - 1;
          if (in_frame && !seq.is_visible(t, j))
            ++(occlusion ? hidden_with : hidden_without);
        }
      }
    }
  }
  EXPECT_GT(hidden_with, 0);
  EXPECT_EQ(hidden_without, 0);
}

TEST(SynthPoseTest, JhmdbJointOrder) {
  SynthPoseOptions o = Tiny();
  const SynthClip penn = Render(o, 3);
  o.joint_set = "jhmdb";
  const SynthClip jhmdb = Render(o, 3);
  ASSERT_EQ(jhmdb.labels.num_joints, 15);
  EXPECT_EQ(jhmdb.frames, penn.frames);
  const PoseSequence& p = penn.labels;
  const PoseSequence& j = jhmdb.labels;
  for (int64_t t = 0; t < p.num_frames; ++t) {
    EXPECT_EQ(j.x(t, 2), p.x(t, 0));    // face = head
    EXPECT_EQ(j.x(t, 3), p.x(t, 2));    // r_shoulder
    EXPECT_EQ(j.y(t, 12), p.y(t, 5));   // l_wrist
    EXPECT_EQ(j.x(t, 14), p.x(t, 11));  // l_ankle
    // The neck sits between the shoulders, the belly between neck and hips.
    const float neck_y = j.y(t, 0), belly_y = j.y(t, 1),
                hips_y = 0.5f * (p.y(t, 7) + p.y(t, 8));
    EXPECT_LT(std::abs(neck_y - 0.5f * (p.y(t, 1) + p.y(t, 2))),
              0.25f * o.height);
    EXPECT_LE(std::min(neck_y, hips_y) - 1, belly_y);
    EXPECT_GE(std::max(neck_y, hips_y) + 1, belly_y);
  }
}

TEST(SynthPoseTest, FramesAsTensor) {
  const SynthClip c = Render(Tiny(), 1);
  const at::Tensor t = SynthClipFrames(c);
  ASSERT_EQ(t.dim(), 4);
  EXPECT_EQ(t.size(0), static_cast<int64_t>(c.frames.size()));
  EXPECT_EQ(t.size(1), 3);
  EXPECT_EQ(t.size(2), 72);
  EXPECT_EQ(t.size(3), 96);
  // Pixel (x 5, y 7) of frame 2, green channel.
  EXPECT_EQ(t[2][1][7][5].item<uint8_t>(), c.frames[2][(7 * 96 + 5) * 3 + 1]);
}

TEST(SynthPoseTest, OptionsAreChecked) {
  auto message = [](SynthPoseOptions o) {
    return std::string(ValidateSynthPoseOptions(o).message());
  };
  SynthPoseOptions o = Tiny();
  EXPECT_TRUE(ValidateSynthPoseOptions(o).ok());
  o.width = 95;
  EXPECT_NE(message(o).find("size"), std::string::npos);
  o = Tiny();
  o.fast_fraction = 1.5;
  EXPECT_NE(message(o).find("fast_fraction"), std::string::npos);
  o = Tiny();
  o.max_frames = 3;
  EXPECT_NE(message(o).find("max_frames"), std::string::npos);
  o = Tiny();
  o.joint_set = "coco";
  EXPECT_NE(message(o).find("joint_set"), std::string::npos);
  o = Tiny();
  o.walk_weight = -1;
  EXPECT_NE(message(o).find("weights"), std::string::npos);
  o = Tiny();
  o.jpeg_quality = 0;
  EXPECT_NE(message(o).find("jpeg_quality"), std::string::npos);
  EXPECT_FALSE(RenderSynthClip(Tiny(), 0).ok());
  EXPECT_FALSE(GenerateSynthPose(Tiny(), "").ok());
}

// Key-frame flags and count of a video's packets.
std::vector<bool> KeyFrames(const std::string& path) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) return {};
  UniqueInputFormatContext format(raw);
  UniqueAVPacket packet(av_packet_alloc());
  std::vector<bool> keys;
  while (av_read_frame(format.get(), packet.get()) >= 0) {
    keys.push_back(packet->flags & AV_PKT_FLAG_KEY);
    av_packet_unref(packet.get());
  }
  return keys;
}

double Psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    se += d * d;
  }
  return 10 * std::log10(255.0 * 255.0 / std::max(se / a.size(), 1e-12));
}

std::map<std::string, std::string> AllFiles(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    files[fs::relative(e.path(), root).string()] = *ReadFile(e.path().string());
  }
  return files;
}

TEST(SynthPoseTest, PennActionLayoutRoundTrips) {
  const SynthPoseOptions o = Tiny();
  const std::string root = TempDir("synth_penn");
  const absl::Status generated = GenerateSynthPose(o, root);
  ASSERT_TRUE(generated.ok()) << generated;
  absl::StatusOr<PoseDataset> data = LoadPennAction(root);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->sequences.size(), 2u);
  for (int clip = 1; clip <= 2; ++clip) {
    const SynthClip c = Render(o, clip);
    const PoseSequence& seq = data->sequences[clip - 1];
    EXPECT_EQ(seq.id, absl::StrFormat("%04d", clip));
    // Exact labels: the loader reads what the renderer computed.
    EXPECT_EQ(seq.joints, c.labels.joints);
    EXPECT_EQ(seq.visible, c.labels.visible);
    EXPECT_EQ(seq.train, c.labels.train);
    EXPECT_EQ(seq.action, c.labels.action);
    EXPECT_EQ(seq.width, o.width);
    EXPECT_EQ(seq.height, o.height);
    ASSERT_EQ(seq.boxes.size(), c.labels.boxes.size());
    for (size_t t = 0; t < seq.boxes.size(); ++t) {
      EXPECT_EQ(seq.boxes[t].x1, c.labels.boxes[t].x1);
      EXPECT_EQ(seq.boxes[t].y2, c.labels.boxes[t].y2);
    }
    // The JPEG frames hold the rendered pictures.
    for (size_t t : {size_t{0}, c.frames.size() - 1}) {
      absl::StatusOr<RgbImage> img = ReadImageFile(
          absl::StrFormat("%s/frames/%s/%06d.jpg", root, seq.id, t + 1));
      ASSERT_TRUE(img.ok()) << img.status();
      ASSERT_EQ(img->width, o.width);
      ASSERT_EQ(img->height, o.height);
      EXPECT_GT(Psnr(img->rgb, c.frames[t]), 28.0);
    }
    // The MPEG-4 conversion: one packet per frame, an I-frame every 12.
    const std::vector<bool> keys =
        KeyFrames(absl::StrCat(root, "/mpeg4_gop12/", seq.id, ".mp4"));
    ASSERT_EQ(keys.size(), c.frames.size());
    for (size_t t = 0; t < keys.size(); ++t)
      EXPECT_EQ(keys[t], t % 12 == 0) << t;
  }
  // The MPEG-4 files are the sequences' conversions: the cache keeps them.
  for (const PoseSequence& seq : data->sequences) {
    EXPECT_EQ(seq.cached_video,
              absl::StrCat(root, "/mpeg4_gop12/", seq.id, ".mp4"));
  }
  const std::string cache = TempDir("synth_cache");
  ASSERT_TRUE(CacheVideos(*data, {.cache_dir = cache}).ok());
  EXPECT_EQ(data->sequences[1].cached_video, root + "/mpeg4_gop12/0002.mp4");
  EXPECT_FALSE(fs::exists(cache));

  const nlohmann::json manifest =
      nlohmann::json::parse(*ReadFile(root + "/synthpose.json"));
  EXPECT_EQ(manifest["options"]["seed"], o.seed);
  ASSERT_EQ(manifest["clips"].size(), 2u);
  EXPECT_EQ(manifest["clips"][0]["id"], "0001");

  // Byte-identical output for the same seed.
  const std::string again = TempDir("synth_penn_again");
  ASSERT_TRUE(GenerateSynthPose(o, again).ok());
  const auto first = AllFiles(root), second = AllFiles(again);
  ASSERT_EQ(first.size(), second.size());
  for (const auto& [name, bytes] : first) {
    ASSERT_TRUE(second.count(name)) << name;
    EXPECT_TRUE(second.at(name) == bytes) << name << " differs";
  }
}

TEST(SynthPoseTest, JhmdbLayoutRoundTrips) {
  SynthPoseOptions o = Tiny();
  o.layout = SynthLayout::kJhmdb;
  o.num_clips = 3;
  o.write_videos = false;
  const std::string root = TempDir("synth_jhmdb");
  ASSERT_TRUE(GenerateSynthPose(o, root).ok());
  for (int split = 1; split <= 3; ++split) {
    SubJhmdbOptions jo;
    jo.split = split;
    absl::StatusOr<PoseDataset> data = LoadSubJhmdb(root, jo);
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_EQ(data->sequences.size(), 3u);
    for (const PoseSequence& seq : data->sequences) {
      const int clip = std::stoi(seq.id.substr(seq.id.size() - 4));
      const SynthClip c = Render(o, clip);
      EXPECT_EQ(seq.id,
                absl::StrCat(c.labels.action, "/synthpose_", c.labels.id));
      EXPECT_EQ(seq.joints, c.labels.joints);
      EXPECT_EQ(seq.width, o.width);
      // Boxes from the puppet mask equal the rendered boxes.
      for (size_t t = 0; t < seq.boxes.size(); ++t) {
        EXPECT_EQ(seq.boxes[t].x1, c.labels.boxes[t].x1);
        EXPECT_EQ(seq.boxes[t].y1, c.labels.boxes[t].y1);
        EXPECT_EQ(seq.boxes[t].x2, c.labels.boxes[t].x2);
        EXPECT_EQ(seq.boxes[t].y2, c.labels.boxes[t].y2);
      }
      EXPECT_FALSE(seq.frame_pattern.empty());
      if (split == 1) {
        EXPECT_EQ(seq.train, c.labels.train);
      }
      // PNG frames are lossless.
      absl::StatusOr<RgbImage> img =
          ReadImageFile(absl::StrFormat(seq.frame_pattern.c_str(), 1));
      ASSERT_TRUE(img.ok()) << img.status();
      EXPECT_EQ(img->rgb, c.frames[0]);
    }
  }
}

// --- The parts alone -------------------------------------------------------

// The draws of the motion stream.
void ExpectSameMotion(const synth::ClipPlan& a, const synth::ClipPlan& b) {
  ASSERT_EQ(a.num_frames, b.num_frames);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    const SynthSegment &x = a.segments[i], &y = b.segments[i];
    EXPECT_EQ(x.first_frame, y.first_frame) << i;
    EXPECT_EQ(x.num_frames, y.num_frames) << i;
    EXPECT_EQ(x.motion, y.motion) << i;
    EXPECT_EQ(x.fast, y.fast) << i;
    EXPECT_EQ(x.amplitude, y.amplitude) << i;
    EXPECT_EQ(x.rate, y.rate) << i;
  }
  EXPECT_EQ(a.variant, b.variant);
  EXPECT_EQ(a.phase0, b.phase0);
  EXPECT_EQ(a.yaw_target, b.yaw_target);
  EXPECT_EQ(a.turn_rate, b.turn_rate);
  EXPECT_EQ(a.initial_yaw, b.initial_yaw);
}

TEST(SynthPlanTest, SameSeedSamePlan) {
  const SynthPoseOptions o = Tiny();
  const synth::ClipPlan a = synth::MakePlan(o, 2);
  const synth::ClipPlan b = synth::MakePlan(o, 2);
  ExpectSameMotion(a, b);
  EXPECT_EQ(a.figure_scale, b.figure_scale);
  EXPECT_EQ(a.ground_y, b.ground_y);
  EXPECT_EQ(a.body.thigh, b.body.thigh);
  EXPECT_EQ(a.pan_phi[0], b.pan_phi[0]);
  EXPECT_EQ(a.drift_x, b.drift_x);
  EXPECT_EQ(a.train_split, b.train_split);
  EXPECT_EQ(a.noise_seed, b.noise_seed);
  EXPECT_NE(synth::MakePlan(o, 3).noise_seed, a.noise_seed);

  // Each group of draws has its own stream: the figure's and the scene's
  // knobs leave the motion, the camera and the splits as they were ...
  SynthPoseOptions look = o;
  look.body_variation = 0.3;
  look.texture_contrast = 0;
  look.figure_height = 0.5;
  look.background_contrast = 0.2;
  look.background_drift = 3;
  const synth::ClipPlan c = synth::MakePlan(look, 2);
  ExpectSameMotion(a, c);
  EXPECT_NE(c.figure_scale, a.figure_scale);
  EXPECT_EQ(c.pan_w[1], a.pan_w[1]);
  EXPECT_EQ(c.light_phi[2], a.light_phi[2]);
  EXPECT_EQ(c.train_split, a.train_split);
  EXPECT_EQ(c.noise_seed, a.noise_seed);
  // ... and the motion's knobs leave the figure, the scene and the camera.
  SynthPoseOptions motion = o;
  motion.fast_fraction = 1;
  motion.walk_weight = 5;
  motion.max_segment_frames = 12;
  const synth::ClipPlan d = synth::MakePlan(motion, 2);
  EXPECT_EQ(d.body.thigh, a.body.thigh);
  EXPECT_EQ(d.outfit.skin.r, a.outfit.skin.r);
  EXPECT_EQ(d.figure_scale, a.figure_scale);
  EXPECT_EQ(d.drift_y, a.drift_y);
  EXPECT_EQ(d.zoom_w[0], a.zoom_w[0]);
  EXPECT_EQ(d.noise_seed, a.noise_seed);
}

TEST(SynthPlanTest, SegmentsFollowTheKnobs) {
  SynthPoseOptions o = Tiny();
  o.stand_weight = o.jump_weight = o.arm_swing_weight = o.bend_weight = 0;
  for (double fraction : {0.0, 1.0}) {
    o.fast_fraction = fraction;
    const bool fast = fraction == 1.0;
    for (int clip = 1; clip <= 5; ++clip) {
      const synth::ClipPlan p = synth::MakePlan(o, clip);
      EXPECT_GE(p.num_frames, o.min_frames);
      EXPECT_LE(p.num_frames, o.max_frames);
      const size_t n = p.segments.size();
      ASSERT_GT(n, 0u);
      EXPECT_EQ(p.variant.size(), n);
      EXPECT_EQ(p.phase0.size(), n);
      EXPECT_EQ(p.yaw_target.size(), n);
      EXPECT_EQ(p.turn_rate.size(), n);
      int64_t next = 0;
      for (size_t i = 0; i < n; ++i) {
        const SynthSegment& s = p.segments[i];
        EXPECT_EQ(s.first_frame, next);
        next += s.num_frames;
        // Only the last segment may be cut short by the clip's end.
        EXPECT_LE(s.num_frames, o.max_segment_frames);
        if (i + 1 < n) {
          EXPECT_GE(s.num_frames, o.min_segment_frames);
        }
        EXPECT_GE(s.num_frames, 1);
        EXPECT_EQ(s.motion, SynthMotion::kWalk);
        EXPECT_EQ(s.fast, fast);
        EXPECT_GE(s.amplitude,
                  fast ? o.fast_amplitude_min : o.slow_amplitude_min);
        EXPECT_LE(s.amplitude,
                  fast ? o.fast_amplitude_max : o.slow_amplitude_max);
        const double rate = fast ? o.fast_rate : o.slow_rate;
        EXPECT_GE(s.rate, 0.8 * rate);
        EXPECT_LE(s.rate, 1.25 * rate);
      }
      EXPECT_EQ(next, p.num_frames);
    }
  }
}

TEST(SynthSimulateTest, CameraKeepsTheFigureInView) {
  SynthPoseOptions o = Tiny();
  o.min_frames = o.max_frames = 60;
  // A fast walker, a restless camera and strong lighting changes.
  o.fast_fraction = 1;
  o.walk_weight = 10;
  o.stride_length = 2;
  o.min_segment_frames = 30;
  o.max_segment_frames = 60;
  o.camera_pan = 20;
  o.camera_zoom = 0.45;
  o.lighting_change = 0.9;
  const double eps = 1e-9;
  double walked = 0;  // farthest from the start, pixels
  for (int clip = 1; clip <= 4; ++clip) {
    const synth::ClipPlan plan = synth::MakePlan(o, clip);
    const std::vector<synth::FrameState> states = synth::Simulate(o, plan);
    ASSERT_EQ(states.size(), static_cast<size_t>(plan.num_frames));
    EXPECT_EQ(states[0].root_x, 0);
    for (size_t t = 0; t < states.size(); ++t) {
      const synth::FrameState& f = states[t];
      const double root_px = plan.figure_scale * f.root_x;
      EXPECT_LE(std::abs(f.pan_x - root_px), 0.3 * o.width + eps) << t;
      EXPECT_GE(f.zoom, 1 - o.camera_zoom - eps);
      EXPECT_LE(f.zoom, 1 + o.camera_zoom + eps);
      EXPECT_GE(f.gain, 1 - o.lighting_change - eps);
      EXPECT_LE(f.gain, 1 + o.lighting_change + eps);
      walked = std::max(walked, std::abs(root_px));
      if (t > 0) {
        const double max_turn =
            *std::max_element(plan.turn_rate.begin(), plan.turn_rate.end()) /
            o.frame_rate;
        EXPECT_LE(std::abs(f.yaw - states[t - 1].yaw), max_turn + eps);
      }
      // So the pelvis, on the root's vertical, stays inside the frame.
      const synth::Skeleton3 s =
          synth::ForwardKinematics(plan.body, f.angles, f.yaw);
      const synth::Vec2 pelvis = synth::Projector{o, plan, f}(s.pelvis);
      EXPECT_GE(pelvis.x(), 0) << "clip " << clip << " frame " << t;
      EXPECT_LE(pelvis.x(), o.width - 1) << "clip " << clip << " frame " << t;
    }
  }
  // A figure walked out of the starting view: following mattered.
  EXPECT_GT(walked, 0.5 * o.width);
}

TEST(SynthDrawTest, FinishFrameAddsNoiseOfTheGivenSigma) {
  SynthPoseOptions o = Tiny();
  synth::ClipPlan plan;
  plan.noise_seed = 1234;
  const synth::FrameState f;  // gain 1, no tint
  synth::Canvas canvas(o.width, o.height);
  std::fill(canvas.rgb.begin(), canvas.rgb.end(), 0.5f);
  std::vector<uint8_t> out;
  o.noise_sigma = 0;
  synth::FinishFrame(o, plan, f, 0, canvas, out);
  ASSERT_EQ(out.size(), canvas.rgb.size());
  EXPECT_TRUE(
      std::all_of(out.begin(), out.end(), [](uint8_t v) { return v == 128; }));
  o.noise_sigma = 4;
  synth::FinishFrame(o, plan, f, 0, canvas, out);
  double sum = 0, sum2 = 0;
  for (uint8_t v : out) {
    sum += v;
    sum2 += static_cast<double>(v) * v;
  }
  const double mean = sum / out.size();
  const double sigma = std::sqrt(sum2 / out.size() - mean * mean);
  EXPECT_NEAR(mean, 127.5, 0.2);
  EXPECT_NEAR(sigma, 4.0, 0.2);
  // Fresh noise in every frame, the same for the same frame.
  std::vector<uint8_t> again, next;
  synth::FinishFrame(o, plan, f, 0, canvas, again);
  synth::FinishFrame(o, plan, f, 1, canvas, next);
  EXPECT_EQ(again, out);
  EXPECT_NE(next, out);
}

TEST(SynthLabelsTest, EveryJointHasAPoint) {
  for (const JointSet* set : {&PennActionJoints(), &JhmdbJoints()}) {
    std::vector<int> points;
    for (const std::string& name : set->joint_names) {
      const int point = synth::PointOfJoint(name);
      EXPECT_GE(point, 0) << name;
      EXPECT_LT(point, synth::kNumPoints) << name;
      points.push_back(point);
    }
    std::sort(points.begin(), points.end());
    EXPECT_EQ(std::unique(points.begin(), points.end()), points.end())
        << set->name << " names a point twice";
  }
  EXPECT_EQ(synth::PointOfJoint("l_wrist"), synth::kPtWrist + synth::kLeft);
  EXPECT_EQ(synth::PointOfJoint("r_ankle"), synth::kPtAnkle + synth::kRight);
  EXPECT_EQ(synth::PointOfJoint("nose"), -1);
  EXPECT_EQ(synth::PointOfJoint("x_knee"), -1);
  EXPECT_EQ(synth::PointOfJoint("l_toe"), -1);
  // Every point has a part of its own, and the background is nobody's.
  for (int point = 0; point < synth::kNumPoints; ++point) {
    bool own = false;
    for (int part = synth::kTorso; part <= synth::kFoot + 1; ++part)
      own |= synth::IsOwnPart(point, part);
    EXPECT_TRUE(own) << point;
    EXPECT_FALSE(synth::IsOwnPart(point, 0)) << point;
  }
}

TEST(SynthLabelsTest, MaskBoxAndVisibility) {
  synth::Canvas canvas(40, 30);
  std::vector<uint8_t> mask;
  EXPECT_FALSE(synth::FigureMask(canvas, mask).has_value());
  EXPECT_EQ(mask.size(), 40u * 30u);
  // A torso disc of radius 3 around (10, 12).
  synth::DrawDisc(canvas, synth::Vec2(10, 12), 3, synth::kTorso,
                  [](const synth::Vec2&) {
                    return synth::Rgb{1, 1, 1};
                  });
  const std::optional<Box> box = synth::FigureMask(canvas, mask);
  ASSERT_TRUE(box.has_value());
  EXPECT_EQ(box->x1, 7);
  EXPECT_EQ(box->x2, 14);
  EXPECT_EQ(box->y1, 9);
  EXPECT_EQ(box->y2, 16);
  EXPECT_EQ(mask[12 * 40 + 10], 1);
  EXPECT_EQ(mask[12 * 40 + 20], 0);

  synth::DrawnFigure fig;
  fig.points.fill(synth::Vec2(10, 12));
  fig.depth.fill(0);
  const int belly = synth::kPtBelly;
  const int wrist = synth::kPtWrist + synth::kLeft;
  const int hip = synth::kPtHip + synth::kRight;
  // The torso is the belly's own part but hides a wrist.
  EXPECT_TRUE(synth::IsPointVisible(canvas, fig, belly, true));
  EXPECT_FALSE(synth::IsPointVisible(canvas, fig, wrist, true));
  EXPECT_TRUE(synth::IsPointVisible(canvas, fig, wrist, false));
  // A hip on the torso counts unless it is on the chest's far side.
  EXPECT_TRUE(synth::IsPointVisible(canvas, fig, hip, true));
  fig.depth[hip] = -0.1;
  EXPECT_FALSE(synth::IsPointVisible(canvas, fig, hip, true));
  // Outside the frame nothing is visible.
  fig.points[belly] = synth::Vec2(-0.6, 12);
  EXPECT_FALSE(synth::IsPointVisible(canvas, fig, belly, false));
  fig.points[belly] = synth::Vec2(39.2, 29);
  EXPECT_FALSE(synth::IsPointVisible(canvas, fig, belly, false));
}

TEST(SynthLabelsTest, ActionAndViewpoint) {
  std::vector<SynthSegment> segments(3);
  segments[0] = {0, 10, SynthMotion::kJump};
  segments[1] = {10, 8, SynthMotion::kWalk};
  segments[2] = {18, 8, SynthMotion::kWalk};
  EXPECT_EQ(synth::MainMotion(segments), SynthMotion::kWalk);
  segments[2].motion = SynthMotion::kBend;
  EXPECT_EQ(synth::MainMotion(segments), SynthMotion::kJump);

  const double pi = synth::kPi;
  EXPECT_EQ(synth::PoseName(0), "front");
  EXPECT_EQ(synth::PoseName(0.2 + 2 * pi), "front");
  EXPECT_EQ(synth::PoseName(pi), "back");
  EXPECT_EQ(synth::PoseName(-0.9 * pi), "back");
  EXPECT_EQ(synth::PoseName(pi / 2), "right");
  EXPECT_EQ(synth::PoseName(-pi / 2), "left");
}

}  // namespace
}  // namespace mapn
