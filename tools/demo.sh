#!/usr/bin/env bash
# The README's main job: installs what is missing, builds mapn and runs
# `mapn estimate` twice, each time comparing against the per-frame baseline
# (the same encoder and head on every frame) in the same run:
#  1. on a SynthPose clip the bundled SynthPose model has never seen
#     (--model=synthpose): prints PCK against the clip's exact labels, the
#     keyframe share, multiply-adds per frame and the measured speed-up;
#     writes poses.json, poses.csv and overlay.mp4;
#  2. on real people, OpenCV's pedestrian clip vtest.avi (768x576,
#     MS-MPEG-4 v3, which mapn transcodes itself; tools/setup.sh fetches it),
#     with the default model, MAPN distilled on MoveNet Lightning, and the
#     person detector finding one pedestrian per GOP window (one person per
#     frame until multi-person lands): there are no labels, so it prints
#     the keyframe share, multiply-adds per frame and the speed-up; writes
#     vtest.poses.json, vtest.poses.csv and vtest_overlay.mp4.
# Everything lands in the output folder, demo-output/ by default.
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
"$mapn" estimate "$clip" --model=synthpose \
    --boxes="$labels" --ground_truth="$labels" \
    --out="$out/poses.json" --csv="$out/poses.csv" \
    --overlay="$out/overlay.mp4" --panels --compare_baseline

# tools/setup.sh put it there, unless told to skip it.
vtest="${MAPN_DATA_DIR:-$HOME/.cache/mapn/data}/vtest.avi"
if [ ! -s "$vtest" ]; then
  echo "demo: $vtest is missing (MAPN_SKIP_DEMO_VIDEO=1 or MAPN_SKIP_MODELS=1" \
       "skipped it; rerun tools/setup.sh without them); no real-video part" >&2
  exit 0
fi

echo
echo "== mapn estimate on real people: OpenCV's vtest.avi (pedestrians, 768x576) =="
# The pedestrians are small (a sixth of the frame's height or less): the
# default detector (MultiPose) scores them below its 0.5 and finds nobody in
# this clip; CenterNet finds them, though in some windows it takes the round
# road sign for one (docs/models.md, "Person detection"). Every person found
# is tracked with an id of their own; the four best at a time keep the demo
# quick (without --max_people it follows up to 11 at once: 57 tracks, about
# 7 people a frame; 9.5 minutes here with tests running beside it).
"$mapn" estimate "$vtest" \
    --out="$out/vtest.poses.json" --csv="$out/vtest.poses.csv" \
    --overlay="$out/vtest_overlay.mp4" --compare_baseline --detector=centernet \
    --max_people=4
