// File: distiller.h
//
// Label-free distillation of the Motion Adaptive Pose Net on a pretrained
// MoveNet: per-frame MoveNet (the teacher, distill_data.h) answers every
// frame; the student, a MoveNet composition (movenet_mapn and its
// ablations, model/compositions.h) whose encoder and head are the teacher's,
// learns to give the same maps while running the encoder only on its
// keyframes. The stages follow the paper's section 3.5 with the teacher in
// place of the labels:
//
//   stage 2  the ConvLSTM: random keyframes (each P-frame with
//            keep_probability) for a learned gate, a training-free policy's
//            own otherwise; keyframe inputs are the cached teacher features,
//            so the encoder never runs.
//   stage 3  the gate alone, loss (15).
//   stage 4  ConvLSTM and gate together (and the encoder, with
//            train_encoder: then keyframe features come from the encoder
//            itself, on the cached frames), loss (15).
//
// The head stays the teacher's throughout, so a keyframe's output is
// exactly per-frame MoveNet's (until the encoder is fine-tuned).
//
// Loss (15) with the teacher's maps as targets. MoveNet's head gives 86
// maps (movenet.h); the distillation term is
//   maps:      sum over pixels of (sigmoid(student) - sigmoid(teacher))^2
//              for the 17 keypoint heatmaps and the person centre,
//   geometry:  sum over pixels of w * (student - teacher)^2 for the
//              regression (w: the teacher's centre probability, where the
//              decoder reads it) and the offsets (w: the teacher's
//              probability of that keypoint), in feature cells,
// each averaged over the valid frames and its maps, as
//   maps + geometry_weight * geometry + lambda * keyframe rate (P-frames).
//
// Run control is mapn train's (trainer.h): seeded streams per stage, epoch
// and step, the training state written atomically after every epoch, exact
// resume (the recipe, including the data's key, must match), the same
// progress lines.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(AnyPipeline student,
//                         movenet::MoveNetCompositionFromPretrained(
//                             DefaultCompositions(), "movenet_mapn",
//                             "lightning"));
//   DistillOptions stage2;
//   stage2.train = train::StageDefaults(train::Stage::kPropagation);
//   stage2.train.epochs = 8;
//   MAPN_ASSIGN_OR_RETURN(train::TrainReport report,
//                         DistillStage(student, teacher, data, stage2));
#ifndef MAPN_DISTILL_DISTILLER_H_
#define MAPN_DISTILL_DISTILLER_H_

#include <ATen/core/Tensor.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/distill/distill_data.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/train/train_options.h"
#include "mapn/train/trainer.h"

namespace mapn::distill {

struct DistillOptions {
  // Stage (2, 3 or 4), epochs, optimiser, lambda, keep_probability, seed
  // and the run control, as mapn train's; augment and heatmap_sigma are not
  // used.
  train::TrainOptions train = train::StageDefaults(train::Stage::kPropagation);
  // Stage 4 only: fine-tune the encoder too (the data must keep frames).
  bool train_encoder = false;
  // Weight of the regression and offset term against the heatmap term.
  double geometry_weight = 0.1;
};

absl::Status ValidateDistillOptions(const DistillOptions& options);

// OK when `student` can learn from `teacher`: MoveNet's encoder and head of
// the teacher's variant, its joints the teacher's (COCO's 17), the
// teacher's input size; FailedPrecondition naming both sides otherwise.
absl::Status CheckStudent(const model::AnyPipeline& student,
                          const Teacher& teacher);

// The stages worth running: 2 when the propagator has parameters, 3 when
// the policy is learned, 4 when either.
std::vector<train::Stage> DistillStagesFor(const model::AnyPipeline& student);

struct DistillLoss {
  at::Tensor total;
  double maps = 0;
  double geometry = 0;
  double keyframe_rate = NAN;  // mean g_mix over valid P-frames
};

// The loss above for student and teacher maps [B, T, 86, f, f] of windows
// whose frames are `valid` (bool [B, T]); the gate term with `g_mix`
// ([B, T]) when `gate_term`.
DistillLoss ComputeDistillLoss(const at::Tensor& student,
                               const at::Tensor& teacher,
                               const at::Tensor& valid, const at::Tensor& g_mix,
                               const DistillOptions& options, bool gate_term);

// The teacher's maps of a batch: its head on the cached features of every
// valid frame, zeros for padding, [B, T, 86, f, f].
at::Tensor TeacherMaps(const Teacher& teacher, const DistillBatch& batch);

// One stage. Leaves every parameter with requires_grad set and the model
// in eval mode.
absl::StatusOr<train::TrainReport> DistillStage(
    const model::AnyPipeline& student, const Teacher& teacher,
    const DistillData& data, const DistillOptions& options);

// `stages` in increasing order, with the checkpoint path and resume flag of
// the first; with resume, the stage the training state was written in
// continues and earlier ones are skipped (as train::TrainStages).
absl::StatusOr<std::vector<train::TrainReport>> DistillStages(
    const model::AnyPipeline& student, const Teacher& teacher,
    const DistillData& data, std::span<const DistillOptions> stages);

}  // namespace mapn::distill

#endif  // MAPN_DISTILL_DISTILLER_H_
