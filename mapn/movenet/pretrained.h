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
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"

namespace mapn::movenet {

// The per-frame pipeline of `variant` ("thunder" or "lightning") with its
// pretrained weights, in eval mode. NotFound saying which command fetches
// the models when the cache lacks them; InvalidArgument for another
// variant.
absl::StatusOr<model::AnyPipeline> PretrainedMoveNet(
    const std::string& variant);

// MAPN on MoveNet (the "movenet_mapn" composition) of `variant`: the
// pretrained encoder and head, a new motion-warped ConvLSTM over the
// encoder's 24 channels and a new residual gate (their weights from
// LibTorch's generator: seed it first), in eval mode. With h0 = c0 = x0
// (eq. 3) its first frame of every window equals per-frame MoveNet's; the
// ConvLSTM and the gate have to be trained (distilled from per-frame
// MoveNet) before the frames in between mean anything.
absl::StatusOr<model::AnyPipeline> MoveNetMapnFromPretrained(
    const std::string& variant, model::ConvLstmOptions lstm = {},
    const model::LearnedGateOptions& gate = {});

// The names `mapn estimate --model` takes: "movenet_thunder",
// "movenet_lightning".
const std::vector<std::string>& PretrainedModelNames();

// PretrainedMoveNet of a name of PretrainedModelNames(); InvalidArgument
// listing them for any other.
absl::StatusOr<model::AnyPipeline> PretrainedModel(const std::string& name);

}  // namespace mapn::movenet

#endif  // MAPN_MOVENET_PRETRAINED_H_
