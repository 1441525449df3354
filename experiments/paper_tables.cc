#include "experiments/paper_tables.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace mapn::experiments {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
constexpr int kPckColumns = 8;
const char* const kPckNames[kPckColumns] = {"Head", "Sho.", "Elb.", "Wri.",
                                            "Hip",  "Knee", "Ank.", "Mean"};

std::string Fixed(double v, int decimals) {
  return std::isfinite(v) ? absl::StrFormat("%.*f", decimals, v)
                          : std::string();
}

// Our row's 8 PCK columns in the paper's order.
std::array<double, kPckColumns> OurPck(const train::EvalResult& r) {
  std::array<double, kPckColumns> out;
  out.fill(kNone);
  for (int i = 0;
       i < kPckColumns - 1 && i < static_cast<int>(r.pck.groups.size()); ++i) {
    out[i] = r.pck.groups[i];
  }
  out[kPckColumns - 1] = r.pck.mean;
  return out;
}

std::string PadRight(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string PadLeft(const std::string& s, size_t width) {
  return s.size() >= width ? " " + s : std::string(width - s.size(), ' ') + s;
}

}  // namespace

const std::vector<PaperRow>& PaperTable1() {
  static const std::vector<PaperRow> rows = {
      {"a", {95.8, 95.6, 91.1, 87.5, 96.8, 96.0, 94.8, 93.8}, 8.3, 1.52},
      {"b", {98.3, 98.0, 93.8, 90.3, 97.8, 97.2, 95.8, 95.8}, 8.3, 1.54},
      {"c", {99.2, 98.8, 97.5, 97.0, 98.6, 98.1, 97.7, 98.1}, 100, 10.32},
      {"d", {98.8, 98.6, 96.7, 95.9, 98.2, 97.8, 97.3, 97.5}, 43.2, 5.36},
      {"e", {98.6, 98.4, 96.9, 95.7, 98.5, 98.1, 97.7, 97.7}, 29.0, 4.10},
  };
  return rows;
}

const std::vector<PaperRow>& PaperTable2() {
  static const std::vector<PaperRow> rows = {
      {"no temporal, no PE",
       {98.2, 97.3, 91.7, 85.7, 99.2, 96.6, 92.1, 94.8},
       45.3,
       3.14},
      {"temporal, no PE",
       {98.2, 97.3, 91.6, 84.9, 99.2, 96.6, 92.2, 94.6},
       38.7,
       2.84},
      {"temporal + PE",
       {98.2, 97.4, 91.7, 85.2, 99.2, 96.7, 92.2, 94.7},
       35.2,
       2.70},
  };
  return rows;
}

const std::vector<PaperRow>& PaperTable3() {
  static const std::vector<PaperRow> rows = {
      {"baseline [45] (Simple Baseline ResNet-50)",
       {98.1, 98.2, 96.3, 96.4, 98.4, 97.5, 97.1, 97.4},
       kNone,
       11.96},
      {"KFP (ResNet-34) [49]",
       {98.2, 98.2, 96.0, 93.6, 98.7, 98.6, 98.4, 97.4},
       38.0,
       4.68},
      {"Ours (ResNet-34)",
       {98.6, 98.4, 96.9, 95.7, 98.5, 98.1, 97.7, 97.7},
       29.0,
       4.10},
      {"Ours (ResNet-18)",
       {98.9, 98.7, 96.9, 96.3, 98.4, 98.0, 97.4, 97.7},
       29.7,
       2.46},
  };
  return rows;
}

const std::vector<PaperRow>& PaperTable4() {
  static const std::vector<PaperRow> rows = {
      {"baseline [45] (Simple Baseline ResNet-50)",
       {97.5, 97.8, 91.1, 86.0, 99.6, 96.8, 92.6, 94.4},
       kNone,
       11.96},
      {"KFP (ResNet-18) [49]",
       {94.7, 96.3, 95.2, 90.2, 96.4, 95.5, 93.2, 94.5},
       40.8,
       4.68},
      {"Ours (ResNet-18)",
       {98.2, 97.4, 91.7, 85.2, 99.2, 96.7, 92.2, 94.7},
       35.2,
       2.70},
  };
  return rows;
}

std::string FormatComparisonTable(const ComparisonTable& table) {
  std::string out = table.title + "\n";
  for (const std::string& note : table.notes) absl::StrAppend(&out, note, "\n");
  std::string visibility = "visible joints";
  for (const ComparisonRow& row : table.rows) {
    if (row.ours != nullptr) {
      if (row.ours->pck.options.visibility == PckVisibility::kAllJoints) {
        visibility = "all joints";
      }
      break;
    }
  }
  absl::StrAppend(
      &out, "PCK@0.2 over ", visibility,
      ", Mean = mean of the per-joint PCKs. Keyframe: frames the extractor "
      "ran on. GMACs: per frame, 2^30 multiply-adds, true / HRNet-tool "
      "convention; xBase: true MACs over the per-frame Simple Baseline's "
      "with the same backbone. Paper GFLOPs: as printed in the paper "
      "(convention not stated).\n");

  size_t id_width = 3;
  for (const ComparisonRow& row : table.rows) {
    id_width = std::max(id_width, row.id.size() + 2);
  }
  std::vector<size_t> setting_width;
  for (size_t c = 0; c < table.setting_names.size(); ++c) {
    size_t w = table.setting_names[c].size() + 2;
    for (const ComparisonRow& row : table.rows) {
      if (c < row.settings.size()) w = std::max(w, row.settings[c].size() + 2);
    }
    setting_width.push_back(w);
  }
  std::string header = PadRight("ID", id_width);
  for (size_t c = 0; c < table.setting_names.size(); ++c) {
    absl::StrAppend(&header,
                    PadRight(table.setting_names[c], setting_width[c]));
  }
  absl::StrAppend(&header, PadRight("Source", 7));
  for (const char* name : kPckNames) absl::StrAppend(&header, PadLeft(name, 6));
  absl::StrAppend(&header, PadLeft("Keyframe", 10), PadLeft("GMACs", 8),
                  PadLeft("HRNet", 8), PadLeft("xBase", 7),
                  PadLeft("Paper GFLOPs", 14));
  absl::StrAppend(&out, header, "\n");

  auto line = [&](const std::string& id,
                  const std::vector<std::string>& settings,
                  const std::string& source,
                  const std::array<double, kPckColumns>& pck, double keyframe,
                  const std::string& tail) {
    std::string l = PadRight(id, id_width);
    for (size_t c = 0; c < setting_width.size(); ++c) {
      absl::StrAppend(
          &l, PadRight(c < settings.size() ? settings[c] : std::string(),
                       setting_width[c]));
    }
    absl::StrAppend(&l, PadRight(source, 7));
    for (double v : pck) absl::StrAppend(&l, PadLeft(Fixed(v, 1), 6));
    absl::StrAppend(
        &l,
        PadLeft(std::isfinite(keyframe) ? Fixed(keyframe, 1) + "%" : "-", 10),
        tail);
    // No trailing blanks.
    l.erase(l.find_last_not_of(' ') + 1);
    return l + "\n";
  };
  for (const ComparisonRow& row : table.rows) {
    bool first = true;
    if (row.ours != nullptr) {
      const train::EvalResult& r = *row.ours;
      absl::StrAppend(
          &out,
          line(
              row.id, row.settings, "ours", OurPck(r), r.keyframe_percent,
              absl::StrCat(PadLeft(Fixed(r.macs_per_frame.true_gmacs(), 3), 8),
                           PadLeft(Fixed(r.macs_per_frame.hrnet_gmacs(), 3), 8),
                           PadLeft(Fixed(r.true_macs_ratio, 3), 7))));
      first = false;
    }
    if (row.paper.has_value()) {
      const PaperRow& p = *row.paper;
      absl::StrAppend(
          &out,
          line(first ? row.id : "",
               first ? row.settings : std::vector<std::string>(), "paper",
               p.pck, p.keyframe_percent,
               absl::StrCat(PadLeft("", 8), PadLeft("", 8), PadLeft("", 7),
                            PadLeft(Fixed(p.gflops, 2), 14))));
    }
  }
  return out;
}

std::string ComparisonCsv(const ComparisonTable& table) {
  std::vector<std::string> header = {"id"};
  for (const std::string& name : table.setting_names) header.push_back(name);
  header.push_back("source");
  for (const char* name : kPckNames) header.push_back(name);
  for (const char* name : {"keyframe_percent", "true_gmacs", "hrnet_gmacs",
                           "true_macs_ratio", "paper_gflops"}) {
    header.push_back(name);
  }
  std::string out = absl::StrJoin(header, ",") + "\n";
  auto quoted = [](const std::string& s) {
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  for (const ComparisonRow& row : table.rows) {
    auto prefix = [&](const std::string& source) {
      std::vector<std::string> cells = {quoted(row.id)};
      for (size_t c = 0; c < table.setting_names.size(); ++c) {
        cells.push_back(
            quoted(c < row.settings.size() ? row.settings[c] : std::string()));
      }
      cells.push_back(source);
      return cells;
    };
    if (row.ours != nullptr) {
      const train::EvalResult& r = *row.ours;
      std::vector<std::string> cells = prefix("ours");
      for (double v : OurPck(r)) cells.push_back(Fixed(v, 2));
      cells.push_back(Fixed(r.keyframe_percent, 2));
      cells.push_back(Fixed(r.macs_per_frame.true_gmacs(), 4));
      cells.push_back(Fixed(r.macs_per_frame.hrnet_gmacs(), 4));
      cells.push_back(Fixed(r.true_macs_ratio, 4));
      cells.push_back("");
      absl::StrAppend(&out, absl::StrJoin(cells, ","), "\n");
    }
    if (row.paper.has_value()) {
      const PaperRow& p = *row.paper;
      std::vector<std::string> cells = prefix("paper");
      for (double v : p.pck) cells.push_back(Fixed(v, 1));
      cells.push_back(Fixed(p.keyframe_percent, 1));
      cells.push_back("");
      cells.push_back("");
      cells.push_back("");
      cells.push_back(Fixed(p.gflops, 2));
      absl::StrAppend(&out, absl::StrJoin(cells, ","), "\n");
    }
  }
  return out;
}

}  // namespace mapn::experiments
