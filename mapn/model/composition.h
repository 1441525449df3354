// File: composition.h
//
// Named compositions and the tables that make them reachable at run time.
//
// Composition<"name", E, P, S, H> is a Pipeline<E, P, S, H> (pipeline.h)
// that carries its name as a compile-time constant, kName. The paper's
// model and its ablations are such types (compositions.h); so is any
// composition a user writes.
//
// A CompositionTable lists compositions for the code that chooses one by
// name or learns it from a file: the command line, training, evaluation,
// estimation and the experiments. Nothing registers itself: a table is
// built from types, explicitly, and handed to whatever needs it, so a
// composition a user defines in their own program loads, trains, evaluates
// and estimates through the same paths as the built-in ones:
//
//   using MaskPipeline = Composition<"foreground_mask", TinyExtractor,
//                                    MotionWarpConvLstm, ResidualEnergyGate,
//                                    ForegroundMaskHead>;
//   CompositionTable table = DefaultCompositions();     // compositions.h
//   MAPN_RETURN_IF_ERROR(table.Add<MaskPipeline>());
//   MAPN_ASSIGN_OR_RETURN(AnyPipeline model, table.Create("foreground_mask"));
//   MAPN_RETURN_IF_ERROR(model.Save("mask.ckpt"));
//   MAPN_ASSIGN_OR_RETURN(AnyPipeline back, LoadPipeline("mask.ckpt", table));
//
// Typed, for code that knows its composition:
//
//   MAPN_RETURN_IF_ERROR(SaveModel("mapn.ckpt", model));
//   MAPN_ASSIGN_OR_RETURN(Mapn loaded, LoadModel<Mapn>("mapn.ckpt"));
#ifndef MAPN_MODEL_COMPOSITION_H_
#define MAPN_MODEL_COMPOSITION_H_

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/concepts.h"
#include "mapn/model/options_json.h"
#include "mapn/model/pipeline.h"

namespace mapn::model {

// A string literal as a template argument: Composition<"mapn", ...>.
template <size_t N>
struct CompositionName {
  // NOLINTNEXTLINE(google-explicit-constructor): written as a literal.
  constexpr CompositionName(const char (&text)[N]) {
    std::copy_n(text, N, chars);
  }
  constexpr std::string_view view() const { return {chars, N - 1}; }
  char chars[N];
};

template <CompositionName kNameText, FeatureExtractor Extractor,
          StatePropagator Propagator, SkipPolicy Policy, HeatmapHead Head>
class Composition : public Pipeline<Extractor, Propagator, Policy, Head> {
 public:
  using Base = Pipeline<Extractor, Propagator, Policy, Head>;
  static constexpr std::string_view kName = kNameText.view();

  using Base::Base;
  // NOLINTNEXTLINE(google-explicit-constructor): the same pipeline, named.
  Composition(Base pipeline) : Base(std::move(pipeline)) {}
};

// A pipeline type that carries its name.
template <typename C>
concept NamedComposition = PipelineModel<C> && requires {
  { C::kName } -> std::convertible_to<std::string_view>;
};

// What a table knows of one composition, with its type erased.
struct CompositionEntry {
  std::string name;       // "mapn"
  std::string type_name;  // "Pipeline<SimpleBaselineEncoder, ...>"
  std::array<std::string, 4> components;  // extractor ... head
  bool learned_policy = false;
  bool causal = false;
  // The composition's default options as named values.
  PipelineOptionValues defaults;
  // Builds it from option values (those not given keep their defaults);
  // `what` names their source in messages.
  std::function<absl::StatusOr<AnyPipeline>(const PipelineOptionValues&,
                                            const std::string& what)>
      create;
};

class CompositionTable {
 public:
  CompositionTable() = default;

  // A table of the given compositions, in order (names must differ).
  template <NamedComposition... Cs>
  static CompositionTable Of() {
    CompositionTable table;
    (table.entries_.push_back(EntryOf<Cs>()), ...);
    return table;
  }

  // Adds a composition; AlreadyExists when its name or its pipeline type is
  // in the table already (a checkpoint must name one composition).
  template <NamedComposition C>
  absl::Status Add() {
    return Insert(EntryOf<C>());
  }

  const std::vector<CompositionEntry>& entries() const { return entries_; }
  // The entry called `name`, or nullptr.
  const CompositionEntry* Find(std::string_view name) const;
  // The entry called `name`, or InvalidArgument listing the valid names.
  absl::StatusOr<const CompositionEntry*> Get(std::string_view name) const;
  // The entry whose pipeline type is `type_name`, or NotFound naming it.
  absl::StatusOr<const CompositionEntry*> GetByType(
      std::string_view type_name) const;

  // "mapn, simple_baseline, ...".
  std::string NameList() const;
  // One line per composition, its name and its four components, indented
  // by `indent` spaces: the command line's help.
  std::string Describe(int indent = 2) const;

  // Builds the composition `name` from its defaults overridden by `values`.
  absl::StatusOr<AnyPipeline> Create(std::string_view name,
                                     const PipelineOptionValues& values = {},
                                     const std::string& what = "") const;

 private:
  template <NamedComposition C>
  static CompositionEntry EntryOf();
  absl::Status Insert(CompositionEntry entry);

  std::vector<CompositionEntry> entries_;
};

// Loads the model a checkpoint or training state describes: the table entry
// of its composition (by the name the file records, or by its pipeline type
// for files that record none or a name the table lacks), built from the file's
// options with `overrides` applied (ApplyOptionOverride: "policy.interval=6",
// for fields that shape no tensor), and every tensor assigned. Errors name the
// file and what is wrong (a composition the table lacks, a bad option,
// missing or mis-shaped tensors).
absl::StatusOr<AnyPipeline> LoadPipeline(
    const std::string& path, const CompositionTable& table,
    const std::vector<std::string>& overrides = {});

// Writes `model` as a checkpoint under its composition's name (the
// pipeline's type name where it has none).
template <PipelineModel Model>
absl::Status SaveModel(const std::string& path, Model& model) {
  std::string name;
  if constexpr (NamedComposition<Model>) name = std::string(Model::kName);
  return AnyPipeline(model, std::move(name)).Save(path);
}

// Builds a Model from the checkpoint's options and loads every tensor; the
// file must hold a pipeline of Model's type.
template <PipelineModel Model>
absl::StatusOr<Model> LoadModel(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  if (file.type_name != Model::Impl::TypeName()) {
    return absl::FailedPreconditionError("checkpoint '" + path + "' holds a " +
                                         file.type_name + ", not a " +
                                         Model::Impl::TypeName());
  }
  const std::string what = "checkpoint '" + path + "'";
  MAPN_ASSIGN_OR_RETURN(PipelineOptionValues values,
                        ParsePipelineOptions(file.options_json, what));
  MAPN_ASSIGN_OR_RETURN(typename Model::Options options,
                        FromOptionValues<Model>(values, what));
  MAPN_ASSIGN_OR_RETURN(Model model, MakeModel<Model>(options));
  MAPN_RETURN_IF_ERROR(AssignTensors(*model, file.tensors, what).status());
  return model;
}

// ---------------------------------------------------------------------------
// Implementation.

template <NamedComposition C>
CompositionEntry CompositionTable::EntryOf() {
  using Impl = typename C::Impl;
  CompositionEntry entry;
  entry.name = std::string(C::kName);
  entry.type_name = Impl::TypeName();
  entry.components = {ComponentName<typename Impl::ExtractorType>(),
                      ComponentName<typename Impl::PropagatorType>(),
                      ComponentName<typename Impl::PolicyType>(),
                      ComponentName<typename Impl::HeadType>()};
  entry.learned_policy = Impl::PolicyType::ContainedType::kLearned;
  entry.causal = Impl::PolicyType::ContainedType::kCausal;
  entry.defaults = ToOptionValues<C>(typename C::Options{});
  entry.create = [](const PipelineOptionValues& values,
                    const std::string& what) -> absl::StatusOr<AnyPipeline> {
    MAPN_ASSIGN_OR_RETURN(typename C::Options options,
                          FromOptionValues<C>(values, what));
    absl::StatusOr<C> model = MakeModel<C>(options);
    if (!model.ok()) {
      return absl::InvalidArgumentError(
          std::string(what.empty() ? "" : what + ": ") + std::string(C::kName) +
          ": " + std::string(model.status().message()));
    }
    return AnyPipeline(*std::move(model), std::string(C::kName));
  };
  return entry;
}

}  // namespace mapn::model

#endif  // MAPN_MODEL_COMPOSITION_H_
