#!/usr/bin/env bash
# Installs the Debian packages mapn builds and tests with, when any is missing.
#
# Idempotent and quiet: prints nothing and touches nothing when every package
# is present. Every dependency is a Debian package (no downloads from
# elsewhere); see docs/development.md for what each one is for.
set -euo pipefail

packages=(
  bazel-bootstrap          # Bazel 4.2.3, the build
  g++                      # the C++20 compiler
  libtorch-dev             # LibTorch 1.13 (CPU)
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

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >&2
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
