#!/bin/bash
# Trains the two models bundled in mapn/estimate/models/ (used by
# `mapn estimate` without --checkpoint) with the project's own `mapn synth`
# and `mapn train`, measures them with `mapn eval` on the held-out SynthPose
# clips, and copies them into mapn/estimate/models/. docs/results.md records
# what this printed.
#
#   tools/train_default_model.sh [WORK_DIR]      (default /tmp/mapn-default-model)
#
# About 30 minutes on an idle 2-core machine. A step whose output exists in
# WORK_DIR is skipped, so an interrupted run continues. The models see only
# synthetic figures: they are for trying mapn out, not for real footage.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/mapn-default-model}"
mkdir -p "$work"
bazel build //:mapn
mapn="$PWD/bazel-bin/mapn/cli/mapn"
export MAPN_NUM_THREADS="${MAPN_NUM_THREADS:-1}"  # reproducible weights

# The recipe of the default scale of experiments/ (docs/results.md): small
# enough to ship (7.5 MB) and to keep P-frames cheap: ResNet-18 of base width
# 24 on 128 x 128 crops, a 32-channel head and a 1 x 1 ConvLSTM.
data=(--data_root "$work/synth")
size=(--input_size 128 --backbone_width 24 --head_channels 32 --lstm_kernel 1)
lambda=(--gate_lambda 3e-4)  # about 30 % of the frames are keyframes

step() {  # step OUT ARGS...: mapn train ARGS --out OUT, unless OUT exists
  local out="$work/$1"
  shift
  [ -f "$out" ] || "$mapn" train "${data[@]}" "${size[@]}" "$@" --out "$out"
}

[ -d "$work/synth/labels" ] || "$mapn" synth "$work/synth" --num_clips 96 --seed 2021
step stage1.ckpt --model simple_baseline --stage 1 --epochs 16 --lr_decay_epochs 12
step stage2.ckpt --model mapn --stage 2 --epochs 4 --init "$work/stage1.ckpt"
step stage3.ckpt --model mapn --stage 3 --epochs 2 "${lambda[@]}" \
  --init "$work/stage2.ckpt"
step synthpose_mapn.ckpt --model mapn --stage 4 --epochs 2 "${lambda[@]}" \
  --init "$work/stage3.ckpt"
# The causal gate starts from the same ConvLSTM: its own stage 3, then 4.
step causal_stage3.ckpt --model causal_mapn --stage 3 --epochs 2 "${lambda[@]}" \
  --init "$work/stage2.ckpt"
step synthpose_causal_mapn.ckpt --model causal_mapn --stage 4 --epochs 2 \
  "${lambda[@]}" --init "$work/causal_stage3.ckpt"

for model in synthpose_mapn synthpose_causal_mapn; do
  "$mapn" eval --checkpoint "$work/$model.ckpt" "${data[@]}" --subset test \
    --json "$work/$model.eval.json"
done
mkdir -p mapn/estimate/models
cp "$work/synthpose_mapn.ckpt" "$work/synthpose_causal_mapn.ckpt" \
  mapn/estimate/models/
ls -l mapn/estimate/models/
