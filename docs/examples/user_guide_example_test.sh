#!/usr/bin/env bash
# The user guide's C++ example stays true: the guide holds the example file
# verbatim, and the example builds (Bazel built it to get here) and runs on
# a SynthPose clip with the bundled model.
set -euo pipefail
runfiles="${TEST_SRCDIR}/mapn"
guide="$runfiles/docs/user-guide.md"
example="$runfiles/docs/examples/custom_pipeline.cc"

# The code block after the marker line must equal the file.
extracted="$TEST_TMPDIR/extracted.cc"
awk '/<!-- example: docs\/examples\/custom_pipeline.cc -->/ {found = 1; next}
     found == 1 && /^```cpp$/ {inside = 1; next}
     inside == 1 && /^```$/ {exit}
     inside == 1 {print}' "$guide" > "$extracted"
if ! diff -u "$example" "$extracted"; then
  echo "docs/user-guide.md no longer holds docs/examples/custom_pipeline.cc" \
       "verbatim: paste the file into the guide" >&2
  exit 1
fi

"$runfiles/mapn/cli/mapn" synth "$TEST_TMPDIR/synth" --num_clips=1 \
    --width=160 --height=120 --min_frames=30 --max_frames=30 --seed=9
out="$("$runfiles/docs/examples/custom_pipeline" \
    "$TEST_TMPDIR/synth/mpeg4_gop12/0001.mp4")"
echo "$out"
grep -q '^window 0: E' <<<"$out"
grep -q '^30 frames, [0-9]* with features extracted$' <<<"$out"
