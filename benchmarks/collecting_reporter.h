// File: collecting_reporter.h
//
// Google Benchmark's console reporter that also keeps every benchmark's real
// time, for the benchmarks of this folder that end with a line comparing
// them (a fraction of a baseline frame, a rate against a dense
// convolution). With repetitions it keeps the "min" aggregate, the least
// disturbed figure on a shared machine; without, the run itself.
//
// Example:
//
//   CollectingReporter reporter;
//   benchmark::RunSpecifiedBenchmarks(&reporter);
//   const double ratio = reporter.Time("BM_Warp") / reporter.Time("BM_Frame");
#ifndef MAPN_BENCHMARKS_COLLECTING_REPORTER_H_
#define MAPN_BENCHMARKS_COLLECTING_REPORTER_H_

#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace mapn::benchmarks {

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool min =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "min";
      if (!min && run.run_type != Run::RT_Iteration) continue;
      std::string name = run.run_name.function_name;
      if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
      if (times_.count(name) == 0) names_.push_back(name);
      // A min aggregate replaces the repetitions reported before it.
      if (min || !has_min_.count(name))
        times_[name] = run.GetAdjustedRealTime();
      if (min) has_min_[name] = true;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // The real time of benchmark `name` ("BM_Warp", "BM_Encoder/Thunder") in
  // its unit, or 0 when it did not run.
  double Time(const std::string& name) const {
    const auto it = times_.find(name);
    return it == times_.end() ? 0.0 : it->second;
  }
  // The names, in the order they first reported.
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, double> times_;
  std::map<std::string, bool> has_min_;
};

}  // namespace mapn::benchmarks

#endif  // MAPN_BENCHMARKS_COLLECTING_REPORTER_H_
