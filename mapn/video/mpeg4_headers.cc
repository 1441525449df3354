#include "mapn/video/mpeg4_headers.h"

namespace mapn {
namespace {

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size, size_t start_byte)
      : data_(data),
        size_bits_(static_cast<int64_t>(size) * 8),
        pos_(static_cast<int64_t>(start_byte) * 8) {}

  uint32_t Read(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= size_bits_) {
        overrun_ = true;
        return 0;
      }
      const int bit = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
      v = (v << 1) | static_cast<uint32_t>(bit);
      ++pos_;
    }
    return v;
  }
  int64_t position() const { return pos_; }
  bool overrun() const { return overrun_; }

 private:
  const uint8_t* data_;
  int64_t size_bits_;
  int64_t pos_;
  bool overrun_ = false;
};

// Offset of the byte after the first 00 00 01 xx start code with
// lo <= xx <= hi, or -1.
int64_t FindStartCode(const uint8_t* data, size_t size, uint8_t lo,
                      uint8_t hi) {
  for (size_t i = 0; i + 3 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 &&
        data[i + 3] >= lo && data[i + 3] <= hi) {
      return static_cast<int64_t>(i) + 4;
    }
  }
  return -1;
}

}  // namespace

std::optional<Mpeg4Vol> FindMpeg4Vol(const uint8_t* data, size_t size) {
  if (data == nullptr) return std::nullopt;
  const int64_t start = FindStartCode(data, size, 0x20, 0x2F);
  if (start < 0) return std::nullopt;
  BitReader bits(data, size, static_cast<size_t>(start));
  Mpeg4Vol vol;
  bits.Read(1);                                  // random_accessible_vol
  const uint32_t object_type = bits.Read(8);     // video_object_type_indication
  if (object_type == 0x12) return std::nullopt;  // fine granularity scalable
  if (bits.Read(1)) {                            // is_object_layer_identifier
    vol.verid = static_cast<int>(bits.Read(4));
    bits.Read(3);  // priority
  }
  if (bits.Read(4) == 0xF) bits.Read(16);  // aspect ratio, extended PAR
  if (bits.Read(1)) {                      // vol_control_parameters
    bits.Read(3);                          // chroma_format, low_delay
    if (bits.Read(1)) bits.Read(79);       // vbv_parameters
  }
  vol.shape = static_cast<int>(bits.Read(2));
  if (vol.shape == 3 && vol.verid != 1) bits.Read(4);
  bits.Read(1);  // marker
  vol.time_increment_resolution = static_cast<int>(bits.Read(16));
  if (vol.time_increment_resolution <= 0) return std::nullopt;
  // FFmpeg: av_log2(resolution - 1) + 1, at least 1.
  int n = 0;
  for (uint32_t r = static_cast<uint32_t>(vol.time_increment_resolution - 1);
       r != 0; r >>= 1) {
    ++n;
  }
  vol.time_increment_bits = n < 1 ? 1 : n;
  bits.Read(1);                                          // marker
  if (bits.Read(1)) bits.Read(vol.time_increment_bits);  // fixed_vop_rate
  if (vol.shape == 0) {
    bits.Read(1);
    vol.width_bit_offset = bits.position();
    vol.width = static_cast<int>(bits.Read(13));
    bits.Read(1);
    vol.height_bit_offset = bits.position();
    vol.height = static_cast<int>(bits.Read(13));
    vol.has_size = true;
  }
  if (bits.overrun()) return std::nullopt;
  return vol;
}

std::optional<Mpeg4Vop> FindMpeg4Vop(const uint8_t* data, size_t size,
                                     const Mpeg4Vol& vol) {
  if (data == nullptr) return std::nullopt;
  const int64_t start = FindStartCode(data, size, 0xB6, 0xB6);
  if (start < 0) return std::nullopt;
  BitReader bits(data, size, static_cast<size_t>(start));
  Mpeg4Vop vop;
  vop.coding_type = static_cast<int>(bits.Read(2));
  // modulo_time_base: ones ended by a zero; bounded against garbage.
  for (int i = 0; i < 64 && bits.Read(1) == 1 && !bits.overrun(); ++i) {
  }
  bits.Read(1);  // marker
  bits.Read(vol.time_increment_bits);
  bits.Read(1);  // marker
  vop.coded = bits.Read(1) == 1;
  if (vop.coded && vol.shape != 2 && vop.coding_type == 1) {
    vop.rounding_type = bits.Read(1) == 1;
  }
  if (bits.overrun()) return std::nullopt;
  return vop;
}

}  // namespace mapn
