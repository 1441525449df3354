// File: image_file.h
//
// Single image files through libavcodec (no other image library): JPEG with
// FFmpeg's mjpeg encoder for SynthPose's Penn Action frames, PNG for its
// JHMDB-layout frames, and decoding of either for tests and tools. Files are
// written atomically.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(ImageEncoder jpeg,
//                         ImageEncoder::Create(ImageCodec::kJpeg, 320, 240));
//   MAPN_RETURN_IF_ERROR(jpeg.Write("frames/0001/000001.jpg", rgb.data()));
//   MAPN_ASSIGN_OR_RETURN(RgbImage back,
//   ReadImageFile("frames/0001/000001.jpg"));
#ifndef MAPN_DATA_IMAGE_FILE_H_
#define MAPN_DATA_IMAGE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

enum class ImageCodec : uint8_t { kJpeg, kPng };

// Encodes frames of one size; one encoder serves a whole clip.
class ImageEncoder {
 public:
  // `jpeg_quality` is the mjpeg quantiser, 1 (best) to 31; PNG ignores it.
  static absl::StatusOr<ImageEncoder> Create(ImageCodec codec, int width,
                                             int height, int jpeg_quality = 2);
  ImageEncoder(ImageEncoder&&) noexcept;
  ImageEncoder& operator=(ImageEncoder&&) noexcept;
  ~ImageEncoder();

  // `rgb`: width * height * 3 bytes, rows without padding.
  absl::StatusOr<std::string> Encode(const uint8_t* rgb);
  absl::Status Write(const std::string& path, const uint8_t* rgb);

 private:
  struct State;
  explicit ImageEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

// Decodes the first frame of an image (or video) file to RGB24.
absl::StatusOr<RgbImage> ReadImageFile(const std::string& path);

}  // namespace mapn

#endif  // MAPN_DATA_IMAGE_FILE_H_
