#!/usr/bin/env bash
# Poses for every video of a manifest, as a Slurm job array: each array task
# is one shard. mapn reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
# SLURM_ARRAY_TASK_COUNT itself, so the command line is the same for every
# task; a video belongs to exactly one shard (by a hash of its name), and
# resubmitting the array after a failure or a time-out does only what is
# left. A shard exits non-zero when one of its videos failed; the videos and
# their errors are in OUT_DIR/failures-I-of-N.tsv.
#
#   sbatch docs/examples/slurm_estimate.sh videos.txt poses/
#
# `MAPN` is the mapn binary (built by `bazel build //:mapn`, it is
# bazel-bin/mapn/cli/mapn).
#SBATCH --job-name=mapn-estimate
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=mapn-estimate-%A_%a.log
set -euo pipefail

manifest="${1:?usage: sbatch slurm_estimate.sh MANIFEST OUT_DIR}"
out_dir="${2:?usage: sbatch slurm_estimate.sh MANIFEST OUT_DIR}"
mapn="${MAPN:-mapn}"

# LibTorch's threads: the cores Slurm gave this task.
export MAPN_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"

"$mapn" estimate --manifest="$manifest" --out_dir="$out_dir" --progress=never
