// Every experiment end to end at the smoke scale (tiny SynthPose clips, one
// training step per stage) so that the code path of the real runs cannot
// rot, the rows following the policies they name, the paper's tables and
// the scatter plot, and the binary of Table 1 with its helper process. The
// harness alone is tested in harness/harness_test.cc.
#include <ATen/ATen.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "experiments/fig5_lambda_sweep/fig5_lambda_sweep.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/report.h"
#include "experiments/harness/test_helpers.h"
#include "experiments/harness/work_dir.h"
#include "experiments/paper_tables.h"
#include "experiments/scatter_plot.h"
#include "experiments/table1_ablation/table1_ablation.h"
#include "experiments/table2_gate_design/table2_gate_design.h"
#include "experiments/table3_comparison/table3_comparison.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/draw/canvas.h"
#include "mapn/viz/png.h"

namespace mapn::experiments {
namespace {

using train::EvalResult;

TEST(PlotTest, NiceTicksUseRoundSteps) {
  EXPECT_EQ(NiceTicks(0, 100, 5),
            (std::vector<double>{0, 20, 40, 60, 80, 100}));
  const std::vector<double> ticks = NiceTicks(91.3, 97.8, 6);
  ASSERT_FALSE(ticks.empty());
  EXPECT_GE(ticks.front(), 91.3);
  EXPECT_LE(ticks.back(), 97.8);
  EXPECT_NEAR(ticks[1] - ticks[0], 2.0, 1e-9);  // 6.5 / 6 -> 2
  EXPECT_TRUE(NiceTicks(3, 3, 5).empty());
  EXPECT_TRUE(NiceTicks(NAN, 3, 5).empty());
  const auto [lo, hi] = NiceRange(91.3, 97.8, 6);
  EXPECT_DOUBLE_EQ(lo, 90.0);
  EXPECT_DOUBLE_EQ(hi, 98.0);
  const auto [same_lo, same_hi] = NiceRange(5, 5, 4);
  EXPECT_LT(same_lo, 5);
  EXPECT_GT(same_hi, 5);
}

TEST(PlotTest, MarkersSitWhereTheirValuesSayAndGrowWithSize) {
  ScatterPlot plot;
  plot.title = "test";
  plot.x_label = "x";
  plot.y_label = "y";
  plot.x_range = std::make_pair(0.0, 100.0);
  plot.y_range = std::make_pair(0.0, 10.0);
  plot.points.push_back({20, 2, 1.0, "", {255, 0, 0}});
  plot.points.push_back({80, 8, 0.25, "", {0, 0, 255}});
  const at::Tensor image = RenderScatterPlot(plot);
  ASSERT_EQ(image.sizes(), (std::vector<int64_t>{3, plot.height, plot.width}));
  // Plot area as RenderScatterPlot lays it out: x 96 .. width - 36, y 70 ..
  // height - 78.
  const double left = 96, right = plot.width - 36, top = 70,
               bottom = plot.height - 78;
  auto at = [&](double x, double y, int c) {
    const int64_t px = std::lround(left + x / 100 * (right - left));
    const int64_t py = std::lround(bottom - y / 10 * (bottom - top));
    return image[c][py][px].item<int>();
  };
  EXPECT_GT(at(20, 2, 0), 200);  // red centre
  EXPECT_LT(at(20, 2, 2), 100);
  EXPECT_GT(at(80, 8, 2), 200);  // blue centre
  EXPECT_LT(at(80, 8, 0), 100);
  // Radius in proportion: the red marker (size 1) covers 20 px to its
  // right, the blue one (size 0.25, 6.5 px) does not.
  const int64_t red_x = std::lround(left + 0.2 * (right - left)) + 20;
  const int64_t red_y = std::lround(bottom - 0.2 * (bottom - top));
  EXPECT_GT(image[0][red_y][red_x].item<int>(), 200);
  const int64_t blue_x = std::lround(left + 0.8 * (right - left)) + 12;
  const int64_t blue_y = std::lround(bottom - 0.8 * (bottom - top));
  EXPECT_EQ(image[2][blue_y][blue_x].item<int>(),
            image[0][blue_y][blue_x].item<int>());  // background (grey/white)
}

TEST(PlotTest, ALongSubtitleWrapsInsteadOfLeavingThePicture) {
  ScatterPlot plot;
  plot.title = "test";
  plot.subtitle = std::string(60, 'x') + " " + std::string(60, 'y');
  plot.points.push_back({1, 1, 1.0, "", {255, 0, 0}});
  const at::Tensor image = RenderScatterPlot(plot);
  const int line = Canvas::TextHeight(2);
  // Nothing drawn in the first columns (a centred line wider than the
  // picture would start there), and a second line below the first.
  const at::Tensor first_columns = image.slice(1, 50, 50 + line).slice(2, 0, 4);
  EXPECT_EQ(first_columns.min().item<int>(), 255);
  const at::Tensor second_line =
      image.slice(1, 50 + line + 6, 50 + 2 * line + 6);
  EXPECT_LT(second_line.min().item<int>(), 200);
}

TEST(PlotTest, LabelsOfMarkersAtTheRightBorderStayInsideThePlot) {
  // Figure 5's case: two sweep points on top of each other at 100 %.
  ScatterPlot plot;
  plot.title = "t";
  plot.x_range = std::make_pair(0.0, 105.0);
  plot.y_range = std::make_pair(91.0, 94.0);
  plot.points.push_back({100, 92.62, 1.0, "lambda 1e-04", {40, 100, 200}});
  plot.points.push_back({100, 92.65, 1.0, "lambda 2e-04", {40, 100, 200}});
  plot.points.push_back({100, 92.6, 1.0, "", {230, 130, 30}});
  const at::Tensor image = RenderScatterPlot(plot);
  // Plot area: x 96 .. width - 36, y 70 .. height - 78 (as above). Right
  // of it, inside the picture, nothing but background.
  const at::Tensor margin = image.slice(1, 70, plot.height - 78)
                                .slice(2, plot.width - 34, plot.width);
  EXPECT_EQ(margin.min().item<int>(), 255);
  // Both labels were drawn: label text (dark blue; axes and grid are grey)
  // appears left of the markers on two different lines.
  const int64_t marker_x = std::lround(96 + 100.0 / 105 * (plot.width - 132));
  const at::Tensor left_of = image.slice(2, 100, marker_x - 30).to(at::kInt);
  const at::Tensor dark_rows =
      ((left_of[2] - left_of[0] > 40) & (left_of[2] < 200)).any(1).nonzero();
  ASSERT_GT(dark_rows.size(0), 0);
  const int64_t first = dark_rows.min().item<int64_t>();
  const int64_t last = dark_rows.max().item<int64_t>();
  EXPECT_GT(last - first, Canvas::TextHeight(2)) << first << " " << last;
}

TEST(TableTest, OursAndPaperRowsAreLabelledAndAligned) {
  const EvalResult ours = FakeRow("e mapn", 91.25, 27.5);
  ComparisonTable table;
  table.title = "Table 1: test";
  table.notes = {"Ours: fake"};
  table.setting_names = {"F_P", "Warp", "Gate"};
  table.rows.push_back({"e", {"yes", "yes", "Res."}, &ours, PaperTable1()[4]});
  table.rows.push_back({"-", {"paper only"}, nullptr, PaperTable1()[0]});
  const std::string text = FormatComparisonTable(table);
  EXPECT_TRUE(Has(text, "Table 1: test\nOurs: fake\n")) << text;
  EXPECT_TRUE(Has(text, "ours")) << text;
  EXPECT_TRUE(Has(text, "paper")) << text;
  EXPECT_TRUE(Has(text, "91.2")) << text;   // our PCK
  EXPECT_TRUE(Has(text, "27.5%")) << text;  // our keyframes
  EXPECT_TRUE(Has(text, "0.500")) << text;  // our true GMACs
  EXPECT_TRUE(Has(text, "97.7")) << text;   // the paper's row e
  EXPECT_TRUE(Has(text, "4.10")) << text;   // its GFLOPs
  // Header and data lines end their Mean column at the same place.
  std::vector<std::string> lines;
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
  }
  size_t header = 0;
  while (header < lines.size() && lines[header].rfind("ID ", 0) != 0) ++header;
  ASSERT_LT(header + 1, lines.size());
  const size_t mean_end = lines[header].find("Mean") + 4;
  EXPECT_EQ(lines[header + 1].substr(mean_end - 4, 4), "91.2") << text;
  EXPECT_EQ(lines[header + 2].substr(mean_end - 4, 4), "97.7") << text;

  const std::string csv = ComparisonCsv(table);
  EXPECT_TRUE(Has(csv, "id,F_P,Warp,Gate,source,Head")) << csv;
  EXPECT_TRUE(Has(csv, "e,yes,yes,Res.,ours,91.25")) << csv;
  EXPECT_TRUE(Has(csv, ",paper,98.6")) << csv;
}

TEST(TableTest, PaperTablesHaveTheirRows) {
  EXPECT_EQ(PaperTable1().size(), 5u);
  EXPECT_EQ(PaperTable2().size(), 3u);
  EXPECT_EQ(PaperTable3().size(), 4u);
  EXPECT_EQ(PaperTable4().size(), 3u);
  // The paper's Mean is the per-joint mean: Table 3, ours R18.
  const PaperRow& r18 = PaperTable3()[3];
  const double per_joint =
      (r18.pck[0] + 2 * (r18.pck[1] + r18.pck[2] + r18.pck[3] + r18.pck[4] +
                         r18.pck[5] + r18.pck[6])) /
      13;
  EXPECT_NEAR(per_joint, r18.pck[7], 0.05);
}

absl::StatusOr<ExperimentReport> RunSmoke(
    const ExperimentDefinition& definition) {
  MAPN_ASSIGN_OR_RETURN(Experiment exp,
                        Experiment::Create(definition.name, SmokeOptions()));
  MAPN_ASSIGN_OR_RETURN(ExperimentReport report, definition.run(exp));
  for (const std::string& file : report.files) {
    if (file.rfind(exp.ResultsDir(), 0) != 0) {
      return absl::InternalError(file + " is outside " + exp.ResultsDir());
    }
  }
  return report;
}

TEST(ExperimentTest, EveryExperimentRunsEndToEnd) {
  struct Case {
    const ExperimentDefinition* definition;
    size_t rows;
    const char* title;
  };
  const Case cases[] = {
      {&kTable1Ablation, 6, "Table 1"},
      {&kTable2GateDesign, 3, "Table 2"},
      {&kFig5LambdaSweep, 4, "Figure 5"},
      {&kTable3Comparison, 6, "Table 3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.definition->name);
    absl::StatusOr<ExperimentReport> report = RunSmoke(*c.definition);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->rows.size(), c.rows);
    for (const EvalResult& row : report->rows) {
      EXPECT_GT(row.frames, 0) << row.label;
      EXPECT_GE(row.pck.mean, 0) << row.label;
      EXPECT_LE(row.pck.mean, 100) << row.label;
      EXPECT_GT(row.keyframe_percent, 0) << row.label;
      EXPECT_GT(row.macs_per_frame.true_macs, 0) << row.label;
    }
    EXPECT_TRUE(Has(report->table, c.title)) << report->table;
    EXPECT_TRUE(Has(report->table, "ours")) << report->table;
    EXPECT_TRUE(Has(report->table,
                    "ResNet-18 (base width 8), 64 x 64 crops, head 16 "
                    "channels, 1 x 1 ConvLSTM"))
        << report->table;
    for (const std::string& file : report->files) {
      EXPECT_TRUE(FileExists(file)) << file;
    }
  }
}

TEST(ExperimentTest, RowsFollowThePoliciesTheyName) {
  absl::StatusOr<ExperimentReport> t1 = RunSmoke(kTable1Ablation);
  ASSERT_TRUE(t1.ok()) << t1.status();
  EXPECT_EQ(t1->rows[0].label, "a iframe_nowarp");
  EXPECT_EQ(t1->rows[4].label, "e mapn");
  // a and b extract I-frames only: one frame per window of 12 (the smoke
  // clips have 14 frames: windows of 12 and 2 frames).
  const double iframes = 100.0 * 2 / 14;
  EXPECT_NEAR(t1->rows[0].keyframe_percent, iframes, 1e-9);
  EXPECT_NEAR(t1->rows[1].keyframe_percent, iframes, 1e-9);
  EXPECT_DOUBLE_EQ(t1->rows[2].keyframe_percent, 100);  // c
  EXPECT_DOUBLE_EQ(t1->rows[5].keyframe_percent, 100);  // per frame
  EXPECT_NEAR(t1->rows[5].true_macs_ratio, 1.0, 1e-9);
  // The baseline costs the same with or without the propagator: c pays
  // the ConvLSTM on top.
  EXPECT_GT(t1->rows[2].macs_per_frame.true_macs,
            t1->rows[5].macs_per_frame.true_macs);

  absl::StatusOr<ExperimentReport> f5 = RunSmoke(kFig5LambdaSweep);
  ASSERT_TRUE(f5.ok()) << f5.status();
  std::string png;
  for (const std::string& file : f5->files) {
    if (file.size() > 4 && file.substr(file.size() - 4) == ".png") png = file;
  }
  ASSERT_FALSE(png.empty());
  absl::StatusOr<at::Tensor> image = ReadPng(png);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->size(0), 3);
  EXPECT_GT(image->size(2), 500);
}

// The binary itself: flags, the helper process, the table last on stdout.
struct Outcome {
  int code;
  std::string out, err;
};

Outcome RunBinary(const std::string& args) {
  const std::string out = TestDir("binary.out"), err = TestDir("binary.err");
  const int status =
      std::system(("experiments/table1_ablation/table1_ablation " + args +
                   " >" + out + " 2>" + err)
                      .c_str());
  Outcome r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, "", ""};
  r.out = ReadFile(out).value_or("");
  r.err = ReadFile(err).value_or("");
  return r;
}

TEST(BinaryTest, PrintsItsTableLastWithAHelperProcess) {
  const Outcome r = RunBinary("--scale=smoke --threads=2 --work_dir=" +
                              TestDir("binary_work"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Has(r.err, "[helper]")) << r.err;  // the helper trained a part
  // The two processes split the 2 cores, after the Simple Baseline that
  // every row needs was trained on both.
  EXPECT_TRUE(Has(r.err, "1 + 1 threads until it ends")) << r.err;
  EXPECT_LT(r.err.find("trained simple_baseline"), r.err.find("helper process"))
      << r.err;
  EXPECT_TRUE(Has(r.out, "wrote ")) << r.out;
  const size_t table = r.out.find("Table 1:");
  ASSERT_NE(table, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("wrote ", table), std::string::npos) << r.out;
  EXPECT_TRUE(Has(r.out.substr(table), "\nSB ")) << r.out;

  const Outcome bad =
      RunBinary("--scale=huge --work_dir=" + TestDir("bad_work"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(Has(bad.err, "huge")) << bad.err;
  EXPECT_EQ(RunBinary("extra_argument").code, 2);
  // --help lists the shared flags, defined in experiment_main.cc.
  const Outcome help = RunBinary("--help");
  EXPECT_TRUE(Has(help.out + help.err, "--work_dir")) << help.out << help.err;
  EXPECT_TRUE(Has(help.out + help.err, "--scale")) << help.out << help.err;
}

}  // namespace
}  // namespace mapn::experiments
