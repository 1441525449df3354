#include "mapn/video/ffmpeg_util.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace mapn {

std::string AvErrorText(int error_code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(error_code, buffer, sizeof(buffer));
  return buffer;
}

absl::Status AvError(int error_code, const std::string& context) {
  const std::string message =
      absl::StrCat(context, ": ", AvErrorText(error_code));
  if (error_code == AVERROR(ENOENT)) return absl::NotFoundError(message);
  if (error_code == AVERROR(EACCES) || error_code == AVERROR(EPERM)) {
    return absl::PermissionDeniedError(message);
  }
  if (error_code == AVERROR_INVALIDDATA) return absl::DataLossError(message);
  if (error_code == AVERROR_EOF) return absl::OutOfRangeError(message);
  return absl::InternalError(message);
}

void QuietFfmpegLogging() {
  const char* keep = std::getenv("MAPN_FFMPEG_LOG");
  av_log_set_level(keep != nullptr && keep[0] == '1' ? AV_LOG_WARNING
                                                      : AV_LOG_QUIET);
}

}  // namespace mapn
