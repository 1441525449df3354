#include "mapn/video/test_clips.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/mpeg4_headers.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace mapn::testing {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kWaves = 8;

struct Wave {
  double fx, fy, phase, amplitude;
};

}  // namespace

at::Tensor MakeFrames(const ClipSpec& spec) {
  std::mt19937 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Wave waves[3][kWaves];
  for (auto& channel : waves) {
    for (Wave& w : channel) {
      const double period = 6.0 + 34.0 * unit(rng);
      const double angle = 2.0 * kPi * unit(rng);
      w.fx = std::cos(angle) / period;
      w.fy = std::sin(angle) / period;
      w.phase = 2.0 * kPi * unit(rng);
      w.amplitude = 12.0 + 6.0 * unit(rng);
    }
  }
  const int64_t n = spec.frames, h = spec.height, wd = spec.width;
  at::Tensor out = at::empty({n, 3, h, wd}, at::kByte);
  uint8_t* data = out.data_ptr<uint8_t>();
  std::vector<double> sx(static_cast<size_t>(wd)), cx(sx.size());
  std::vector<double> sy(static_cast<size_t>(h)), cy(sy.size());
  std::vector<double> acc(static_cast<size_t>(h * wd));
  for (int64_t t = 0; t < n; ++t) {
    const double ox = static_cast<double>(t) * spec.dx;
    const double oy = static_cast<double>(t) * spec.dy;
    for (int c = 0; c < 3; ++c) {
      std::fill(acc.begin(), acc.end(), 128.0);
      for (const Wave& w : waves[c]) {
        // sin(a + b) = sin a cos b + cos a sin b, a from x, b from y.
        for (int64_t x = 0; x < wd; ++x) {
          const double a =
              2.0 * kPi * w.fx * (static_cast<double>(x) - ox) + w.phase;
          sx[static_cast<size_t>(x)] = std::sin(a);
          cx[static_cast<size_t>(x)] = std::cos(a);
        }
        for (int64_t y = 0; y < h; ++y) {
          const double b = 2.0 * kPi * w.fy * (static_cast<double>(y) - oy);
          sy[static_cast<size_t>(y)] = std::sin(b) * w.amplitude;
          cy[static_cast<size_t>(y)] = std::cos(b) * w.amplitude;
        }
        for (int64_t y = 0; y < h; ++y) {
          double* row = acc.data() + y * wd;
          const double s = sy[static_cast<size_t>(y)],
                       co = cy[static_cast<size_t>(y)];
          for (int64_t x = 0; x < wd; ++x) {
            row[x] += sx[static_cast<size_t>(x)] * co +
                      cx[static_cast<size_t>(x)] * s;
          }
        }
      }
      uint8_t* plane = data + (t * 3 + c) * h * wd;
      for (int64_t i = 0; i < h * wd; ++i) {
        plane[i] = static_cast<uint8_t>(
            std::clamp(std::lround(acc[static_cast<size_t>(i)]), 0L, 255L));
      }
    }
  }
  return out;
}

absl::Status WriteClip(const std::string& path, const at::Tensor& frames,
                       const VideoWriterOptions& options) {
  absl::StatusOr<std::unique_ptr<VideoWriter>> writer =
      VideoWriter::Open(path, static_cast<int>(frames.size(3)),
                        static_cast<int>(frames.size(2)), options);
  if (!writer.ok()) return writer.status();
  for (int64_t i = 0; i < frames.size(0); ++i) {
    absl::Status s = (*writer)->WriteFrame(frames[i]);
    if (!s.ok()) return s;
  }
  return (*writer)->Close();
}

VideoWriterOptions Mpeg4Options(int gop_size) {
  VideoWriterOptions o;
  o.codec = "mpeg4";
  o.gop_size = gop_size;
  o.max_b_frames = 0;
  o.qscale = 1;
  return o;
}

VideoWriterOptions H264Options(int gop_size, int b_frames) {
  VideoWriterOptions o;
  o.codec = "libx264";
  o.gop_size = gop_size;
  o.max_b_frames = b_frames;
  o.qscale = 0;
  o.codec_options = {
      {"preset", "medium"}, {"crf", "18"}, {"x264-params", "ref=1:weightp=0"}};
  return o;
}

std::string TestPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

absl::StatusOr<std::string> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

std::string MakeWav() {
  constexpr uint32_t kRate = 8000, kBytes = kRate * 2;
  std::string wav;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i)
      wav.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto u16 = [&](uint16_t v) {
    wav.push_back(static_cast<char>(v & 0xFF));
    wav.push_back(static_cast<char>(v >> 8));
  };
  wav += "RIFF";
  u32(36 + kBytes);
  wav += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(kRate);
  u32(kRate * 2);  // byte rate
  u16(2);          // block align
  u16(16);         // bits per sample
  wav += "data";
  u32(kBytes);
  wav.append(kBytes, '\0');
  return wav;
}

absl::Status MuxStreams(const std::vector<std::string>& inputs,
                        const std::string& output, int default_stream) {
  QuietFfmpegLogging();
  std::vector<UniqueInputFormatContext> in;
  for (const std::string& path : inputs) {
    AVFormatContext* f = nullptr;
    if (int ret = avformat_open_input(&f, path.c_str(), nullptr, nullptr);
        ret < 0) {
      return AvError(ret, absl::StrCat("opening '", path, "'"));
    }
    in.emplace_back(f);
    if (int ret = avformat_find_stream_info(f, nullptr); ret < 0) {
      return AvError(ret, absl::StrCat("probing '", path, "'"));
    }
  }
  AVFormatContext* raw_out = nullptr;
  if (int ret = avformat_alloc_output_context2(&raw_out, nullptr, nullptr,
                                               output.c_str());
      ret < 0) {
    return AvError(ret, absl::StrCat("creating '", output, "'"));
  }
  UniqueOutputFormatContext out(raw_out);
  std::vector<std::vector<int>> map(in.size());  // input stream -> output
  for (size_t k = 0; k < in.size(); ++k) {
    for (unsigned i = 0; i < in[k]->nb_streams; ++i) {
      const AVStream* src = in[k]->streams[i];
      AVStream* dst = avformat_new_stream(out.get(), nullptr);
      if (dst == nullptr) return absl::ResourceExhaustedError("out of memory");
      if (int ret = avcodec_parameters_copy(dst->codecpar, src->codecpar);
          ret < 0) {
        return AvError(ret, "copying stream parameters");
      }
      dst->codecpar->codec_tag = 0;
      dst->time_base = src->time_base;
      dst->disposition =
          dst->index == default_stream ? AV_DISPOSITION_DEFAULT : 0;
      map[k].push_back(dst->index);
    }
  }
  AVDictionary* options = nullptr;
  // Matroska would otherwise mark the first track of each type default.
  av_dict_set(&options, "default_mode", "passthrough", 0);
  if (int ret = avio_open(&out->pb, output.c_str(), AVIO_FLAG_WRITE); ret < 0) {
    av_dict_free(&options);
    return AvError(ret, absl::StrCat("writing '", output, "'"));
  }
  int ret = avformat_write_header(out.get(), &options);
  av_dict_free(&options);
  if (ret < 0) return AvError(ret, absl::StrCat("writing '", output, "'"));
  // Inputs in turn, one packet each, so the streams interleave.
  UniqueAVPacket packet(av_packet_alloc());
  std::vector<bool> done(in.size(), false);
  for (size_t left = in.size(); left > 0;) {
    for (size_t k = 0; k < in.size(); ++k) {
      if (done[k]) continue;
      ret = av_read_frame(in[k].get(), packet.get());
      if (ret < 0) {
        done[k] = true;
        --left;
        continue;
      }
      const AVStream* src = in[k]->streams[packet->stream_index];
      AVStream* dst = out->streams[map[k][packet->stream_index]];
      av_packet_rescale_ts(packet.get(), src->time_base, dst->time_base);
      packet->stream_index = dst->index;
      packet->pos = -1;
      ret = av_interleaved_write_frame(out.get(), packet.get());
      av_packet_unref(packet.get());
      if (ret < 0) return AvError(ret, absl::StrCat("writing '", output, "'"));
    }
  }
  ret = av_write_trailer(out.get());
  if (ret < 0) return AvError(ret, absl::StrCat("finishing '", output, "'"));
  return absl::OkStatus();
}

std::vector<size_t> FindVopStarts(const std::string& bytes) {
  std::vector<size_t> starts;
  for (size_t i = 0; i + 3 < bytes.size(); ++i) {
    if (bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1 &&
        static_cast<uint8_t>(bytes[i + 3]) == 0xB6) {
      starts.push_back(i);
    }
  }
  return starts;
}

void Scramble(std::string& bytes, size_t offset, size_t count) {
  const size_t end = std::min(bytes.size(), offset + count);
  for (size_t i = offset; i < end; ++i) {
    bytes[i] = static_cast<char>((i * 7919u) ^ 0x5A);
  }
}

absl::StatusOr<std::string> PatchMpeg4Size(std::string stream, int width,
                                           int height) {
  const auto* data = reinterpret_cast<const uint8_t*>(stream.data());
  const std::optional<Mpeg4Vol> vol = FindMpeg4Vol(data, stream.size());
  if (!vol || !vol->has_size) {
    return absl::InvalidArgumentError("no rectangular MPEG-4 VOL header found");
  }
  auto write13 = [&](int64_t bit, int value) {
    for (int i = 0; i < 13; ++i, ++bit) {
      const int v = (value >> (12 - i)) & 1;
      char& byte = stream[static_cast<size_t>(bit >> 3)];
      const int shift = 7 - static_cast<int>(bit & 7);
      byte = static_cast<char>((static_cast<uint8_t>(byte) & ~(1 << shift)) |
                               (v << shift));
    }
  };
  write13(vol->width_bit_offset, width);
  write13(vol->height_bit_offset, height);
  return stream;
}

absl::StatusOr<NpyInt32> ReadNpyInt32(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadBytes(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& b = *bytes;
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a .npy file"));
  }
  const int major = static_cast<uint8_t>(b[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(b[8]) |
                 (static_cast<size_t>(static_cast<uint8_t>(b[9])) << 8);
    offset = 10;
  } else {
    if (b.size() < 12) return absl::InvalidArgumentError("short .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<size_t>(static_cast<uint8_t>(b[8 + i]))
                    << (8 * i);
    }
    offset = 12;
  }
  if (offset + header_len > b.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': truncated header"));
  }
  const std::string header = b.substr(offset, header_len);
  if (header.find("'descr': '<i4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not little-endian int32 in C order: ", header));
  }
  const size_t open = header.find('(', header.find("'shape'"));
  const size_t close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': no shape"));
  }
  NpyInt32 out;
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string item;
  int64_t count = 1;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    out.shape.push_back(std::stoll(item));
    count *= out.shape.back();
  }
  const size_t data_offset = offset + header_len;
  if (b.size() - data_offset != static_cast<size_t>(count) * 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': ", b.size() - data_offset,
                     " data bytes for ", count, " int32 values"));
  }
  out.data.resize(static_cast<size_t>(count));
  if (count > 0) {  // I-frames have (0, 10) arrays: nothing to copy
    std::memcpy(out.data.data(), b.data() + data_offset,
                b.size() - data_offset);
  }
  return out;
}

absl::StatusOr<int64_t> CheckBlockMotion(
    const GopWindow& window,
    const std::vector<std::vector<MotionVector>>& vectors) {
  const int64_t t_len = window.length();
  const int64_t hb = window.blocks_high(), wb = window.blocks_wide();
  if (!window.motion.defined() || !window.intra.defined() ||
      window.motion.sizes().vec() != std::vector<int64_t>{t_len, 2, hb, wb} ||
      window.intra.sizes().vec() != std::vector<int64_t>{t_len, 1, hb, wb}) {
    return absl::FailedPreconditionError(
        absl::StrCat("motion / intra are not on the ", wb, "x", hb,
                     " block grid of ", t_len, " frames"));
  }
  if (static_cast<int64_t>(vectors.size()) != t_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(vectors.size(), " vector lists for ", t_len, " frames"));
  }
  const at::Tensor motion = window.motion.contiguous();
  const at::Tensor intra = window.intra.contiguous();
  const int64_t cells = hb * wb;
  int64_t checked = 0;
  for (int64_t t = 0; t < window.num_valid; ++t) {
    if (window.frames[static_cast<size_t>(t)].type != FrameType::kP) continue;
    std::vector<float> dx(static_cast<size_t>(cells), 0.0f);
    std::vector<float> dy(static_cast<size_t>(cells), 0.0f);
    std::vector<char> is_intra(static_cast<size_t>(cells), 1);
    for (const MotionVector& mv : vectors[static_cast<size_t>(t)]) {
      if (mv.source >= 0) continue;
      const int64_t x0 = int64_t{mv.dst_x} - mv.w / 2;
      const int64_t y0 = int64_t{mv.dst_y} - mv.h / 2;
      for (int64_t y = std::max<int64_t>(0, y0 / kMotionBlock);
           y < std::min(hb, (y0 + mv.h) / kMotionBlock); ++y) {
        for (int64_t x = std::max<int64_t>(0, x0 / kMotionBlock);
             x < std::min(wb, (x0 + mv.w) / kMotionBlock); ++x) {
          dx[static_cast<size_t>(y * wb + x)] = mv.dx();
          dy[static_cast<size_t>(y * wb + x)] = mv.dy();
          is_intra[static_cast<size_t>(y * wb + x)] = 0;
        }
      }
      ++checked;
    }
    const float* got = motion.data_ptr<float>() + t * 2 * cells;
    const bool* got_intra = intra.data_ptr<bool>() + t * cells;
    for (int64_t i = 0; i < cells; ++i) {
      const size_t k = static_cast<size_t>(i);
      if (got[i] != dx[k] || got[cells + i] != dy[k] ||
          got_intra[i] != (is_intra[k] != 0)) {
        return absl::InternalError(
            absl::StrCat("frame ", t, " block (", i % wb, ", ", i / wb,
                         ") holds (", got[i], ", ", got[cells + i], ", intra ",
                         got_intra[i], ") but its vectors say (", dx[k], ", ",
                         dy[k], ", intra ", is_intra[k] != 0, ")"));
      }
    }
  }
  return checked;
}

}  // namespace mapn::testing

// LeakSanitizer (--config=asan): libx265 3.5, which the tests use only to
// write HEVC clips, leaks about 2.7 kB inside x265::FrameFilter::init per
// encoder; mapn frees the encoder through avcodec_free_context. Only that
// library is exempt. Without LeakSanitizer this function is never called.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libx265.so\n";
}
