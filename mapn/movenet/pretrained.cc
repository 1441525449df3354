#include "mapn/movenet/pretrained.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/compositions.h"
#include "mapn/movenet/movenet.h"

namespace mapn::movenet {

absl::StatusOr<model::AnyPipeline> PretrainedMoveNet(
    const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  MAPN_RETURN_IF_ERROR(options.Validate());
  MAPN_ASSIGN_OR_RETURN(MoveNet net, LoadMoveNet(options));
  model::PerFrameMoveNet pipeline(options.input_size(), net.encoder,
                                  model::PassThrough(), model::AlwaysExtract(),
                                  net.head);
  pipeline->eval();
  return model::AnyPipeline(std::move(pipeline),
                            std::string(model::PerFrameMoveNet::kName));
}

absl::StatusOr<model::AnyPipeline> MoveNetMapnFromPretrained(
    const std::string& variant, model::ConvLstmOptions lstm,
    const model::LearnedGateOptions& gate) {
  const MoveNetOptions options{.variant = variant};
  MAPN_RETURN_IF_ERROR(options.Validate());
  MAPN_ASSIGN_OR_RETURN(MoveNet net, LoadMoveNet(options));
  if (lstm.in_channels == 0) lstm.in_channels = net.encoder->channels();
  MAPN_RETURN_IF_ERROR(lstm.Validate());
  MAPN_RETURN_IF_ERROR(gate.Validate());
  model::MoveNetMapn pipeline(options.input_size(), net.encoder,
                              model::MotionWarpConvLstm(lstm),
                              model::ResidualGate(gate), net.head);
  pipeline->eval();
  return model::AnyPipeline(std::move(pipeline),
                            std::string(model::MoveNetMapn::kName));
}

const std::vector<std::string>& PretrainedModelNames() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"movenet_thunder", "movenet_lightning"};
  return *names;
}

absl::StatusOr<model::AnyPipeline> PretrainedModel(const std::string& name) {
  if (name == "movenet_thunder") return PretrainedMoveNet(kThunder);
  if (name == "movenet_lightning") return PretrainedMoveNet(kLightning);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown pretrained model '", name, "'; expected one of ",
                   absl::StrJoin(PretrainedModelNames(), ", ")));
}

}  // namespace mapn::movenet
