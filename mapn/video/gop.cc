#include "mapn/video/gop.h"

namespace mapn {

char FrameTypeChar(FrameType type) {
  switch (type) {
    case FrameType::kI:
      return 'I';
    case FrameType::kP:
      return 'P';
    case FrameType::kB:
      return 'B';
    case FrameType::kPadding:
      return '-';
  }
  return '?';
}

}  // namespace mapn
