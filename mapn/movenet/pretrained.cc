#include "mapn/movenet/pretrained.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/compositions.h"
#include "mapn/model/options_json.h"
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
                              model::MotionWarpResetConvLstm(lstm),
                              model::ResidualGate(gate), net.head);
  pipeline->eval();
  return model::AnyPipeline(std::move(pipeline),
                            std::string(model::MoveNetMapn::kName));
}

namespace {

bool StartsWithAny(const std::string& name,
                   const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) {
    if (absl::StartsWith(name, p)) return true;
  }
  return false;
}

// The pretrained encoder and head of `variant` copied into `model`'s.
absl::Status ImportPretrainedParts(const model::AnyPipeline& model,
                                   const std::string& variant,
                                   const std::string& what) {
  MAPN_ASSIGN_OR_RETURN(MoveNet net, LoadMoveNet({.variant = variant}));
  std::vector<model::NamedTensor> tensors;
  for (const auto& [prefix, module] :
       {std::pair<std::string, torch::nn::Module*>{kPretrainedEncoderPrefix,
                                                   net.encoder.get()},
        {kPretrainedHeadPrefix, net.head.get()}}) {
    for (const model::NamedTensor& t : model::ModuleTensors(*module)) {
      tensors.emplace_back(prefix + t.first, t.second);
    }
  }
  model::TensorMatching matching;
  matching.may_be_absent = [](const std::string& name) {
    return !StartsWithAny(name,
                          {kPretrainedEncoderPrefix, kPretrainedHeadPrefix});
  };
  return model::AssignTensors(model.module(), tensors, what, matching).status();
}

}  // namespace

std::string MoveNetVariantOf(const model::AnyPipeline& model) {
  const auto* encoder =
      dynamic_cast<const MoveNetEncoderImpl*>(&model.extractor());
  const auto* head = dynamic_cast<const MoveNetHeadImpl*>(&model.head());
  if (encoder == nullptr || head == nullptr) return "";
  return encoder->options().variant;
}

absl::StatusOr<model::AnyPipeline> MoveNetCompositionFromPretrained(
    const model::CompositionTable& table, const std::string& composition,
    const std::string& variant, const std::vector<std::string>& settings) {
  const MoveNetOptions options{.variant = variant};
  MAPN_RETURN_IF_ERROR(options.Validate());
  MAPN_ASSIGN_OR_RETURN(const model::CompositionEntry* entry,
                        table.Get(composition));
  if (entry->components[0] != MoveNetEncoderImpl::TypeName() ||
      entry->components[3] != MoveNetHeadImpl::TypeName()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "composition '", composition, "' (",
        absl::StrJoin(entry->components, " + "),
        ") does not have MoveNet's encoder and head, nor its 17 COCO joints; "
        "the compositions that do start with 'movenet'"));
  }
  model::PipelineOptionValues values;
  for (const std::string& s : settings) {
    MAPN_RETURN_IF_ERROR(model::ApplyOptionOverride(s, values));
  }
  for (const std::string& s :
       {absl::StrCat("extractor.variant=", variant),
        absl::StrCat("head.variant=", variant),
        absl::StrCat("input_size=", options.input_size())}) {
    MAPN_RETURN_IF_ERROR(model::ApplyOptionOverride(s, values));
  }
  MAPN_ASSIGN_OR_RETURN(model::AnyPipeline model,
                        table.Create(composition, values));
  MAPN_RETURN_IF_ERROR(ImportPretrainedParts(
      model, variant, absl::StrCat("pretrained MoveNet ", variant)));
  model.module().eval();
  return model;
}

absl::Status SaveOnPretrained(
    const model::AnyPipeline& model, const std::string& path,
    const std::vector<std::string>& pretrained_prefixes) {
  if (MoveNetVariantOf(model).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SaveOnPretrained: ", model.composition(),
                     " does not have MoveNet's encoder and head"));
  }
  std::vector<model::NamedTensor> kept;
  for (model::NamedTensor& t : model::ModuleTensors(model.module())) {
    if (!StartsWithAny(t.first, pretrained_prefixes)) kept.push_back(t);
  }
  return model::WriteCheckpoint(
      path, model::ModelFile{.type_name = model.type_name(),
                             .composition = model.composition(),
                             .options_json = model.options_json(),
                             .tensors = std::move(kept)});
}

absl::StatusOr<model::AnyPipeline> LoadOnPretrained(
    const std::string& path, const model::CompositionTable& table,
    const std::vector<std::string>& overrides) {
  MAPN_ASSIGN_OR_RETURN(model::ModelFile file, model::ReadModelFile(path));
  const std::string what = absl::StrCat("checkpoint '", path, "'");
  const model::CompositionEntry* entry =
      file.composition.empty() ? nullptr : table.Find(file.composition);
  if (entry == nullptr || entry->type_name != file.type_name ||
      !absl::StrContains(file.type_name, "MoveNetEncoder")) {
    return model::LoadPipeline(path, table, overrides);
  }
  MAPN_ASSIGN_OR_RETURN(model::PipelineOptionValues values,
                        model::ParsePipelineOptions(file.options_json, what));
  for (const std::string& assignment : overrides) {
    MAPN_RETURN_IF_ERROR(model::ApplyOptionOverride(assignment, values));
  }
  MAPN_ASSIGN_OR_RETURN(model::AnyPipeline model, entry->create(values, what));
  const std::string variant = MoveNetVariantOf(model);
  if (variant.empty()) return model::LoadPipeline(path, table, overrides);
  MAPN_RETURN_IF_ERROR(ImportPretrainedParts(
      model, variant,
      absl::StrCat("pretrained MoveNet ", variant, " (for ", what, ")")));
  model::TensorMatching matching;
  matching.may_be_absent = [](const std::string& name) {
    return StartsWithAny(name,
                         {kPretrainedEncoderPrefix, kPretrainedHeadPrefix});
  };
  MAPN_RETURN_IF_ERROR(
      model::AssignTensors(model.module(), file.tensors, what, matching)
          .status());
  model.module().eval();
  return model;
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
