// File: synth_motion.h
//
// The motion primitives SynthPose builds a clip from, shared by the public
// generator API (synthpose.h) and the figure's kinematics (synth_body.h).
//
// Example:
//
//   for (const SynthSegment& s : clip.segments) {
//     std::cout << SynthMotionName(s.motion) << (s.fast ? " fast\n" : "\n");
//   }
#ifndef MAPN_DATA_SYNTH_MOTION_H_
#define MAPN_DATA_SYNTH_MOTION_H_

#include <cstdint>

namespace mapn {

enum class SynthMotion : uint8_t { kStand, kWalk, kJump, kArmSwing, kBend };
inline constexpr int kNumSynthMotions = 5;

// "stand", "walk", "jump", "arm_swing", "bend".
const char* SynthMotionName(SynthMotion motion);

}  // namespace mapn

#endif  // MAPN_DATA_SYNTH_MOTION_H_
