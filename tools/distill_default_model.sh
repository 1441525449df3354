#!/bin/bash
# Distils the real-people model bundled as
# mapn/estimate/models/movenet_lightning_mapn.ckpt (what `mapn estimate` runs
# without a model flag): MAPN on MoveNet Lightning, its ConvLSTM learned from
# per-frame MoveNet on the training clips of ../shared/data/real, under the
# residual-energy gate whose threshold gives 2/11 of those clips' P-frames,
# through the evaluation experiment that also measures it (docs/results.md,
# "MAPN on MoveNet"), then copies the model into place.
#
#   tools/distill_default_model.sh [WORK_DIR]     (default /tmp/real-video)
#
# About 50 minutes on the 2-core development machine from an empty WORK_DIR
# (the teacher cache and every distilled model in it are reused by a rerun).
# Needs ../shared (MAPN_SHARED_DIR overrides it) and the model cache of
# tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/real-video}"
shared="${MAPN_SHARED_DIR:-$(cd .. && pwd)/shared}/data/real"
bazel build //experiments/real_video
bazel-bin/experiments/real_video/real_video --shared_dir="$shared" \
    --work_dir="$work"
cp "$work/movenet_energy_k3.ckpt" mapn/estimate/models/movenet_lightning_mapn.ckpt
echo "copied $work/movenet_energy_k3.ckpt to mapn/estimate/models/movenet_lightning_mapn.ckpt"
