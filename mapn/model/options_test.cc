// Component options (options.h) and their JSON (options_json.h): fields
// listed in Fields() order, defaults kept, integers taken for doubles and
// text converted (command-line overrides), the checkpoint's JSON and its
// round trip for every composition, and the errors: an unknown field, a
// wrong type or an invalid value names the role and the field (and the
// source), an unknown role or malformed override is refused, SettingsFor
// skips (and lists) the fields a composition lacks.
#include "mapn/model/options.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/compositions.h"
#include "mapn/model/model_test_fixtures.h"
#include "mapn/model/options_json.h"

namespace mapn::model {
namespace {

std::vector<std::string> Names(const std::vector<NamedOption>& values) {
  std::vector<std::string> names;
  for (const NamedOption& v : values) names.push_back(v.name);
  return names;
}

void ExpectSameValues(const PipelineOptionValues& a,
                      const PipelineOptionValues& b) {
  EXPECT_EQ(a.input_size, b.input_size);
  for (size_t r = 0; r < kComponentRoles.size(); ++r) {
    EXPECT_EQ(a.components[r], b.components[r]) << kComponentRoles[r];
  }
}

// ---------------------------------------------------------------------------
// One component's options.

TEST(OptionsTest, ValuesListEveryFieldInFieldsOrder) {
  EXPECT_EQ(Names(OptionValues(LearnedGateOptions{})),
            (std::vector<std::string>{"downsample", "conv1_channels",
                                      "conv2_channels", "pe_dims",
                                      "temporal_channels", "temporal_kernel"}));
  EXPECT_EQ(OptionValues(DeconvHeadOptions{.in_channels = 7}),
            (std::vector<NamedOption>{{"in_channels", int64_t{7}},
                                      {"width", int64_t{256}},
                                      {"out_channels", int64_t{13}}}));
  EXPECT_EQ(OptionValues(ResidualEnergyGateOptions{}),
            (std::vector<NamedOption>{{"threshold", 0.02}}));
  EXPECT_TRUE(OptionValues(NoOptions{}).empty());
}

TEST(OptionsTest, FromValuesKeepsDefaultsAndTakesIntegersForNumbers) {
  const absl::StatusOr<ConvLstmOptions> defaults =
      OptionsFromValues<ConvLstmOptions>({}, "propagator");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->in_channels, 0);
  EXPECT_EQ(defaults->kernel, 3);

  const absl::StatusOr<ConvLstmOptions> some =
      OptionsFromValues<ConvLstmOptions>({{"kernel", int64_t{5}}},
                                         "propagator");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(some->kernel, 5);
  EXPECT_EQ(some->in_channels, 0);

  // JSON does not tell 2 from 2.0.
  const absl::StatusOr<ResidualEnergyGateOptions> threshold =
      OptionsFromValues<ResidualEnergyGateOptions>({{"threshold", int64_t{2}}},
                                                   "policy");
  ASSERT_TRUE(threshold.ok()) << threshold.status();
  EXPECT_EQ(threshold->threshold, 2.0);
}

TEST(OptionsTest, UnknownFieldNamesRoleFieldAndTheFieldsThereAre) {
  const absl::StatusOr<ConvLstmOptions> unknown =
      OptionsFromValues<ConvLstmOptions>({{"kernal", int64_t{3}}},
                                         "propagator");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(unknown.status()),
            "propagator has no option 'kernal' (it has in_channels, kernel)");
  EXPECT_EQ(
      Message(OptionsFromValues<NoOptions>({{"interval", int64_t{3}}}, "policy")
                  .status()),
      "policy has no option 'interval' (it has no options)");
}

TEST(OptionsTest, WrongTypeNamesRoleAndField) {
  const auto error = [](const OptionValue& value) {
    return Message(
        OptionsFromValues<ConvLstmOptions>({{"kernel", value}}, "propagator")
            .status());
  };
  EXPECT_EQ(error(std::string("three")),
            "propagator.kernel: must be an integer, got 'three'");
  EXPECT_EQ(error(2.5), "propagator.kernel: must be an integer, got 2.5");
  EXPECT_EQ(error(true), "propagator.kernel: must be an integer, got true");
  EXPECT_EQ(Message(OptionsFromValues<ResidualEnergyGateOptions>(
                        {{"threshold", std::string("low")}}, "policy")
                        .status()),
            "policy.threshold: must be a number, got 'low'");
}

TEST(OptionsTest, InvalidValueNamesRoleAndField) {
  const absl::StatusOr<ConvLstmOptions> even =
      OptionsFromValues<ConvLstmOptions>({{"kernel", int64_t{4}}},
                                         "propagator");
  EXPECT_EQ(even.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(even.status()),
            "propagator.kernel must be odd and positive (same-size padding), "
            "got 4");
}

// Every role's Validate() is reached through the pipeline's, which names the
// role: what ModelConfig's validation said with one flat field name.
TEST(OptionsTest, PipelineValidationNamesTheRole) {
  const auto error = [](const Mapn::Options& options) {
    return Message(Mapn::Impl::Validate(options));
  };
  EXPECT_TRUE(Mapn::Impl::Validate(TinyOptions<Mapn>()).ok());
  Mapn::Options options = TinyOptions<Mapn>();
  options.extractor.depth = 101;
  EXPECT_EQ(error(options), "extractor.depth must be 18, 34 or 50, got 101");
  options = TinyOptions<Mapn>();
  options.propagator.kernel = 2;
  EXPECT_EQ(error(options),
            "propagator.kernel must be odd and positive (same-size padding), "
            "got 2");
  options = TinyOptions<Mapn>();
  options.policy.pe_dims = 3;
  EXPECT_EQ(error(options),
            "policy.pe_dims must be even and at least 2 (sin/cos pairs), got "
            "3");
  options = TinyOptions<Mapn>();
  options.head.out_channels = 0;
  EXPECT_EQ(error(options), "head.out_channels must be at least 1, got 0");
  options = TinyOptions<Mapn>();
  options.input_size = -64;
  EXPECT_EQ(error(options), "input_size must be positive, got -64");
  ResidualEnergyWarp::Options energy;
  energy.policy.threshold = -1;
  EXPECT_NE(Message(ResidualEnergyWarp::Impl::Validate(energy))
                .find("policy.threshold must be a number >= 0"),
            std::string::npos);
}

TEST(OptionsTest, ConvertOptionParsesTextAndRefusesTheRest) {
  const auto convert = [](const OptionValue& value, const OptionValue& like) {
    return ConvertOption(value, like);
  };
  EXPECT_EQ(*convert(std::string("6"), int64_t{0}), OptionValue(int64_t{6}));
  EXPECT_EQ(*convert(std::string("-2"), int64_t{0}), OptionValue(int64_t{-2}));
  EXPECT_EQ(*convert(std::string("0.5"), 0.0), OptionValue(0.5));
  EXPECT_EQ(*convert(std::string("3"), 0.0), OptionValue(3.0));
  EXPECT_EQ(*convert(std::string("true"), false), OptionValue(true));
  EXPECT_EQ(*convert(std::string("false"), true), OptionValue(false));
  EXPECT_EQ(*convert(std::string("abc"), std::string()),
            OptionValue(std::string("abc")));
  EXPECT_EQ(*convert(int64_t{4}, 0.0), OptionValue(4.0));
  // No silent truncation or reinterpretation.
  EXPECT_EQ(Message(convert(std::string("4.5"), int64_t{0}).status()),
            "must be an integer, got '4.5'");
  EXPECT_EQ(Message(convert(4.5, int64_t{0}).status()),
            "must be an integer, got 4.5");
  EXPECT_EQ(Message(convert(std::string("maybe"), false).status()),
            "must be a bool, got 'maybe'");
  EXPECT_EQ(Message(convert(int64_t{3}, std::string()).status()),
            "must be a string, got 3");
  EXPECT_FALSE(convert(true, int64_t{0}).ok());
}

TEST(OptionsTest, InChannelsHelpers) {
  static_assert(HasOption<ConvLstmOptions>("kernel"));
  static_assert(HasOption<DeconvHeadOptions>("in_channels"));
  static_assert(!HasOption<DeconvHeadOptions>("joints"));
  static_assert(!HasOption<NoOptions>("in_channels"));
  EXPECT_EQ(InChannelsOf(ConvLstmOptions{.in_channels = 5}), 5);
  EXPECT_EQ(InChannelsOf(SimpleBaselineEncoderOptions{}), -1);  // none
  EXPECT_EQ(InChannelsOf(NoOptions{}), -1);

  // Only 0 is wired; an explicit width stays for the pipeline to check.
  DeconvHeadOptions head{.in_channels = 0, .width = 9};
  WireInChannels(head, 48);
  EXPECT_EQ(head.in_channels, 48);
  EXPECT_EQ(head.width, 9);
  WireInChannels(head, 64);
  EXPECT_EQ(head.in_channels, 48);
  SimpleBaselineEncoderOptions encoder;
  WireInChannels(encoder, 48);  // no such field: nothing changes
  EXPECT_EQ(encoder.width, 64);
}

// ---------------------------------------------------------------------------
// A pipeline's options as JSON.

// The form checkpoints store: keys in Fields() order, every role present.
TEST(PipelineOptionsJsonTest, TheCheckpointForm) {
  EXPECT_EQ(PipelineOptionsToJson(ToOptionValues<FixedIntervalWarp>(
                TinyOptions<FixedIntervalWarp>())),
            R"({"input_size":64,"extractor":{"depth":18,"width":4},)"
            R"("propagator":{"in_channels":0,"kernel":3},)"
            R"("policy":{"interval":3},)"
            R"("head":{"in_channels":0,"width":8,"out_channels":3}})");
  EXPECT_EQ(PipelineOptionsToJson(ToOptionValues<PerFrameSimpleBaseline>(
                PerFrameSimpleBaseline::Options{})),
            R"({"input_size":256,"extractor":{"depth":18,"width":64},)"
            R"("propagator":{},"policy":{},)"
            R"("head":{"in_channels":0,"width":256,"out_channels":13}})");
}

TEST(PipelineOptionsJsonTest, RoundTripOfEveryComposition) {
  for (const CompositionEntry& entry : DefaultCompositions().entries()) {
    const std::string json = PipelineOptionsToJson(entry.defaults);
    const absl::StatusOr<PipelineOptionValues> back =
        ParsePipelineOptions(json, entry.name);
    ASSERT_TRUE(back.ok()) << entry.name << ": " << back.status();
    SCOPED_TRACE(entry.name);
    ExpectSameValues(*back, entry.defaults);
    EXPECT_EQ(PipelineOptionsToJson(*back), json);
  }
}

TEST(PipelineOptionsJsonTest, TypedRoundTripKeepsEveryValue) {
  Mapn::Options options;
  options.input_size = 96;
  options.extractor = {.depth = 34, .width = 16};
  options.propagator = {.in_channels = 128, .kernel = 5};
  options.policy = {.downsample = 4,
                    .conv1_channels = 6,
                    .conv2_channels = 10,
                    .pe_dims = 6,
                    .temporal_channels = 12,
                    .temporal_kernel = 5};
  options.head = {.in_channels = 128, .width = 32, .out_channels = 15};
  const PipelineOptionValues values = ToOptionValues<Mapn>(options);
  const absl::StatusOr<PipelineOptionValues> parsed =
      ParsePipelineOptions(PipelineOptionsToJson(values), "test");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const absl::StatusOr<Mapn::Options> back =
      FromOptionValues<Mapn>(*parsed, "test");
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameValues(ToOptionValues<Mapn>(*back), values);
  EXPECT_EQ(back->input_size, 96);
  EXPECT_EQ(back->policy.temporal_kernel, 5);
  EXPECT_EQ(back->head.out_channels, 15);

  // Doubles, integral or not.
  for (double threshold : {0.125, 2.0}) {
    ResidualEnergyWarp::Options energy;
    energy.policy.threshold = threshold;
    const absl::StatusOr<PipelineOptionValues> p = ParsePipelineOptions(
        PipelineOptionsToJson(ToOptionValues<ResidualEnergyWarp>(energy)), "t");
    ASSERT_TRUE(p.ok()) << p.status();
    const absl::StatusOr<ResidualEnergyWarp::Options> e =
        FromOptionValues<ResidualEnergyWarp>(*p, "t");
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->policy.threshold, threshold);
  }
}

TEST(PipelineOptionsJsonTest, AbsentRolesAndFieldsKeepTheirDefaults) {
  const absl::StatusOr<PipelineOptionValues> values =
      ParsePipelineOptions(R"({"policy": {"interval": 5}})", "test");
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(values->input_size, 0);  // not given
  const absl::StatusOr<FixedIntervalWarp::Options> options =
      FromOptionValues<FixedIntervalWarp>(*values, "test");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->input_size, 256);
  EXPECT_EQ(options->policy.interval, 5);
  EXPECT_EQ(options->extractor.depth, 18);
  EXPECT_EQ(options->head.out_channels, 13);
}

TEST(PipelineOptionsJsonTest, MalformedJsonIsRefusedNamingTheSource) {
  const auto error = [](const std::string& json) {
    return Message(ParsePipelineOptions(json, "checkpoint 'a.ckpt'").status());
  };
  EXPECT_NE(error("{").find("checkpoint 'a.ckpt': the model options are not "
                            "JSON"),
            std::string::npos);
  EXPECT_EQ(error("[1, 2]"),
            "checkpoint 'a.ckpt': the model options are not a JSON object");
  EXPECT_EQ(error(R"({"encoder": {}})"),
            "checkpoint 'a.ckpt': unknown model option 'encoder' (expected "
            "input_size, extractor, propagator, policy, head)");
  EXPECT_EQ(error(R"({"policy": 3})"),
            "checkpoint 'a.ckpt': the policy options must be a JSON object");
  EXPECT_EQ(error(R"({"policy": {"interval": [1]}})"),
            "checkpoint 'a.ckpt': policy.interval must be a number, a bool or "
            "a string, got [1]");
  EXPECT_EQ(error(R"({"input_size": "64"})"),
            "checkpoint 'a.ckpt': input_size must be an integer, got \"64\"");
}

// A field that was one flat ModelConfig field ("joints") is no option of
// any role now: the message says which fields the role has.
TEST(PipelineOptionsJsonTest, TypedErrorsNameSourceRoleAndField) {
  const auto error = [](const std::string& json) {
    const absl::StatusOr<PipelineOptionValues> values =
        ParsePipelineOptions(json, "checkpoint 'a.ckpt'");
    EXPECT_TRUE(values.ok()) << values.status();
    return Message(
        FromOptionValues<Mapn>(*values, "checkpoint 'a.ckpt'").status());
  };
  EXPECT_EQ(error(R"({"head": {"joints": 13}})"),
            "checkpoint 'a.ckpt': head has no option 'joints' (it has "
            "in_channels, width, out_channels)");
  EXPECT_EQ(error(R"({"extractor": {"depth": "deep"}})"),
            "checkpoint 'a.ckpt': extractor.depth: must be an integer, got "
            "'deep'");
  EXPECT_EQ(error(R"({"extractor": {"depth": 19}})"),
            "checkpoint 'a.ckpt': extractor.depth must be 18, 34 or 50, got "
            "19");
  EXPECT_EQ(error(R"({"policy": {"pe_dims": 3.5}})"),
            "checkpoint 'a.ckpt': policy.pe_dims: must be an integer, got 3.5");
}

// ---------------------------------------------------------------------------
// Overrides ("--set policy.interval=6").

TEST(OptionOverrideTest, TextIsConvertedToTheFieldsType) {
  PipelineOptionValues values =
      ToOptionValues<FixedIntervalWarp>(TinyOptions<FixedIntervalWarp>());
  ASSERT_TRUE(ApplyOptionOverride("policy.interval=6", values).ok());
  ASSERT_TRUE(ApplyOptionOverride("input_size=96", values).ok());
  ASSERT_TRUE(ApplyOptionOverride("head.out_channels=15", values).ok());
  // Replaced, not appended.
  EXPECT_EQ(values.components[2].size(), 1u);
  EXPECT_EQ(values.components[2][0].value, OptionValue(std::string("6")));
  const absl::StatusOr<FixedIntervalWarp::Options> options =
      FromOptionValues<FixedIntervalWarp>(values, "--set");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->policy.interval, 6);
  EXPECT_EQ(options->input_size, 96);
  EXPECT_EQ(options->head.out_channels, 15);
  EXPECT_EQ(options->head.width, 8);  // untouched

  PipelineOptionValues energy;
  ASSERT_TRUE(ApplyOptionOverride("policy.threshold=0.5", energy).ok());
  const absl::StatusOr<ResidualEnergyWarp::Options> e =
      FromOptionValues<ResidualEnergyWarp>(energy, "--set");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->policy.threshold, 0.5);
}

TEST(OptionOverrideTest, BadTextIsRefusedWhenTheOptionsAreBuilt) {
  PipelineOptionValues values;
  // Applying only records the text; the typed check follows.
  ASSERT_TRUE(ApplyOptionOverride("extractor.depth=deep", values).ok());
  EXPECT_EQ(Message(FromOptionValues<Mapn>(values, "--set").status()),
            "--set: extractor.depth: must be an integer, got 'deep'");
  values = {};
  ASSERT_TRUE(ApplyOptionOverride("policy.interval=3", values).ok());
  EXPECT_EQ(Message(FromOptionValues<Mapn>(values, "--set").status()),
            "--set: policy has no option 'interval' (it has downsample, "
            "conv1_channels, conv2_channels, pe_dims, temporal_channels, "
            "temporal_kernel)");
}

TEST(OptionOverrideTest, MalformedAssignmentsAreRefused) {
  const auto error = [](const std::string& assignment) {
    PipelineOptionValues values;
    const absl::Status status = ApplyOptionOverride(assignment, values);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << assignment;
    // Nothing was applied.
    EXPECT_EQ(values.input_size, 0) << assignment;
    for (const auto& component : values.components) {
      EXPECT_TRUE(component.empty()) << assignment;
    }
    return Message(status);
  };
  EXPECT_EQ(error("policy.interval"),
            "option 'policy.interval': no '=' (expected ROLE.NAME=VALUE, ROLE "
            "one of extractor, propagator, policy, head, or "
            "input_size=VALUE)");
  EXPECT_NE(error("=3").find("no '='"), std::string::npos);
  EXPECT_NE(error("policy.interval=").find("no '='"), std::string::npos);
  EXPECT_NE(error("policy=3")
                .find("option 'policy=3': no option name after "
                      "the role"),
            std::string::npos);
  EXPECT_NE(error("policy.=3").find("no option name"), std::string::npos);
  EXPECT_NE(error("encoder.depth=3")
                .find("option 'encoder.depth=3': unknown "
                      "role"),
            std::string::npos);
  EXPECT_NE(error("input_size=big").find("must be an integer, got 'big'"),
            std::string::npos);
}

// Settings written for a family of compositions (an experiment's scale)
// apply where a composition has the field and are skipped, and listed,
// where it has not.
TEST(SettingsForTest, SkipsAndListsFieldsTheCompositionLacks) {
  const std::vector<std::string> settings = {
      "extractor.width=8", "policy.interval=3", "policy.conv1_channels=4",
      "head.width=16", "input_size=64"};
  std::vector<std::string> skipped;
  const absl::StatusOr<PipelineOptionValues> mapn =
      SettingsFor(ToOptionValues<Mapn>(Mapn::Options{}), settings, &skipped);
  ASSERT_TRUE(mapn.ok()) << mapn.status();
  EXPECT_EQ(skipped, (std::vector<std::string>{"policy.interval=3"}));
  EXPECT_EQ(mapn->input_size, 64);
  EXPECT_EQ(Names(mapn->components[2]),
            (std::vector<std::string>{"conv1_channels"}));
  const absl::StatusOr<Mapn::Options> options =
      FromOptionValues<Mapn>(*mapn, "settings");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->extractor.width, 8);
  EXPECT_EQ(options->head.width, 16);
  EXPECT_EQ(options->policy.conv1_channels, 4);
  EXPECT_EQ(options->policy.conv2_channels, 32);  // only what was set

  skipped.clear();
  const absl::StatusOr<PipelineOptionValues> fixed = SettingsFor(
      ToOptionValues<FixedIntervalWarp>(FixedIntervalWarp::Options{}), settings,
      &skipped);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(skipped, (std::vector<std::string>{"policy.conv1_channels=4"}));
  EXPECT_EQ(Names(fixed->components[2]),
            (std::vector<std::string>{"interval"}));

  // The per-frame baseline has neither policy field; no list is fine too.
  const absl::StatusOr<PipelineOptionValues> baseline =
      SettingsFor(ToOptionValues<PerFrameSimpleBaseline>({}), settings);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  EXPECT_TRUE(baseline->components[2].empty());
  EXPECT_EQ(Names(baseline->components[3]),
            (std::vector<std::string>{"width"}));

  // A malformed setting is an error, not a skip.
  EXPECT_FALSE(
      SettingsFor(ToOptionValues<Mapn>(Mapn::Options{}), {"extractor.width"})
          .ok());
}

}  // namespace
}  // namespace mapn::model
