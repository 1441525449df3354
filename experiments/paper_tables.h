// File: paper_tables.h
//
// The paper's numbers (Tables 1 to 4 of "Motion Adaptive Pose Estimation
// from Compressed Videos", ICCV 2021, copied from its text) and the table
// the experiments print last: each of our rows with the paper's row for the
// same setting beneath it, clearly labelled, so that a reader compares like
// with like. The paper's GFLOPs are printed as the paper gives them; ours
// are what the pipeline executed, in both conventions of mapn/model/flops.h
// (2^30 multiply-adds), because the paper's per-row figures cannot be
// derived from its text (docs/architecture.md, "FLOPs").
//
// Example:
//
//   ComparisonTable table;
//   table.title = "Table 1: usage of the compressed information";
//   table.setting_names = {"F_P", "Warp", "Gate"};
//   table.rows.push_back({"a", {"-", "-", "-"}, &row_a, PaperTable1()[0]});
//   std::cout << FormatComparisonTable(table);
#ifndef MAPN_EXPERIMENTS_PAPER_TABLES_H_
#define MAPN_EXPERIMENTS_PAPER_TABLES_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "mapn/train/evaluate.h"

namespace mapn::experiments {

// One row of a paper table: PCK@0.2 of Head, Sho., Elb., Wri., Hip, Knee,
// Ank. and Mean; keyframe % and GFLOPs as printed (NaN where the paper has
// none).
struct PaperRow {
  std::string label;
  std::array<double, 8> pck = {};
  double keyframe_percent = 0;
  double gflops = 0;
};

// Table 1 (Penn Action, ResNet-34): rows a to e.
const std::vector<PaperRow>& PaperTable1();
// Table 2 (Sub-JHMDB): no temporal / no PE, temporal / no PE, both.
const std::vector<PaperRow>& PaperTable2();
// Table 3 (Penn Action): the Simple Baseline [45] (ResNet-50), KFP
// (ResNet-34) [49], ours ResNet-34, ours ResNet-18.
const std::vector<PaperRow>& PaperTable3();
// Table 4 (Sub-JHMDB, mean of 3 splits): the Simple Baseline [45], KFP
// (ResNet-18) [49], ours ResNet-18.
const std::vector<PaperRow>& PaperTable4();

// A row of ours (may be absent: a paper-only method), with the paper's row
// for the same setting (may be absent: beyond the paper).
struct ComparisonRow {
  std::string id;
  std::vector<std::string> settings;  // one per ComparisonTable column
  const train::EvalResult* ours = nullptr;
  std::optional<PaperRow> paper;
};

struct ComparisonTable {
  std::string title;
  // Lines printed under the title (what "ours" and "paper" were run on).
  std::vector<std::string> notes;
  std::vector<std::string> setting_names;
  std::vector<ComparisonRow> rows;
};

// The aligned text table: title, notes, a caption of the conventions, a
// header, and for each row a line "ours" and a line "paper" (when present).
std::string FormatComparisonTable(const ComparisonTable& table);

// The same as CSV: id, settings, source (ours / paper), the 8 PCK columns,
// keyframe_percent, true_gmacs, hrnet_gmacs, true_macs_ratio,
// paper_gflops; empty cells where a value does not exist.
std::string ComparisonCsv(const ComparisonTable& table);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_PAPER_TABLES_H_
