#!/usr/bin/env bash
# PCK@0.2 of mapn's models on real people with official labels (the
# "Real people" section of docs/results.md): the JHMDB clip and the labelled
# PoseTrack18 frames that other projects published in ../shared/data/real
# (SOURCES.md sections 2 and 3), each through `mapn estimate --ground_truth`,
# for per-frame MoveNet Lightning and Thunder and the bundled SynthPose
# model. On the clip: with the person found by the detector (the default),
# over the whole frame (--detector=none) and in the labels' boxes. Needs the shared data and the model cache (tools/setup.sh).
#
# Usage: tools/real_people.sh [output_dir]     (default: /tmp/real-people)
# Each run's poses (NAME.json) and printed summary (NAME.txt) stay there.
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${MAPN_SHARED_DIR:-$(cd .. && pwd)/shared}/data/real"
out="${1:-/tmp/real-people}"
mkdir -p "$out"

bazel build //:mapn >/dev/null 2>&1
mapn="$(bazel info bazel-bin 2>/dev/null)/mapn/cli/mapn"

jhmdb="$shared/jhmdb-readannotation/ReadJHMDBAnnotations/data"
clip="$jhmdb/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi"
posetrack="$shared/mmpose/tests/data/posetrack18"
models=(bundled movenet_lightning movenet_thunder)

# Runs mapn estimate; prints the PCK it reports.
pck() {
  local name="$1"
  shift
  "$mapn" estimate "$@" --out="$out/$name.json" --progress=never \
    >"$out/$name.txt" 2>&1
  sed -n 's/^PCK@0.2 against ground truth: //p' "$out/$name.txt"
}

model_flag() { [[ "$1" == bundled ]] || echo "--model=$1"; }

echo "== JHMDB clip, 40 frames, official joint_positions.mat (PCK@0.2, JHMDB's 15 joints) =="
printf '%-18s %10s %12s %12s\n' model detected "whole frame" "label boxes"
for model in "${models[@]}"; do
  row=()
  for boxes in detected whole labels; do
    case "$boxes" in
      detected) extra=() ;;
      whole) extra=(--detector=none) ;;
      labels) extra=(--ground_truth_boxes) ;;
    esac
    row+=("$(pck "jhmdb_${model}_$boxes" "$clip" $(model_flag "$model") \
      --ground_truth="$jhmdb/joint_positions.mat" "${extra[@]}")")
  done
  printf '%-18s %10s %12s %12s\n' "$model" "${row[@]}"
done

echo
echo "== PoseTrack18 val frames, each labelled person in its box (PCK@0.2, Penn Action's 13 joints) =="
printf '%-18s %8s %8s\n' model people "mean PCK"
for model in "${models[@]}"; do
  values=()
  for labels in "$posetrack"/annotations/val/*.json; do
    video="$(basename "$labels" .json)"
    image="$posetrack/images/val/$video/000000.jpg"
    for person in $(grep -o '"track_id": *[0-9]*' "$labels" |
      grep -o '[0-9]*$' | sort -un); do
      values+=("$(pck "posetrack_${model}_${video}_$person" "$image" \
        $(model_flag "$model") --ground_truth="$labels" \
        --person="$person" --ground_truth_boxes)")
    done
  done
  printf '%s\n' "${values[@]}" | awk -v model="$model" \
    '{ sum += $1; n += 1 } END { printf "%-18s %8d %8.1f\n", model, n, sum / n }'
done
echo
echo "per-run summaries: $out/*.txt"
