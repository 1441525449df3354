// File: stream_source.h
//
// The StreamSource concept: anything that yields a video as a sequence of
// bounded GOP windows (mapn/video/gop.h), one pass, in stream order. The
// model, training and the CLI are written against this concept, so a reader
// of compressed video (FfmpegStreamSource), windows held in memory
// (InMemoryStreamSource, for tests that need no FFmpeg) or any later source
// plug in as different types, checked at compile time.
//
// Requirements. A type S models StreamSource when, for an lvalue `s` of
// type S and a const lvalue `cs` of type S:
//   1. `s.Next()` returns exactly absl::StatusOr<std::optional<GopWindow>>:
//      the next window, std::nullopt once the stream is exhausted (and on
//      every later call), or an error status saying what is wrong and where.
//   2. `cs.info()` returns `const StreamInfo&`, valid while `s` lives; it is
//      known before the first Next() (the source has been opened).
//   3. `cs.window_length()` returns an integral T >= 1: every window has
//      exactly T frames, padding included.
//   4. S is movable (std::movable); it need not be copyable, since a source
//      owns a decoder or a one-pass stream.
// Semantic requirements, which the compiler cannot check (tests do):
//   5. Windows come in stream order with window_index 0, 1, 2, ...; each
//      frame of the stream is in at most one window, and each is decoded
//      once (no re-decoding of GOPs).
//   6. Every window follows gop.h: tensors of T entries with the layouts and
//      conventions given there; frames[0] is the keyframe of its window (the
//      I-frame, or the P-frame opening a continuation window); frames
//      [num_valid, T) are padding.
//   7. Memory held by the source is bounded by one window, whatever the
//      length of the stream.
//
// Example:
//
//   template <StreamSource S>
//   absl::Status CountFrames(S& source, int64_t* frames) {
//     while (true) {
//       MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
//       if (!window) return absl::OkStatus();
//       *frames += window->num_valid;
//     }
//   }
#ifndef MAPN_VIDEO_STREAM_SOURCE_H_
#define MAPN_VIDEO_STREAM_SOURCE_H_

#include <concepts>
#include <optional>

#include "absl/status/statusor.h"
#include "mapn/video/gop.h"

namespace mapn {

template <typename S>
concept StreamSource = std::movable<S> && requires(S& s, const S& cs) {
  { s.Next() } -> std::same_as<absl::StatusOr<std::optional<GopWindow>>>;
  { cs.info() } -> std::same_as<const StreamInfo&>;
  { cs.window_length() } -> std::integral;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_STREAM_SOURCE_H_
