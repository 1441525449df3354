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
#include "mapn/model/composition.h"
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

// Any composition of `table` whose extractor and head are MoveNet's
// ("movenet", "movenet_mapn", "movenet_fixed", ...) of `variant`, built from
// its defaults overridden by `settings` ("policy.interval=3", as
// ApplyOptionOverride takes them; the variant and input size are set here),
// with the pretrained encoder and head and, for the other components,
// weights from LibTorch's generator; in eval mode. InvalidArgument for a
// composition without MoveNet's parts.
absl::StatusOr<model::AnyPipeline> MoveNetCompositionFromPretrained(
    const model::CompositionTable& table, const std::string& composition,
    const std::string& variant, const std::vector<std::string>& settings = {});

// The variant of `model`'s MoveNet encoder, or empty when its extractor is
// not MoveNet's.
std::string MoveNetVariantOf(const model::AnyPipeline& model);

// The dotted prefixes of the tensors a MoveNet composition takes from the
// pretrained model: the encoder's and the head's.
inline constexpr char kPretrainedEncoderPrefix[] = "extractor.";
inline constexpr char kPretrainedHeadPrefix[] = "head.";

// Writes a checkpoint of a MoveNet composition without the tensors whose
// names start with one of `pretrained_prefixes` (the untouched pretrained
// encoder and head, 9 MB for Lightning and 27 MB for Thunder), which
// LoadOnPretrained takes from the model cache: what `mapn distill` writes,
// so that a distilled ConvLSTM and gate are a few hundred kilobytes.
absl::Status SaveOnPretrained(
    const model::AnyPipeline& model, const std::string& path,
    const std::vector<std::string>& pretrained_prefixes);

// Loads any checkpoint: one of a MoveNet composition gets the pretrained
// encoder and head first (from the model cache), then every tensor the file
// has over them, so a file may leave out the encoder's and the head's
// tensors (and only those); any other file loads as model::LoadPipeline
// does. Errors name the file.
absl::StatusOr<model::AnyPipeline> LoadOnPretrained(
    const std::string& path, const model::CompositionTable& table,
    const std::vector<std::string>& overrides = {});

// The names `mapn estimate --model` takes: "movenet_thunder",
// "movenet_lightning".
const std::vector<std::string>& PretrainedModelNames();

// PretrainedMoveNet of a name of PretrainedModelNames(); InvalidArgument
// listing them for any other.
absl::StatusOr<model::AnyPipeline> PretrainedModel(const std::string& name);

}  // namespace mapn::movenet

#endif  // MAPN_MOVENET_PRETRAINED_H_
