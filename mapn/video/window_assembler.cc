#include "mapn/video/window_assembler.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace mapn {

WindowAssembler::WindowAssembler(int64_t window_length, int64_t height,
                                 int64_t width, WindowContents contents)
    : length_(std::max<int64_t>(window_length, 1)),
      height_(height),
      width_(width),
      blocks_(MotionBlocks(height) * MotionBlocks(width)),
      chroma_(((height + 1) / 2) * ((width + 1) / 2)),
      contents_(contents),
      pool_(&TensorPool::Default()) {
  // Room for two windows: one the consumer still holds while the next one
  // is filled.
  const int64_t pixels = height_ * width_;
  const int64_t frame_bytes =
      3 * pixels +
      (contents.motion ? blocks_ * (2 * sizeof(float) + sizeof(bool)) : 0) +
      (contents.residual ? (pixels + 2 * chroma_) * sizeof(int16_t) : 0);
  pool_->Reserve(2 * static_cast<size_t>(length_ * frame_bytes));
}

void WindowAssembler::StartWindow(int64_t window_in_gop) {
  GopWindow w;
  w.window_index = next_window_index_++;
  w.window_in_gop = window_in_gop;
  w.frames.assign(static_cast<size_t>(length_), FrameMeta{});
  const int64_t t = length_, h = height_, wd = width_;
  w.rgb = pool_->Empty({t, 3, h, wd}, at::kByte);
  if (contents_.motion) {
    const int64_t hb = MotionBlocks(h), wb = MotionBlocks(wd);
    w.motion = pool_->Empty({t, 2, hb, wb}, at::kFloat);
    w.intra = pool_->Empty({t, 1, hb, wb}, at::kBool);
  }
  if (contents_.residual) {
    w.residual_y = pool_->Empty({t, 1, h, wd}, at::kShort);
    w.residual_uv = pool_->Empty({t, 2, (h + 1) / 2, (wd + 1) / 2}, at::kShort);
  }
  w.valid = pool_->Empty({t}, at::kBool);
  std::fill_n(w.valid.data_ptr<bool>(), t, false);
  current_ = std::move(w);
  filled_ = 0;
}

std::optional<GopWindow> WindowAssembler::Add(const FrameMeta& meta) {
  std::optional<GopWindow> done;
  if (meta.type == FrameType::kI) {
    if (current_) done = Close();
    StartWindow(0);
  } else if (!current_) {
    StartWindow(0);
  } else if (filled_ == length_) {
    const int64_t in_gop = current_->window_in_gop + 1;
    done = Close();
    StartWindow(in_gop);
  }
  GopWindow& w = *current_;
  const int64_t t = filled_++;
  FrameMeta stored = meta;
  stored.starts_gop = meta.type == FrameType::kI;
  w.frames[static_cast<size_t>(t)] = stored;
  w.num_valid = filled_;
  w.valid.data_ptr<bool>()[t] = true;

  const int64_t plane = height_ * width_;
  slot_ = FrameSlot{};
  slot_.t = t;
  uint8_t* rgb = w.rgb.data_ptr<uint8_t>() + t * 3 * plane;
  for (int c = 0; c < 3; ++c) slot_.rgb[c] = rgb + c * plane;
  if (w.motion.defined()) {
    float* motion = w.motion.data_ptr<float>() + t * 2 * blocks_;
    slot_.motion[0] = motion;
    slot_.motion[1] = motion + blocks_;
    slot_.intra = w.intra.data_ptr<bool>() + t * blocks_;
  }
  if (w.has_residual()) {
    slot_.residual[0] = w.residual_y.data_ptr<int16_t>() + t * plane;
    slot_.residual[1] = w.residual_uv.data_ptr<int16_t>() + t * 2 * chroma_;
    slot_.residual[2] = slot_.residual[1] + chroma_;
  }
  return done;
}

void WindowAssembler::FillNoMotion(bool intra) {
  const size_t blocks = static_cast<size_t>(blocks_);
  if (slot_.motion[0] != nullptr) {
    std::fill_n(slot_.motion[0], 2 * blocks, 0.0f);
    std::fill_n(slot_.intra, blocks, intra);
  }
  ClearResidual();
}

void WindowAssembler::ClearResidual() {
  if (slot_.residual[0] == nullptr) return;
  std::fill_n(slot_.residual[0], height_ * width_, int16_t{0});
  std::fill_n(slot_.residual[1], 2 * chroma_, int16_t{0});
}

void WindowAssembler::Discard() {
  if (!current_) return;
  current_.reset();
  --next_window_index_;  // the dropped window's index is reused
  filled_ = 0;
  slot_ = FrameSlot{};
}

GopWindow WindowAssembler::Close() {
  GopWindow w = std::move(*current_);
  current_.reset();
  const int64_t t0 = filled_;
  if (t0 < length_) {
    // Padding frames: everything zero, intra false, valid false.
    const int64_t plane = height_ * width_;
    std::memset(w.rgb.data_ptr<uint8_t>() + t0 * 3 * plane, 0,
                static_cast<size_t>((length_ - t0) * 3 * plane));
    if (w.motion.defined()) {
      std::fill_n(w.motion.data_ptr<float>() + t0 * 2 * blocks_,
                  (length_ - t0) * 2 * blocks_, 0.0f);
      std::fill_n(w.intra.data_ptr<bool>() + t0 * blocks_,
                  (length_ - t0) * blocks_, false);
    }
    if (w.has_residual()) {
      std::fill_n(w.residual_y.data_ptr<int16_t>() + t0 * plane,
                  (length_ - t0) * plane, int16_t{0});
      std::fill_n(w.residual_uv.data_ptr<int16_t>() + t0 * 2 * chroma_,
                  (length_ - t0) * 2 * chroma_, int16_t{0});
    }
  }
  filled_ = 0;
  slot_ = FrameSlot{};
  return w;
}

std::optional<GopWindow> WindowAssembler::Finish() {
  if (!current_) return std::nullopt;
  return Close();
}

}  // namespace mapn
