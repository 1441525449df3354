// File: png.h
//
// PNG files from and to uint8 image tensors, through libpng's simplified
// API. Writing is atomic (mapn/core/atomic_file.h): a reader never sees half
// a PNG.
//
// Example:
//
//   at::Tensor image = ...;  // uint8 [3, H, W], RGB
//   MAPN_RETURN_IF_ERROR(WritePng("frame.png", image));
//   MAPN_ASSIGN_OR_RETURN(at::Tensor back, ReadPng("frame.png"));
#ifndef MAPN_VIZ_PNG_H_
#define MAPN_VIZ_PNG_H_

#include <ATen/core/Tensor.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

// PNG bytes of a uint8 image [3, H, W] (RGB) or [1, H, W] / [H, W] (grey).
absl::StatusOr<std::string> EncodePng(const at::Tensor& image);

// Writes EncodePng(image) to `path` atomically.
absl::Status WritePng(const std::string& path, const at::Tensor& image);

// Reads a PNG as uint8 [3, H, W] RGB (grey and palette images expanded,
// alpha dropped).
absl::StatusOr<at::Tensor> ReadPng(const std::string& path);

}  // namespace mapn

#endif  // MAPN_VIZ_PNG_H_
