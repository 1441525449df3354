// File: state_dict_file.h
//
// Reads the tensors of a file written by Python's torch.save(state_dict)
// (PyTorch >= 1.6 zip format), without Python. LibTorch 1.13's own
// torch::pickle_load cannot read such files: it turns the
// collections.OrderedDict that every state_dict is into None and then fails.
// This reader implements the small part of the pickle protocol torch.save
// emits (protocol 2: dicts, tuples, lists, strings, numbers, the
// OrderedDict and tensor-rebuilding globals, persistent storage ids) over a
// zip reader for the stored (uncompressed) entries torch.save writes, with
// CRC checks. Anything else is an error that names the opcode or global.
//
// The top-level object may be the state_dict itself or a dict holding it
// under "state_dict" or "model" (training checkpoints). Tensors come back in
// file order, contiguous, on the CPU, with the file's dtype.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors,
//                         ReadStateDictFile("resnet18-f37072fd.pth"));
//   for (const auto& [name, tensor] : tensors) { ... }
#ifndef MAPN_MODEL_STATE_DICT_FILE_H_
#define MAPN_MODEL_STATE_DICT_FILE_H_

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::model {

using NamedTensor = std::pair<std::string, at::Tensor>;

absl::StatusOr<std::vector<NamedTensor>> ReadStateDictFile(
    const std::string& path);

// The same from the file's bytes; `path` is only used in messages.
absl::StatusOr<std::vector<NamedTensor>> ParseStateDict(
    const std::string& bytes, const std::string& path);

}  // namespace mapn::model

#endif  // MAPN_MODEL_STATE_DICT_FILE_H_
