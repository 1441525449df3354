// File: pretrained.h
//
// Google's pretrained MoveNet as a ready pipeline: the "movenet"
// composition (model/compositions.h: MoveNet's encoder and head on every
// frame) of a variant, with the weights imported from the TF.js graph model
// that tools/setup.sh puts in the model cache. This is what `mapn estimate
// --model movenet_thunder` runs, and the encoder and head that other
// compositions (the motion-warped ConvLSTM and a gate between them) start
// from.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(model::AnyPipeline movenet,
//                         PretrainedMoveNet(kThunder));
//   MAPN_ASSIGN_OR_RETURN(PoseTrack track,
//                         EstimatePoses(movenet, source, options));
#ifndef MAPN_MOVENET_PRETRAINED_H_
#define MAPN_MOVENET_PRETRAINED_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/model/any_pipeline.h"

namespace mapn::movenet {

// The per-frame pipeline of `variant` ("thunder" or "lightning") with its
// pretrained weights, in eval mode. NotFound saying which command fetches
// the models when the cache lacks them; InvalidArgument for another
// variant.
absl::StatusOr<model::AnyPipeline> PretrainedMoveNet(
    const std::string& variant);

// The names `mapn estimate --model` takes: "movenet_thunder",
// "movenet_lightning".
const std::vector<std::string>& PretrainedModelNames();

// PretrainedMoveNet of a name of PretrainedModelNames(); InvalidArgument
// listing them for any other.
absl::StatusOr<model::AnyPipeline> PretrainedModel(const std::string& name);

}  // namespace mapn::movenet

#endif  // MAPN_MOVENET_PRETRAINED_H_
