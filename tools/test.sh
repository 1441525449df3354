#!/usr/bin/env bash
# Builds and runs every test, then prints "N passed, N failed" computed from
# Bazel's per-target results (its Build Event Protocol log), and exits non-zero
# when anything failed. Extra arguments go to `bazel test` (for example
# --config=asan).
#
# Usage: tools/test.sh [bazel test flags...]
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1

bep="$(mktemp -t mapn-bep.XXXXXX.json)"
trap 'rm -f "$bep"' EXIT

bazel test //... --keep_going --build_event_json_file="$bep" "$@"
bazel_rc=$?

# One JSON object per line. A test target is one whose targetConfigured event
# names a "*_test rule"; it passed when its testSummary says PASSED or FLAKY.
# Test targets with no summary (they failed to build) count as failed.
read -r passed failed < <(awk '
  function label_of(line) {
    if (match(line, /"label":"[^"]*"/)) return substr(line, RSTART + 9, RLENGTH - 10)
    return ""
  }
  /"targetConfigured"/ && /"targetKind":"[a-z_]*_test rule"/ { tests[label_of($0)] = 1 }
  /"testSummary":\{"label"/ {
    l = label_of($0)
    if ($0 ~ /"overallStatus":"(PASSED|FLAKY)"/) ok[l] = 1
  }
  END {
    p = 0; f = 0
    for (t in tests) { if (t in ok) p++; else { f++; print "FAILED: " t > "/dev/stderr" } }
    print p, f
  }' "$bep")

if [ "$bazel_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # Bazel failed before any test could run (a broken BUILD file, say).
  echo "bazel test exited with $bazel_rc before running the tests" >&2
  failed=1
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
