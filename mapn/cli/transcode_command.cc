// `mapn transcode INPUT OUTPUT`: re-encodes any video FFmpeg decodes, or an
// image sequence such as frames/0001/%06d.jpg, into MPEG-4 Part 2 with GOP
// 12 and no B-frames (the paper's preparation), which the reader takes.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "mapn/cli/subcommand.h"
#include "mapn/video/transcode.h"

ABSL_FLAG(int, gop, 12, "Frames per GOP (I-frame interval) of the output.");
ABSL_FLAG(int, qscale, 1, "MPEG-4 quantiser, 1 (best, the paper's) to 31.");
ABSL_FLAG(double, input_frame_rate, 25.0,
          "Frames per second of an image-sequence INPUT (a printf pattern "
          "such as %06d); videos keep their own rate.");
ABSL_FLAG(int, max_width, 0,
          "Scale the output down to at most this width (0: no limit).");
ABSL_FLAG(int, max_height, 0,
          "Scale the output down to at most this height (0: no limit).");

ABSL_FLAG(int, transcode_stream, -1,
          "The video stream to re-encode, by the container's stream index; "
          "default: the one FFmpeg picks as best.");

namespace mapn::cli {

extern const Subcommand kTranscodeCommand;  // defined at the end of the file

namespace {

int RunTranscode(const std::vector<std::string>& args,
                 const CommandContext& /*context*/) {
  TranscodeOptions options;
  options.gop_size = absl::GetFlag(FLAGS_gop);
  options.qscale = absl::GetFlag(FLAGS_qscale);
  options.input_frame_rate = absl::GetFlag(FLAGS_input_frame_rate);
  options.max_width = absl::GetFlag(FLAGS_max_width);
  options.max_height = absl::GetFlag(FLAGS_max_height);
  options.stream_index = absl::GetFlag(FLAGS_transcode_stream);
  if (options.stream_index < -1) {
    return UsageError(kTranscodeCommand,
                      "--stream must be a stream index (0 or more)");
  }
  if (options.gop_size < 1)
    return UsageError(kTranscodeCommand, "--gop must be >= 1");
  if (options.qscale < 1 || options.qscale > 31) {
    return UsageError(kTranscodeCommand, "--qscale must be in [1, 31]");
  }
  if (!(options.input_frame_rate > 0) || options.input_frame_rate > 1000) {
    return UsageError(kTranscodeCommand,
                      "--input_frame_rate must be in (0, 1000]");
  }
  if (options.max_width < 0 || options.max_width == 1) {
    return UsageError(kTranscodeCommand, "--max_width must be 0 or >= 2");
  }
  if (options.max_height < 0 || options.max_height == 1) {
    return UsageError(kTranscodeCommand, "--max_height must be 0 or >= 2");
  }
  const absl::Status status = Transcode(args[0], args[1], options);
  if (!status.ok())
    return Failure(kTranscodeCommand.name, std::string(status.message()));
  std::cerr << "wrote " << args[1] << "\n";
  return kExitOk;
}

}  // namespace

const Subcommand kTranscodeCommand = {
    "transcode",
    "Re-encodes a video or image sequence to MPEG-4 Part 2, GOP 12, no "
    "B-frames.",
    "mapn transcode INPUT OUTPUT [flags]",
    "Decodes INPUT (any video FFmpeg decodes, or a numbered image sequence\n"
    "such as 'frames/0001/%06d.jpg') and writes OUTPUT (.mp4, .avi, .mkv or\n"
    ".m4v) as MPEG-4 Part 2 with a fixed GOP, no B-frames and quantiser 1,\n"
    "the form the paper trains on and mapn's reader requires. Every decoded\n"
    "frame becomes one output frame; odd sizes lose their last column/row.\n"
    "OUTPUT appears only when complete.",
    __FILE__,
    2,
    2,
    &RunTranscode};

}  // namespace mapn::cli
