#include "mapn/train/pose_windows.h"

#include <ATen/ATen.h>

#include <chrono>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/video_cache.h"
#include "mapn/video/ffmpeg_stream_source.h"

namespace mapn::train {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t WindowBytes(const GopWindow& w) {
  int64_t bytes = 0;
  for (const at::Tensor* t :
       {&w.rgb, &w.motion, &w.intra, &w.residual_y, &w.residual_uv, &w.valid}) {
    if (t->defined()) bytes += static_cast<int64_t>(t->nbytes());
  }
  return bytes;
}

// The windows of one sequence, from a decode-only pass.
absl::Status IndexSequence(const PoseSequence& seq, int sequence,
                           const PoseWindowsOptions& options,
                           std::vector<WindowInfo>* out) {
  FfmpegStreamSourceOptions reader;
  reader.window_length = options.window_length;
  reader.export_motion = false;
  reader.compute_residual = false;
  MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                        FfmpegStreamSource::Open(seq.cached_video, reader));
  std::vector<WindowInfo> windows;
  std::vector<FrameMeta> frames;
  while (true) {
    MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
    if (!window) break;
    WindowInfo info;
    info.sequence = sequence;
    info.window_index = window->window_index;
    info.num_valid = window->num_valid;
    for (const FrameMeta& f : window->frames) {
      info.frames.push_back(f.type == FrameType::kPadding ? -1 : f.index);
      if (f.type != FrameType::kPadding) frames.push_back(f);
    }
    windows.push_back(std::move(info));
  }
  const std::string where =
      absl::StrCat("sequence '", seq.id, "' (", seq.cached_video, ")");
  if (static_cast<int64_t>(frames.size()) != seq.num_frames) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": the video has ", frames.size(),
                     " frames but the labels have ", seq.num_frames));
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].index != static_cast<int64_t>(i)) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": decoded frame ", i, " has index ", frames[i].index,
          " (the stream must start with an I-frame and drop nothing)"));
    }
  }
  const std::vector<int64_t> starts = GopStarts(frames);
  absl::StatusOr<std::vector<Box>> boxes =
      GopBoxes(seq.boxes, starts, options.crop);
  if (!boxes.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": ", boxes.status().message()));
  }
  for (WindowInfo& info : windows) {
    size_t g = 0;
    while (g + 1 < starts.size() && starts[g + 1] <= info.frames[0]) ++g;
    info.crop_box = (*boxes)[g];
    out->push_back(std::move(info));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePoseWindowsOptions(const PoseWindowsOptions& o) {
  if (o.input_size < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("input_size must be >= 8, got ", o.input_size));
  }
  if (o.window_length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("window_length must be >= 1, got ", o.window_length));
  }
  if (o.cache_megabytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cache_megabytes must be >= 0, got ", o.cache_megabytes));
  }
  if (!(o.crop.scale > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("crop scale must be positive, got ", o.crop.scale));
  }
  return absl::OkStatus();
}

struct PoseWindows::State {
  PoseDataset dataset;
  PoseWindowsOptions options;
  std::vector<WindowInfo> windows;
  std::vector<int> flip;  // JointSet::FlipPermutation
  int64_t valid_frames = 0;
  Stats stats;

  // The open reader: the sequence it reads and the stream index of the
  // window its next Next() returns.
  int cursor_sequence = -1;
  int64_t cursor_next = 0;
  std::optional<FfmpegStreamSource> cursor;

  // LRU cache of decoded windows, most recent first.
  std::list<int64_t> lru;
  struct Entry {
    GopWindow window;
    std::list<int64_t>::iterator position;
    int64_t bytes = 0;
  };
  std::unordered_map<int64_t, Entry> cache;
  int64_t cached_bytes = 0;
  // Window id by (sequence, stream index), to file windows the reader
  // passes on the way.
  std::vector<std::vector<int64_t>> ids_by_sequence;

  void Remember(int64_t id, const GopWindow& window) {
    const int64_t limit = options.cache_megabytes << 20;
    const int64_t bytes = WindowBytes(window);
    if (bytes > limit || cache.count(id)) return;
    while (cached_bytes + bytes > limit && !lru.empty()) {
      const int64_t victim = lru.back();
      lru.pop_back();
      cached_bytes -= cache[victim].bytes;
      cache.erase(victim);
    }
    lru.push_front(id);
    cache[id] = Entry{window, lru.begin(), bytes};
    cached_bytes += bytes;
  }
};

PoseWindows::PoseWindows(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
PoseWindows::PoseWindows(PoseWindows&&) noexcept = default;
PoseWindows& PoseWindows::operator=(PoseWindows&&) noexcept = default;
PoseWindows::~PoseWindows() = default;

absl::StatusOr<PoseWindows> PoseWindows::Create(
    PoseDataset dataset, const PoseWindowsOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidatePoseWindowsOptions(options));
  auto state = std::make_unique<State>();
  state->options = options;
  if (dataset.sequences.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset '", dataset.name, "' at '", dataset.root,
                     "' has no sequences (check the root and the split)"));
  }
  const int joints = dataset.joints.num_joints();
  for (PoseSequence& seq : dataset.sequences) {
    MAPN_RETURN_IF_ERROR(seq.Validate());
    if (seq.num_joints != joints) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sequence '", seq.id, "' has ", seq.num_joints, " joints but the ",
          dataset.joints.name, " joint set has ", joints));
    }
    if (seq.cached_video.empty()) {
      if (options.video_cache_dir.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "sequence '", seq.id, "' of '", dataset.name,
            "' has no MPEG-4 conversion; set video_cache_dir (--cache_dir) "
            "so that one is made"));
      }
      MAPN_RETURN_IF_ERROR(EnsureCachedVideo(
          dataset, seq,
          VideoCacheOptions{.cache_dir = options.video_cache_dir}));
    }
  }
  state->flip = dataset.joints.FlipPermutation();
  state->ids_by_sequence.resize(dataset.sequences.size());
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    const size_t first = state->windows.size();
    MAPN_RETURN_IF_ERROR(IndexSequence(
        dataset.sequences[s], static_cast<int>(s), options, &state->windows));
    for (size_t id = first; id < state->windows.size(); ++id) {
      const WindowInfo& info = state->windows[id];
      if (info.window_index !=
          static_cast<int64_t>(state->ids_by_sequence[s].size())) {
        return absl::InternalError(
            absl::StrCat("sequence '", dataset.sequences[s].id,
                         "': the reader returned window ", info.window_index,
                         " out of order"));
      }
      state->ids_by_sequence[s].push_back(static_cast<int64_t>(id));
      state->valid_frames += info.num_valid;
    }
  }
  state->dataset = std::move(dataset);
  return PoseWindows(std::move(state));
}

int64_t PoseWindows::size() const {
  return static_cast<int64_t>(state_->windows.size());
}
const WindowInfo& PoseWindows::window(int64_t id) const {
  return state_->windows.at(static_cast<size_t>(id));
}
const PoseDataset& PoseWindows::dataset() const { return state_->dataset; }
const PoseWindowsOptions& PoseWindows::options() const {
  return state_->options;
}
int64_t PoseWindows::num_joints() const {
  return state_->dataset.joints.num_joints();
}
int64_t PoseWindows::valid_frames() const { return state_->valid_frames; }

absl::Status PoseWindows::CheckFits(int64_t input_size, int64_t joints) const {
  if (size() == 0) return absl::InvalidArgumentError("there are no windows");
  if (options().input_size != input_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the windows are ", options().input_size, " x ", options().input_size,
        " but the model's input_size is ", input_size));
  }
  if (num_joints() != joints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the dataset has ", num_joints(), " joints (", dataset().joints.name,
        ") but the model predicts ", joints));
  }
  return absl::OkStatus();
}
const PoseWindows::Stats& PoseWindows::stats() const { return state_->stats; }

absl::StatusOr<GopWindow> PoseWindows::SourceWindow(int64_t id) {
  State& s = *state_;
  if (id < 0 || id >= size()) {
    return absl::OutOfRangeError(
        absl::StrCat("window ", id, " requested; the set has ", size()));
  }
  if (auto it = s.cache.find(id); it != s.cache.end()) {
    s.lru.splice(s.lru.begin(), s.lru, it->second.position);
    ++s.stats.cache_hits;
    return it->second.window;
  }
  const WindowInfo& info = s.windows[static_cast<size_t>(id)];
  const PoseSequence& seq =
      s.dataset.sequences[static_cast<size_t>(info.sequence)];
  const Clock::time_point start = Clock::now();
  if (!s.cursor || s.cursor_sequence != info.sequence ||
      s.cursor_next > info.window_index) {
    s.cursor.reset();
    FfmpegStreamSourceOptions reader;
    reader.window_length = s.options.window_length;
    MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                          FfmpegStreamSource::Open(seq.cached_video, reader));
    s.cursor.emplace(std::move(source));
    s.cursor_sequence = info.sequence;
    s.cursor_next = 0;
    ++s.stats.reader_opens;
  }
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> next = s.cursor->Next();
    if (!next.ok() || !next->has_value()) {
      s.cursor.reset();
      s.cursor_sequence = -1;
      s.stats.decode_seconds += SecondsSince(start);
      if (!next.ok()) return next.status();
      return absl::DataLossError(absl::StrCat(
          "sequence '", seq.id, "' ended before window ", info.window_index,
          " while it was being decoded again (was '", seq.cached_video,
          "' replaced?)"));
    }
    GopWindow window = std::move(**next);
    const int64_t index = s.cursor_next++;
    ++s.stats.windows_decoded;
    const auto& ids = s.ids_by_sequence[static_cast<size_t>(info.sequence)];
    if (index >= static_cast<int64_t>(ids.size()) ||
        window.num_valid !=
            s.windows[static_cast<size_t>(ids[static_cast<size_t>(index)])]
                .num_valid) {
      s.cursor.reset();
      s.cursor_sequence = -1;
      return absl::DataLossError(absl::StrCat(
          "sequence '", seq.id, "': window ", index,
          " differs from the first pass over '", seq.cached_video, "'"));
    }
    const int64_t window_id = ids[static_cast<size_t>(index)];
    if (s.options.cache_megabytes > 0) s.Remember(window_id, window);
    if (index == info.window_index) {
      s.stats.decode_seconds += SecondsSince(start);
      return window;
    }
  }
}

absl::StatusOr<PoseBatch> PoseWindows::Batch(
    std::span<const int64_t> ids, std::span<const AugmentDraw> augment) {
  if (ids.empty()) return absl::InvalidArgumentError("Batch() of no windows");
  if (!augment.empty() && augment.size() != ids.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Batch() got ", augment.size(), " augmentation draws for ",
                     ids.size(), " windows"));
  }
  State& s = *state_;
  const int size = s.options.input_size;
  const int64_t t_len = s.options.window_length;
  const int64_t joints = num_joints();
  const int64_t b = static_cast<int64_t>(ids.size());

  PoseBatch batch;
  batch.joints = at::zeros({b, t_len, joints, 2}, at::kFloat);
  batch.visible = at::zeros({b, t_len, joints}, at::kFloat);
  auto joints_out = batch.joints.accessor<float, 4>();
  auto visible_out = batch.visible.accessor<float, 3>();
  std::vector<ResampledWindow> crops;
  crops.reserve(ids.size());
  for (int64_t i = 0; i < b; ++i) {
    const int64_t id = ids[static_cast<size_t>(i)];
    MAPN_ASSIGN_OR_RETURN(GopWindow source, SourceWindow(id));
    const Clock::time_point start = Clock::now();
    const WindowInfo& info = s.windows[static_cast<size_t>(id)];
    const PoseSequence& seq =
        s.dataset.sequences[static_cast<size_t>(info.sequence)];
    const AugmentDraw draw =
        augment.empty() ? AugmentDraw{} : augment[static_cast<size_t>(i)];
    const Affine2D map = BoxToSquare(info.crop_box, size)
                             .Compose(AugmentationAffine(draw, size));
    const std::optional<Affine2D> inverse = map.Inverse();
    if (!inverse) {
      return absl::InvalidArgumentError(
          absl::StrCat("sequence '", seq.id, "' window ", info.window_index,
                       ": its crop box is degenerate"));
    }
    MAPN_ASSIGN_OR_RETURN(ResampledWindow crop,
                          ResampleWindow(source, map, size));
    crops.push_back(std::move(crop));
    for (int64_t t = 0; t < t_len; ++t) {
      const int64_t f = info.frames[static_cast<size_t>(t)];
      if (f < 0 || f >= seq.num_frames) continue;
      for (int j = 0; j < joints; ++j) {
        const int src = draw.flip ? s.flip[static_cast<size_t>(j)] : j;
        double qx, qy;
        inverse->Apply(seq.x(f, src), seq.y(f, src), &qx, &qy);
        joints_out[i][t][j][0] = static_cast<float>(qx);
        joints_out[i][t][j][1] = static_cast<float>(qy);
        visible_out[i][t][j] = seq.is_visible(f, src) ? 1.0f : 0.0f;
      }
    }
    batch.window_ids.push_back(id);
    batch.output_to_source.push_back(map);
    batch.augment.push_back(draw);
    s.stats.crop_seconds += SecondsSince(start);
  }
  const Clock::time_point start = Clock::now();
  MAPN_ASSIGN_OR_RETURN(batch.inputs, ToGopBatch(crops));
  s.stats.crop_seconds += SecondsSince(start);
  return batch;
}

}  // namespace mapn::train
