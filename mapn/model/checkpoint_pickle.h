// File: checkpoint_pickle.h
//
// The pickled dictionaries behind checkpoint.h, for the two file kinds that
// hold a model: checkpoints (here) and training states
// (mapn/train/training_state.cc, which nests a checkpoint's dictionary
// under "model"). Not for other users: the layout is the files' business.
//
// Example:
//
//   c10::impl::GenericDict top = CheckpointDict(model_file);
//   MAPN_RETURN_IF_ERROR(WritePickleFile(path, c10::IValue(top),
//                                        "training state"));
#ifndef MAPN_MODEL_CHECKPOINT_PICKLE_H_
#define MAPN_MODEL_CHECKPOINT_PICKLE_H_

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/checkpoint.h"

namespace mapn::model {

using c10::impl::GenericDict;

// A str -> tensor dict of detached, contiguous CPU copies.
GenericDict TensorDict(const std::vector<NamedTensor>& tensors);

// The entries of a str -> tensor dict; InvalidArgument naming `what`.
absl::StatusOr<std::vector<NamedTensor>> ParseTensorDict(
    const c10::IValue& dict, std::string_view what);

// dict[key], or None.
c10::IValue DictGet(const GenericDict& dict, const char* key);

// Whether `top` is a dict whose "format" is `format`.
bool HasFormat(const c10::IValue& top, std::string_view format);

// A checkpoint's dictionary (format, version, type, composition, options,
// tensors), and back; ParseCheckpointDict reads versions 1 and 2.
GenericDict CheckpointDict(const ModelFile& model);
absl::StatusOr<ModelFile> ParseCheckpointDict(const c10::IValue& top,
                                              const std::string& path);

// The model of an unpickled checkpoint or training state (ReadModelFile
// without the reading).
absl::StatusOr<ModelFile> ParseModelFile(const c10::IValue& top,
                                         const std::string& path);

// The file at `path` unpickled, or an error naming it.
absl::StatusOr<c10::IValue> LoadPickleFile(const std::string& path);

// `top` pickled and written atomically; `what` names the kind of file.
absl::Status WritePickleFile(const std::string& path, const c10::IValue& top,
                             std::string_view what);

}  // namespace mapn::model

#endif  // MAPN_MODEL_CHECKPOINT_PICKLE_H_
