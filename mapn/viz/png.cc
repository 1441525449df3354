#include "mapn/viz/png.h"

#include <ATen/ops/empty.h>
#include <png.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mapn/core/atomic_file.h"

namespace mapn {

absl::StatusOr<std::string> EncodePng(const at::Tensor& image) {
  if (!image.defined() || image.scalar_type() != at::kByte ||
      (image.dim() != 2 && image.dim() != 3) ||
      (image.dim() == 3 && image.size(0) != 1 && image.size(0) != 3)) {
    return absl::InvalidArgumentError(
        "a PNG image must be uint8 [3, H, W], [1, H, W] or [H, W]");
  }
  const at::Tensor chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t channels = chw.size(0), h = chw.size(1), w = chw.size(2);
  if (h < 1 || w < 1 || h > (1 << 20) || w > (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write a ", w, "x", h, " PNG"));
  }
  // libpng wants interleaved rows.
  const at::Tensor hwc = chw.cpu().permute({1, 2, 0}).contiguous();
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(w);
  png.height = static_cast<png_uint_32>(h);
  png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&png, nullptr, &size, 0,
                                 hwc.data_ptr<uint8_t>(), 0, nullptr)) {
    return absl::InternalError(
        absl::StrCat("PNG encoding failed: ", png.message));
  }
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &size, 0,
                                 hwc.data_ptr<uint8_t>(), 0, nullptr)) {
    return absl::InternalError(
        absl::StrCat("PNG encoding failed: ", png.message));
  }
  out.resize(size);
  return out;
}

absl::Status WritePng(const std::string& path, const at::Tensor& image) {
  absl::StatusOr<std::string> bytes = EncodePng(image);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("'", path, "': ", bytes.status().message()));
  }
  return WriteFileAtomically(path, *bytes);
}

absl::StatusOr<at::Tensor> ReadPng(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes->data(), bytes->size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a PNG: ", png.message));
  }
  png.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, rgb.data(), 0, nullptr)) {
    png_image_free(&png);
    return absl::DataLossError(
        absl::StrCat("'", path, "' is a damaged PNG: ", png.message));
  }
  const int64_t h = png.height, w = png.width;
  at::Tensor out = at::empty({3, h, w}, at::kByte);
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < h * w; ++i) {
    for (int c = 0; c < 3; ++c)
      o[c * h * w + i] = rgb[static_cast<size_t>(3 * i + c)];
  }
  return out;
}

}  // namespace mapn
