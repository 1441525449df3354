// Named compositions and their tables (composition.h, compositions.h): the
// default table's names, order, types, learned and causal policies, its
// help text and its errors; Add refusing a second composition of the same
// name or pipeline; a composition defined only in this test created from a
// table, saved and loaded back through LoadPipeline (the path `mapn
// estimate` takes), with overrides; and AnyPipeline: what it reports, and
// the per-frame baseline sharing the extractor and head.
#include "mapn/model/composition.h"

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/compositions.h"
#include "mapn/model/model_test_fixtures.h"

namespace mapn::model {
namespace {

// The documented order (compositions.h): "mapn" first, the command line's
// choices and help follow it.
const std::vector<std::string> kDefaultNames = {"mapn",
                                                "simple_baseline",
                                                "iframe_nowarp",
                                                "iframe_warp",
                                                "always_extract",
                                                "frame_gate",
                                                "gate_no_temporal_no_pe",
                                                "gate_no_pe",
                                                "fixed_interval",
                                                "residual_energy",
                                                "causal_mapn",
                                                "movenet",
                                                "movenet_mapn",
                                                "movenet_fixed",
                                                "movenet_energy",
                                                "movenet_nowarp"};

// A composition only this test knows, of a test extractor and library parts.
using CountingComposition =
    Composition<"counting_test", CountingExtractor, MotionWarpConvLstm,
                FixedIntervalKeyframes, DeconvHead>;

PipelineOptionValues CountingValues() {
  CountingComposition::Options options;
  options.input_size = kTinyInputSize;
  options.policy.interval = 2;
  options.head = TinyHeadOptions();
  options.head.in_channels = 0;
  return ToOptionValues<CountingComposition>(options);
}

TEST(CompositionTableTest, DefaultNamesAreUniqueAndInTheDocumentedOrder) {
  const CompositionTable& table = DefaultCompositions();
  std::vector<std::string> names;
  std::set<std::string> types;
  for (const CompositionEntry& entry : table.entries()) {
    names.push_back(entry.name);
    EXPECT_TRUE(types.insert(entry.type_name).second)
        << entry.name << " repeats " << entry.type_name;
  }
  EXPECT_EQ(names, kDefaultNames);
  EXPECT_EQ(table.NameList(),
            "mapn, simple_baseline, iframe_nowarp, iframe_warp, "
            "always_extract, frame_gate, gate_no_temporal_no_pe, gate_no_pe, "
            "fixed_interval, residual_energy, causal_mapn, movenet, "
            "movenet_mapn, movenet_fixed, movenet_energy, movenet_nowarp");
}

TEST(CompositionTableTest, NamesTheExpectedTypes) {
  const CompositionTable& table = DefaultCompositions();
  const auto type_of = [&](const std::string& name) {
    const absl::StatusOr<const CompositionEntry*> entry = table.Get(name);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? (*entry)->type_name : "";
  };
  EXPECT_EQ(type_of("mapn"), Mapn::Impl::TypeName());
  EXPECT_EQ(type_of("simple_baseline"),
            PerFrameSimpleBaseline::Impl::TypeName());
  EXPECT_EQ(type_of("iframe_nowarp"), IFrameOnlyNoWarp::Impl::TypeName());
  EXPECT_EQ(type_of("iframe_warp"), IFrameOnlyWarp::Impl::TypeName());
  EXPECT_EQ(type_of("always_extract"), AlwaysExtractWarp::Impl::TypeName());
  EXPECT_EQ(type_of("frame_gate"), FrameGateWarp::Impl::TypeName());
  EXPECT_EQ(type_of("gate_no_temporal_no_pe"),
            MapnGateNoTemporalNoPe::Impl::TypeName());
  EXPECT_EQ(type_of("gate_no_pe"), MapnGateNoPe::Impl::TypeName());
  EXPECT_EQ(type_of("fixed_interval"), FixedIntervalWarp::Impl::TypeName());
  EXPECT_EQ(type_of("residual_energy"), ResidualEnergyWarp::Impl::TypeName());
  EXPECT_EQ(type_of("causal_mapn"), CausalMapn::Impl::TypeName());
  EXPECT_EQ(type_of("movenet"), PerFrameMoveNet::Impl::TypeName());
  EXPECT_EQ(Mapn::Impl::TypeName(),
            "Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, ResidualGate, "
            "DeconvHead>");
  // The name is part of the type.
  static_assert(Mapn::kName == "mapn");
  static_assert(CausalMapn::kName == "causal_mapn");
  for (const std::string& name : kDefaultNames) {
    const absl::StatusOr<const CompositionEntry*> entry = table.Get(name);
    ASSERT_TRUE(entry.ok());
    const absl::StatusOr<const CompositionEntry*> back =
        table.GetByType((*entry)->type_name);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ((*back)->name, name);
  }
}

// Whether a policy learns (training stages 3 and 4, the sparsity term) and
// whether it is causal (live streams) come from the policy types.
TEST(CompositionTableTest, LearnedAndCausalPolicies) {
  const std::set<std::string> learned = {
      "mapn",        "frame_gate",  "gate_no_pe", "gate_no_temporal_no_pe",
      "causal_mapn", "movenet_mapn"};
  // The centred temporal convolution sees frames after t.
  const std::set<std::string> not_causal = {"mapn", "frame_gate", "gate_no_pe",
                                            "movenet_mapn"};
  for (const CompositionEntry& entry : DefaultCompositions().entries()) {
    EXPECT_EQ(entry.learned_policy, learned.count(entry.name) == 1)
        << entry.name;
    EXPECT_EQ(entry.causal, not_causal.count(entry.name) == 0) << entry.name;
  }
  // The erased pipelines say the same.
  const absl::StatusOr<AnyPipeline> mapn =
      DefaultCompositions().Create("mapn", TinyOptionValues<Mapn>());
  ASSERT_TRUE(mapn.ok()) << mapn.status();
  EXPECT_TRUE(mapn->learned_policy());
  EXPECT_FALSE(mapn->causal());
  const absl::StatusOr<AnyPipeline> fixed = DefaultCompositions().Create(
      "fixed_interval", TinyOptionValues<FixedIntervalWarp>());
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_FALSE(fixed->learned_policy());
  EXPECT_TRUE(fixed->causal());
}

TEST(CompositionTableTest, DescribeListsEachCompositionsComponents) {
  const std::string help = DefaultCompositions().Describe(4);
  std::vector<std::string> lines;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), kDefaultNames.size()) << help;
  // Names padded to the longest ("gate_no_temporal_no_pe", 22) plus two.
  EXPECT_EQ(lines[0], "    mapn" + std::string(20, ' ') +
                          "SimpleBaselineEncoder + MotionWarpConvLstm + "
                          "ResidualGate + DeconvHead");
  EXPECT_EQ(lines[1], "    simple_baseline" + std::string(9, ' ') +
                          "SimpleBaselineEncoder + PassThrough + "
                          "AlwaysExtract + DeconvHead");
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].substr(0, 4 + kDefaultNames[i].size() + 1),
              "    " + kDefaultNames[i] + " ");
    // Every line's components start in the same column.
    EXPECT_NE(lines[i][4 + 24], ' ') << i;
    EXPECT_EQ(lines[i][4 + 23], ' ') << i;
  }
  EXPECT_EQ(lines.back(), "    movenet_nowarp" + std::string(10, ' ') +
                              "MoveNetEncoder + NoWarpResetConvLstm + "
                              "FixedIntervalKeyframes + MoveNetHead");
  EXPECT_NE(help.find("gate_no_temporal_no_pe  SimpleBaselineEncoder + "
                      "MotionWarpConvLstm + ResidualGateNoTemporalNoPe + "
                      "DeconvHead"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("NoWarpConvLstm + NeverExtract"), std::string::npos);
}

TEST(CompositionTableTest, UnknownNamesListTheValidOnes) {
  const CompositionTable& table = DefaultCompositions();
  EXPECT_EQ(table.Find("mapnn"), nullptr);
  const absl::StatusOr<const CompositionEntry*> entry = table.Get("mapnn");
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(entry.status()),
            "unknown model 'mapnn'; expected one of " + table.NameList());
  const absl::StatusOr<AnyPipeline> created = table.Create("mapnn");
  EXPECT_EQ(created.status(), entry.status());

  const absl::StatusOr<const CompositionEntry*> type =
      table.GetByType("Pipeline<X>");
  EXPECT_EQ(type.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(type.status()).find("Pipeline<X>"), std::string::npos);
  EXPECT_NE(Message(type.status()).find("causal_mapn"), std::string::npos);
}

// A checkpoint records a composition's name and type: each must lead to one
// entry.
TEST(CompositionTableTest, AddRefusesADuplicateNameOrPipeline) {
  CompositionTable table = DefaultCompositions();
  const absl::Status name = table.Add<Mapn>();
  EXPECT_EQ(name.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Message(name), "the table already has a composition called 'mapn'");

  using MapnAgain = Composition<"mapn_again", SimpleBaselineEncoder,
                                MotionWarpConvLstm, ResidualGate, DeconvHead>;
  const absl::Status type = table.Add<MapnAgain>();
  EXPECT_EQ(type.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(Message(type).find("composition 'mapn_again' is the same "
                               "pipeline as 'mapn'"),
            std::string::npos)
      << type;
  EXPECT_EQ(table.entries().size(), kDefaultNames.size());

  EXPECT_TRUE(table.Add<CountingComposition>().ok());
  EXPECT_EQ(table.entries().size(), kDefaultNames.size() + 1);
  EXPECT_EQ(table.entries().back().name, "counting_test");
  EXPECT_EQ(table.Add<CountingComposition>().code(),
            absl::StatusCode::kAlreadyExists);
  // The default table itself is unchanged (Add worked on a copy).
  EXPECT_EQ(DefaultCompositions().Find("counting_test"), nullptr);
}

TEST(CompositionTableTest, CreateAppliesValuesAndNamesBadOnes) {
  const CompositionTable& table = DefaultCompositions();
  PipelineOptionValues values = TinyOptionValues<FixedIntervalWarp>();
  ASSERT_TRUE(ApplyOptionOverride("policy.interval=5", values).ok());
  const absl::StatusOr<AnyPipeline> model =
      table.Create("fixed_interval", values);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE(model->As<FixedIntervalWarp>(), nullptr);
  EXPECT_EQ((*model->As<FixedIntervalWarp>())->policy()->interval(), 5);

  ASSERT_TRUE(ApplyOptionOverride("propagator.in_channels=16", values).ok());
  const absl::StatusOr<AnyPipeline> miswired =
      table.Create("fixed_interval", values, "--set");
  EXPECT_EQ(miswired.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(miswired.status())
                .find("--set: fixed_interval: " +
                      FixedIntervalWarp::Impl::TypeName() +
                      ": SimpleBaselineEncoder gives 32 channels but "
                      "MotionWarpConvLstm takes 16"),
            std::string::npos)
      << miswired.status();
  const absl::StatusOr<AnyPipeline> bad_field = table.Create(
      "mapn",
      ParsePipelineOptions(R"({"policy": {"interval": 3}})", "x").value(),
      "--set");
  EXPECT_NE(Message(bad_field.status())
                .find("--set: policy has no option 'interval'"),
            std::string::npos)
      << bad_field.status();
}

TEST(AnyPipelineTest, ReportsItsModel) {
  const absl::StatusOr<AnyPipeline> created =
      DefaultCompositions().Create("mapn", TinyOptionValues<Mapn>());
  ASSERT_TRUE(created.ok()) << created.status();
  const AnyPipeline& model = *created;
  EXPECT_FALSE(model.empty());
  EXPECT_TRUE(AnyPipeline().empty());
  EXPECT_EQ(model.composition(), "mapn");
  EXPECT_EQ(model.type_name(), Mapn::Impl::TypeName());
  EXPECT_EQ(model.input_size(), kTinyInputSize);
  EXPECT_EQ(model.joints(), kTinyJoints);
  EXPECT_EQ(model.heatmap_size(), kTinyHeatmapSize);
  ASSERT_NE(model.As<Mapn>(), nullptr);
  EXPECT_EQ(model.As<CausalMapn>(), nullptr);
  EXPECT_EQ(&model.module(), model.As<Mapn>()->get());
  EXPECT_EQ(&model.head(), (*model.As<Mapn>())->head().get());
  // Its options with the wiring resolved: what a checkpoint stores.
  Mapn::Options wired = TinyOptions<Mapn>();
  wired.propagator.in_channels = kTinyChannels;
  wired.head.in_channels = kTinyChannels;
  EXPECT_EQ(model.options_json(),
            PipelineOptionsToJson(ToOptionValues<Mapn>(wired)));
  const Mapn& typed = *model.As<Mapn>();
  EXPECT_EQ(model.baseline_macs_per_frame(),
            typed->ExtractorMacs() + typed->HeadMacs());

  model.module().eval();
  const GopBatch batch = RandomBatch(1, 3, kTinyInputSize, 31);
  const absl::StatusOr<RunResult> run = model.Run(batch);
  ASSERT_TRUE(run.ok()) << run.status();
  const absl::StatusOr<RunResult> direct = (*model.As<Mapn>())->Run(batch);
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(at::equal(run->heatmaps, direct->heatmaps));
  const absl::StatusOr<at::Tensor> keypoints =
      model.Keypoints(run->heatmaps.flatten(0, 1));
  ASSERT_TRUE(keypoints.ok()) << keypoints.status();
  EXPECT_EQ(keypoints->sizes(), (std::vector<int64_t>{3, kTinyJoints, 3}));
  EXPECT_FALSE(model.Keypoints(at::zeros({3, 5, 16, 16})).ok());
}

// The reference every speed-up is measured against: the composition's own
// extractor and head, not copies, behind PassThrough and AlwaysExtract.
TEST(AnyPipelineTest, PerFrameBaselineSharesExtractorAndHead) {
  const absl::StatusOr<AnyPipeline> created =
      DefaultCompositions().Create("mapn", TinyOptionValues<Mapn>());
  ASSERT_TRUE(created.ok()) << created.status();
  const AnyPipeline& model = *created;
  const AnyPipeline baseline = model.PerFrameBaseline();
  EXPECT_EQ(baseline.composition(), "per-frame mapn");
  EXPECT_EQ(&baseline.extractor(), &model.extractor());
  EXPECT_EQ(&baseline.head(), &model.head());
  EXPECT_FALSE(baseline.learned_policy());
  EXPECT_TRUE(baseline.causal());
  EXPECT_EQ(baseline.baseline_macs_per_frame(),
            model.baseline_macs_per_frame());

  // Same outputs as a PerFrameSimpleBaseline given the same weights.
  PerFrameSimpleBaseline reference(TinyOptions<PerFrameSimpleBaseline>());
  CopyWeights(model.extractor(), *reference->extractor());
  CopyWeights(model.head(), *reference->head());
  model.module().eval();
  reference->eval();
  const GopBatch batch = RandomBatch(1, 4, kTinyInputSize, 33);
  const absl::StatusOr<RunResult> a = baseline.Run(batch);
  const absl::StatusOr<RunResult> b = reference->Run(batch);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));
  EXPECT_TRUE(at::equal(a->decisions, at::ones({1, 4})));

  // Sharing, not copying: a change to the model's head shows in the
  // baseline.
  {
    const at::NoGradGuard no_grad;
    TensorMap(model.head()).at("final_layer.bias").add_(1.0);
  }
  const absl::StatusOr<RunResult> changed = baseline.Run(batch);
  ASSERT_TRUE(changed.ok());
  EXPECT_LT(
      MaxDiff(changed->heatmaps - a->heatmaps, at::ones_like(a->heatmaps)),
      1e-5);

  // Saved, its name is one no table has; it loads as the composition of
  // its pipeline type.
  const std::string path = TempPath("per_frame_baseline.ckpt");
  ASSERT_TRUE(baseline.Save(path).ok());
  const absl::StatusOr<AnyPipeline> loaded =
      LoadPipeline(path, DefaultCompositions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "simple_baseline");
  loaded->module().eval();
  EXPECT_TRUE(at::equal(loaded->Run(batch)->heatmaps, changed->heatmaps));
}

// A composition a program defines goes through the same path `mapn
// estimate` takes: a table, Create, Save, LoadPipeline.
TEST(UserCompositionTest, CreatedSavedAndLoadedThroughATable) {
  CompositionTable table = DefaultCompositions();
  ASSERT_TRUE(table.Add<CountingComposition>().ok());
  const absl::StatusOr<AnyPipeline> created =
      table.Create("counting_test", CountingValues());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->composition(), "counting_test");
  EXPECT_FALSE(created->learned_policy());
  Randomise(created->module(), 34);
  const std::string path = TempPath("counting_test.ckpt");
  ASSERT_TRUE(created->Save(path).ok());

  const absl::StatusOr<AnyPipeline> loaded = LoadPipeline(path, table);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "counting_test");
  EXPECT_EQ(loaded->options_json(), created->options_json());
  ASSERT_NE(loaded->As<CountingComposition>(), nullptr);
  EXPECT_TRUE(SameTensors(loaded->module(), created->module()));
  created->module().eval();
  loaded->module().eval();
  const GopBatch batch = RandomBatch(2, 5, kTinyInputSize, 35);
  const absl::StatusOr<RunResult> a = created->Run(batch);
  const absl::StatusOr<RunResult> b = loaded->Run(batch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));
  EXPECT_TRUE(at::equal(a->decisions, b->decisions));
  // Every 2nd frame, as the saved options say.
  EXPECT_TRUE(at::equal(b->decisions[0], Floats({1.f, 0, 1, 0, 1})));

  // A program without the composition cannot load it, and says why.
  const absl::StatusOr<AnyPipeline> unknown =
      LoadPipeline(path, DefaultCompositions());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(unknown.status())
                .find("holds composition 'counting_test', a " +
                      CountingComposition::Impl::TypeName() +
                      ", which this program does not know"),
            std::string::npos)
      << unknown.status();
}

TEST(UserCompositionTest, LoadPipelineAppliesOverrides) {
  CompositionTable table = DefaultCompositions();
  ASSERT_TRUE(table.Add<CountingComposition>().ok());
  const absl::StatusOr<AnyPipeline> created =
      table.Create("counting_test", CountingValues());
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string path = TempPath("counting_override.ckpt");
  ASSERT_TRUE(created->Save(path).ok());

  // A field that shapes no tensor.
  const absl::StatusOr<AnyPipeline> every_third =
      LoadPipeline(path, table, {"policy.interval=3"});
  ASSERT_TRUE(every_third.ok()) << every_third.status();
  EXPECT_EQ((*every_third->As<CountingComposition>())->policy()->interval(), 3);
  every_third->module().eval();
  const absl::StatusOr<RunResult> run =
      every_third->Run(RandomBatch(1, 5, kTinyInputSize, 36));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(at::equal(run->decisions[0], Floats({1.f, 0, 0, 1, 0})));
  EXPECT_NE(every_third->options_json().find(R"("policy":{"interval":3})"),
            std::string::npos);

  // One that does: the tensors no longer fit, and the error says which.
  const absl::StatusOr<AnyPipeline> wider =
      LoadPipeline(path, table, {"head.width=4"});
  ASSERT_FALSE(wider.ok());
  EXPECT_NE(Message(wider.status()).find("has shape"), std::string::npos)
      << wider.status();
  // A malformed one, and one of a field the composition lacks.
  EXPECT_EQ(LoadPipeline(path, table, {"policy.interval"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::StatusOr<AnyPipeline> unknown_field =
      LoadPipeline(path, table, {"policy.threshold=0.1"});
  EXPECT_NE(
      Message(unknown_field.status()).find("policy has no option 'threshold'"),
      std::string::npos)
      << unknown_field.status();
}

}  // namespace
}  // namespace mapn::model
