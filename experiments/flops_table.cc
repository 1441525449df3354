// Prints the analytic cost of the per-frame Simple Baseline at 256 x 256 with
// ResNet-18/34/50, in both conventions of mapn/model/flops.h, beside the
// paper's baseline row (Table 3: 11.96 GFLOPs, the HRNet tool's figure for
// ResNet-50), then what one frame of each component of the default MAPN
// composition costs. Counts come from the components of the composition
// itself (PerFrameSimpleBaseline, Mapn), so this table cannot drift from the
// model. Units: 2^30 multiply-adds in both columns (the HRNet tool's
// divisor); SI (1e9) figures in the comments.
//
// Usage: bazel run //experiments:flops_table
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mapn/model/compositions.h"

namespace {

using mapn::model::MacCount;
using mapn::model::MakeModel;
using mapn::model::Mapn;
using mapn::model::PerFrameSimpleBaseline;

constexpr double kPaperBaselineGflops = 11.96;

// Exits with the message: the options below are fixed, so a failure is a
// bug in this file or in the components.
template <typename Model>
Model Build(const typename Model::Options& options) {
  absl::StatusOr<Model> model = MakeModel<Model>(options);
  if (!model.ok()) {
    std::fprintf(stderr, "flops_table: %s\n",
                 std::string(model.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(model);
}

}  // namespace

int main() {
  std::printf(
      "# Simple Baseline, 256x256 input, 17 joints (COCO, as in the "
      "papers' baseline figures)\n"
      "# true_gmacs: multiply-adds executed; hrnet_gflops: HRNet "
      "model-summary convention (deconvolutions at output resolution); "
      "both / 2^30\n");
  std::printf(
      "# paper's baseline (Table 3, Simple Baseline ResNet-50 at "
      "256x256): %.2f GFLOPs in the HRNet convention\n",
      kPaperBaselineGflops);
  for (int depth : {18, 34, 50}) {
    PerFrameSimpleBaseline::Options options;  // 256 x 256, width 64
    options.extractor.depth = depth;
    options.head.out_channels = 17;
    const PerFrameSimpleBaseline model = Build<PerFrameSimpleBaseline>(options);
    const MacCount frame = model->ExtractorMacs() + model->HeadMacs();
    std::printf(
        "SimpleBaseline-R%d 256x256 true_gmacs=%.2f hrnet_gflops=%.2f\n", depth,
        frame.true_gmacs(), frame.hrnet_gmacs());
    std::printf(
        "#   (SI: %.2fe9 true multiply-adds; %.1f%% of the paper's "
        "baseline in its convention)\n",
        frame.true_macs / 1e9,
        100.0 * frame.hrnet_gmacs() / kPaperBaselineGflops);
  }

  std::printf(
      "# MAPN components, 256x256, 13 joints (Penn Action), per frame "
      "(true_gmacs / hrnet_gflops):\n");
  for (int depth : {18, 34}) {
    Mapn::Options options;  // the paper's: 3 x 3 ConvLSTM, head 256, 13 joints
    options.extractor.depth = depth;
    const Mapn model = Build<Mapn>(options);
    const MacCount gate = model->PolicyMacs(12) * (1.0 / 12);
    auto line = [](const char* what, const MacCount& m) {
      std::printf("#   %-38s %9.4f %9.4f\n", what, m.true_gmacs(),
                  m.hrnet_gmacs());
    };
    std::printf("#   ResNet-%d\n", depth);
    line("extractor (frames with g = 1)", model->ExtractorMacs());
    line("ConvLSTM step incl. warp (t >= 1)", model->PropagatorMacs());
    line("head (every frame)", model->HeadMacs());
    line("residual gate (12-frame window / 12)", gate);
  }
  return 0;
}
