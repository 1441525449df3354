#!/usr/bin/env bash
# Runs the reader's libFuzzer target for a bounded time from the seed corpus
# and passes when it ends without a crash, leak or sanitizer report.
# Usage (from Bazel): run_fuzzer.sh FUZZER SEED... ; MAPN_FUZZ_SECONDS
# overrides the duration (default 40).
set -euo pipefail
fuzzer="$1"
shift
corpus="${TEST_TMPDIR:-$(mktemp -d)}/corpus"
mkdir -p "$corpus"
# libFuzzer adds what it finds to the first corpus directory; the seeds in
# runfiles are read-only, so it works on a copy.
cp "$@" "$corpus/"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_odr_violation=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
seconds="${MAPN_FUZZ_SECONDS:-40}"
echo "fuzzing for ${seconds}s from $# seeds"
"$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
  -max_len=65536 -print_final_stats=1 "$corpus"
echo "fuzzing finished cleanly"
