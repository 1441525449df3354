// File: mpeg4_headers.h
//
// Reads the few MPEG-4 Part 2 header fields that FFmpeg decodes but does not
// export: the VOP's rounding_type, without which half-pel motion
// compensation cannot reproduce the decoder's prediction exactly (FFmpeg's
// own encoder flips it on every P-VOP), and the VOL's picture size and where
// it is stored (tests rewrite it to make streams with odd or zero
// dimensions). Syntax after ISO/IEC 14496-2, 6.2.3 and 6.2.5; fields of
// scalable, sprite and NEWPRED layers are not followed (such streams get no
// rounding information and fall back to rounding_type 0).
//
// Example:
//
//   std::optional<Mpeg4Vol> vol = FindMpeg4Vol(extradata, extradata_size);
//   std::optional<Mpeg4Vop> vop = FindMpeg4Vop(packet->data, packet->size,
//                                              *vol);
//   bool no_rounding = vop && vop->rounding_type;
#ifndef MAPN_VIDEO_MPEG4_HEADERS_H_
#define MAPN_VIDEO_MPEG4_HEADERS_H_

#include <cstddef>
#include <cstdint>
#include <optional>

namespace mapn {

struct Mpeg4Vol {
  int verid = 1;
  int shape = 0;  // 0 rectangular, 2 binary only
  int time_increment_resolution = 0;
  int time_increment_bits = 1;
  bool has_size = false;  // rectangular layers store the size
  int width = 0;
  int height = 0;
  // Bit offsets (from the start of the searched buffer) of the 13-bit
  // width and height fields; -1 without a size.
  int64_t width_bit_offset = -1;
  int64_t height_bit_offset = -1;
};

struct Mpeg4Vop {
  int coding_type = 0;  // 0 I, 1 P, 2 B, 3 S(prite)
  bool coded = true;    // false: a not-coded VOP (no picture)
  bool rounding_type = false;
};

// The first video object layer header in `data` (start codes 0x120-0x12F).
std::optional<Mpeg4Vol> FindMpeg4Vol(const uint8_t* data, size_t size);

// The first VOP header in `data` (start code 0x1B6), read with the layer's
// time_increment_bits.
std::optional<Mpeg4Vop> FindMpeg4Vop(const uint8_t* data, size_t size,
                                     const Mpeg4Vol& vol);

}  // namespace mapn

#endif  // MAPN_VIDEO_MPEG4_HEADERS_H_
