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
      contents_(contents),
      pool_(&TensorPool::Default()) {
  // Room for two windows: one the consumer still holds while the next one
  // is filled.
  pool_->Reserve(
      2 * static_cast<size_t>(length_ * height_ * width_) *
      (3 + (contents.motion ? 9 : 0) + (contents.residual ? 12 : 0)));
}

void WindowAssembler::StartWindow(int64_t window_in_gop) {
  GopWindow w;
  w.window_index = next_window_index_++;
  w.window_in_gop = window_in_gop;
  w.frames.assign(static_cast<size_t>(length_), FrameMeta{});
  const int64_t t = length_, h = height_, wd = width_;
  w.rgb = pool_->Empty({t, 3, h, wd}, at::kByte);
  if (contents_.motion) {
    w.motion = pool_->Empty({t, 2, h, wd}, at::kFloat);
    w.intra = pool_->Empty({t, 1, h, wd}, at::kBool);
  }
  if (contents_.residual) w.residual = pool_->Empty({t, 3, h, wd}, at::kFloat);
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
    float* motion = w.motion.data_ptr<float>() + t * 2 * plane;
    slot_.motion[0] = motion;
    slot_.motion[1] = motion + plane;
    slot_.intra = w.intra.data_ptr<bool>() + t * plane;
  }
  if (w.residual.defined()) {
    float* residual = w.residual.data_ptr<float>() + t * 3 * plane;
    for (int c = 0; c < 3; ++c) slot_.residual[c] = residual + c * plane;
  }
  return done;
}

void WindowAssembler::FillNoMotion(bool intra) {
  const size_t plane = static_cast<size_t>(height_ * width_);
  if (slot_.motion[0] != nullptr) {
    std::fill_n(slot_.motion[0], 2 * plane, 0.0f);
    std::fill_n(slot_.intra, plane, intra);
  }
  if (slot_.residual[0] != nullptr) {
    std::fill_n(slot_.residual[0], 3 * plane, 0.0f);
  }
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
      std::fill_n(w.motion.data_ptr<float>() + t0 * 2 * plane,
                  (length_ - t0) * 2 * plane, 0.0f);
      std::fill_n(w.intra.data_ptr<bool>() + t0 * plane, (length_ - t0) * plane,
                  false);
    }
    if (w.residual.defined()) {
      std::fill_n(w.residual.data_ptr<float>() + t0 * 3 * plane,
                  (length_ - t0) * 3 * plane, 0.0f);
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
