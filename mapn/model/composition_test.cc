// The registry: every name reaches a distinct composition, names and type
// names map both ways, unknown names fail with the list of valid ones.
#include "mapn/model/registry.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace mapn::model {
namespace {

TEST(RegistryTest, EveryNameVisitsADistinctComposition) {
  std::set<std::string> type_names;
  for (const std::string& name : CompositionNames()) {
    const absl::StatusOr<std::string> type = VisitComposition(
        name,
        []<typename Model>(CompositionTag<Model>)
            -> absl::StatusOr<std::string> { return Model::Impl::TypeName(); });
    ASSERT_TRUE(type.ok()) << name << ": " << type.status();
    EXPECT_TRUE(type_names.insert(*type).second)
        << name << " repeats " << *type;
    const absl::StatusOr<std::string> back = CompositionNameForType(*type);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, name);
  }
  EXPECT_EQ(type_names.size(), 11u);
}

TEST(RegistryTest, NamesTheExpectedTypes) {
  const auto type_of = [](const std::string& name) {
    return VisitComposition(name,
                            []<typename Model>(CompositionTag<Model>)
                                -> absl::StatusOr<std::string> {
                              return Model::Impl::TypeName();
                            })
        .value();
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
}

TEST(RegistryTest, UnknownNameListsTheValidOnes) {
  const absl::Status status = VisitComposition(
      "mapnn", []<typename Model>(CompositionTag<Model>) -> absl::Status {
        return absl::OkStatus();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'mapnn'"), absl::string_view::npos);
  EXPECT_NE(status.message().find("simple_baseline"), absl::string_view::npos);
  EXPECT_NE(status.message().find("causal_mapn"), absl::string_view::npos);

  const absl::StatusOr<std::string> type =
      CompositionNameForType("Pipeline<X>");
  EXPECT_EQ(type.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mapn::model
