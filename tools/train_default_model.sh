#!/bin/bash
# Trains the two models bundled in mapn/estimate/models/ (used by
# `mapn estimate` without --checkpoint) with the project's own `mapn synth`
# and `mapn train`, then measures them with `mapn eval` on the held-out
# SynthPose clips. docs/results.md records what this printed.
#
#   tools/train_default_model.sh [WORK_DIR]      (default /tmp/mapn-default-model)
#
# About 20 minutes on a 2-core machine. The models see only synthetic
# figures: they are for trying mapn out, not for real footage.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/mapn-default-model}"
mkdir -p "$work"
bazel build //:mapn
mapn="$PWD/bazel-bin/mapn/cli/mapn"
export MAPN_NUM_THREADS="${MAPN_NUM_THREADS:-1}"  # reproducible weights

[ -d "$work/synth/labels" ] || "$mapn" synth "$work/synth" --num_clips 96 --seed 2021

# Small enough to ship (a few MB) and to keep P-frames cheap: ResNet-18 of base
# width 24 on 128 x 128 crops, a 32-channel head and a 1 x 1 ConvLSTM.
size=(--input_size 128 --backbone_width 24 --head_channels 32 --lstm_kernel 1)
"$mapn" train --data_root "$work/synth" --model mapn --stage all \
  --epochs 16,4,2,2 --lr_decay_epochs 12 "${size[@]}" \
  --out "$work/synthpose_mapn.ckpt"
# The causal gate reuses the extractor, ConvLSTM and head; only its gate is
# trained (stage 3), then everything is fine-tuned together (stage 4).
"$mapn" train --data_root "$work/synth" --model causal_mapn --stage 3 \
  --epochs 2 "${size[@]}" --init "$work/synthpose_mapn.ckpt" \
  --out "$work/causal_stage3.ckpt"
"$mapn" train --data_root "$work/synth" --model causal_mapn --stage 4 \
  --epochs 2 "${size[@]}" --init "$work/causal_stage3.ckpt" \
  --out "$work/synthpose_causal_mapn.ckpt"

for model in synthpose_mapn synthpose_causal_mapn; do
  "$mapn" eval --checkpoint "$work/$model.ckpt" --data_root "$work/synth" \
    --subset test --json "$work/$model.eval.json"
done
mkdir -p mapn/estimate/models
cp "$work/synthpose_mapn.ckpt" "$work/synthpose_causal_mapn.ckpt" mapn/estimate/models/
ls -l mapn/estimate/models/
