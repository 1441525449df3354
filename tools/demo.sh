#!/usr/bin/env bash
# The README's main job: installs what is missing, builds mapn, makes a
# SynthPose clip the bundled model has never seen, and estimates its poses
# with `mapn estimate`, comparing against the per-frame Simple Baseline in the
# same run. Prints PCK against the clip's exact labels, the keyframe share,
# multiply-adds per frame and the measured speed-up; writes poses.json,
# poses.csv and overlay.mp4 into demo-output/.
#
# Usage: tools/demo.sh [output_dir]     (default: demo-output)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
out="${1:-demo-output}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

bazel build //:mapn
mapn="$(bazel info bazel-bin 2>/dev/null)/mapn/cli/mapn"

# A seed the bundled model's training set did not use (docs/results.md).
"$mapn" synth "$out/synthpose" --num_clips=1 --seed=20261126 \
    --min_frames=72 --max_frames=72
clip="$out/synthpose/mpeg4_gop12/0001.mp4"
labels="$out/synthpose/labels/0001.mat"

echo
echo "== mapn estimate on a SynthPose clip (72 frames, 320x240) =="
"$mapn" estimate "$clip" \
    --boxes="$labels" --ground_truth="$labels" \
    --out="$out/poses.json" --csv="$out/poses.csv" \
    --overlay="$out/overlay.mp4" --panels --compare_baseline
