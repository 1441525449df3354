// File: compositions.h
//
// The one list of named compositions: the paper's model and every ablation
// the command line and the experiments reach by name, each a type
// (composition.h) that carries its name. Changing a component is changing
// a type, so an ablation cannot be half-applied by a forgotten flag.
// DefaultCompositions() is the table of all of them, in this order, which
// the command line's choices and help are made from; a program adds its
// own compositions to a copy of it (composition.h).
//
//   Table 1 (Penn Action, ResNet-34 in the paper)
//     a  IFrameOnlyNoWarp   "iframe_nowarp"   ConvLSTM without warp,
//                                             keyframe features only
//     b  IFrameOnlyWarp     "iframe_warp"     MV-warped ConvLSTM, keyframe
//                                             features only
//     c  AlwaysExtractWarp  "always_extract"  MV-warped ConvLSTM, features of
//                                             every frame
//     d  FrameGateWarp      "frame_gate"      MV-warped ConvLSTM, gate on
//                                             decoded P-frames
//     e  Mapn               "mapn"            MV-warped ConvLSTM, residual
//                                             gate (the paper)
//   Table 2 (gate design)
//        MapnGateNoTemporalNoPe "gate_no_temporal_no_pe", MapnGateNoPe
//        "gate_no_pe", and Mapn
//   Beyond the paper
//        PerFrameSimpleBaseline "simple_baseline"  every frame through
//                                  ResNet + head: the reference every
//                                  speed-up is measured against
//        FixedIntervalWarp  "fixed_interval"  keyframes every `interval`
//                                             frames
//        ResidualEnergyWarp "residual_energy" training-free gate: mean
//                                             |residual| > threshold
//        CausalMapn         "causal_mapn"     residual gate deciding frame t
//                                             from residuals <= t (live
//                                             streams, with PipelineStream)
//   Pretrained pose models (weights from mapn/movenet's import)
//        PerFrameMoveNet    "movenet"         MoveNet singlepose on every
//                                             frame (Lightning or Thunder:
//                                             an option)
//        MoveNetMapn        "movenet_mapn"    MoveNet's encoder on the
//                                             residual gate's keyframes
//                                             (each resets the state),
//                                             the MV-warped ConvLSTM
//                                             between, its head on every
//                                             frame
//        MoveNetFixedInterval "movenet_fixed"   the same with keyframes
//                                             every `interval` frames
//        MoveNetResidualEnergy "movenet_energy" ... where mean |residual|
//                                             > threshold
//        MoveNetNoWarp      "movenet_nowarp"  ... fixed interval, ConvLSTM
//                                             state not warped
//
// Example:
//
//   IFrameOnlyWarp::Options options;              // Table 1, row b
//   options.extractor.depth = 34;
//   MAPN_ASSIGN_OR_RETURN(IFrameOnlyWarp model,
//                         MakeModel<IFrameOnlyWarp>(options));
//   CausalMapnStream live(CausalMapn(CausalMapn::Options{}), 12);
#ifndef MAPN_MODEL_COMPOSITIONS_H_
#define MAPN_MODEL_COMPOSITIONS_H_

#include "mapn/model/composition.h"
#include "mapn/model/deconv_head.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/model/resnet.h"
#include "mapn/movenet/movenet.h"

namespace mapn::model {

// The Simple Baseline's encoder and head around a propagator and a policy:
// every composition of the paper has this shape.
template <CompositionName kName, StatePropagator Propagator, SkipPolicy Policy>
using SimpleBaselineComposition =
    Composition<kName, SimpleBaselineEncoder, Propagator, Policy, DeconvHead>;

// Table 1.
using IFrameOnlyNoWarp =
    SimpleBaselineComposition<"iframe_nowarp", NoWarpConvLstm, NeverExtract>;
using IFrameOnlyWarp =
    SimpleBaselineComposition<"iframe_warp", MotionWarpConvLstm, NeverExtract>;
using AlwaysExtractWarp =
    SimpleBaselineComposition<"always_extract", MotionWarpConvLstm,
                              AlwaysExtract>;
using FrameGateWarp =
    SimpleBaselineComposition<"frame_gate", MotionWarpConvLstm, FrameGate>;
using Mapn =
    SimpleBaselineComposition<"mapn", MotionWarpConvLstm, ResidualGate>;

// Table 2.
using MapnGateNoTemporalNoPe =
    SimpleBaselineComposition<"gate_no_temporal_no_pe", MotionWarpConvLstm,
                              ResidualGateNoTemporalNoPe>;
using MapnGateNoPe = SimpleBaselineComposition<"gate_no_pe", MotionWarpConvLstm,
                                               ResidualGateNoPe>;

// Beyond the paper.
using PerFrameSimpleBaseline =
    SimpleBaselineComposition<"simple_baseline", PassThrough, AlwaysExtract>;
using FixedIntervalWarp =
    SimpleBaselineComposition<"fixed_interval", MotionWarpConvLstm,
                              FixedIntervalKeyframes>;
using ResidualEnergyWarp =
    SimpleBaselineComposition<"residual_energy", MotionWarpConvLstm,
                              ResidualEnergyGate>;
using CausalMapn = SimpleBaselineComposition<"causal_mapn", MotionWarpConvLstm,
                                             CausalResidualGate>;

// Pretrained pose models.
using PerFrameMoveNet =
    Composition<"movenet", movenet::MoveNetEncoder, PassThrough, AlwaysExtract,
                movenet::MoveNetHead>;
// The Motion Adaptive Pose Net on MoveNet: its encoder on the keyframes the
// residual gate picks, the motion-warped ConvLSTM on its stride-4 features
// in between, its head on every frame (movenet/pretrained.h starts one from
// the pretrained weights). A keyframe replaces the ConvLSTM's state with the
// encoder's features (MotionWarpResetConvLstm), so every keyframe is exactly
// per-frame MoveNet; the paper's additive input left a P-frame keyframe
// little to gain and the gate learned to pick none (docs/results.md).
using MoveNetMapn =
    Composition<"movenet_mapn", movenet::MoveNetEncoder,
                MotionWarpResetConvLstm, ResidualGate, movenet::MoveNetHead>;
// Its ablations on real video (docs/results.md, "MAPN on MoveNet"): the
// same distilled ConvLSTM with keyframes every `interval` frames or where the
// residual's energy is high, and a ConvLSTM that is not warped.
using MoveNetFixedInterval =
    Composition<"movenet_fixed", movenet::MoveNetEncoder,
                MotionWarpResetConvLstm, FixedIntervalKeyframes,
                movenet::MoveNetHead>;
using MoveNetResidualEnergy =
    Composition<"movenet_energy", movenet::MoveNetEncoder,
                MotionWarpResetConvLstm, ResidualEnergyGate,
                movenet::MoveNetHead>;
using MoveNetNoWarp =
    Composition<"movenet_nowarp", movenet::MoveNetEncoder, NoWarpResetConvLstm,
                FixedIntervalKeyframes, movenet::MoveNetHead>;

// Streaming for the causal compositions.
using CausalMapnStream =
    PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
                   CausalResidualGate, DeconvHead>;

// All of the above, in the order of the comment at the top ("mapn" first).
const CompositionTable& DefaultCompositions();

// Compiled once, in compositions.cc.
extern template class PipelineImpl<SimpleBaselineEncoder, NoWarpConvLstm,
                                   NeverExtract, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   NeverExtract, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   AlwaysExtract, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   FrameGate, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   ResidualGate, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   ResidualGateNoTemporalNoPe, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   ResidualGateNoPe, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, PassThrough,
                                   AlwaysExtract, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   FixedIntervalKeyframes, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   ResidualEnergyGate, DeconvHead>;
extern template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                                   CausalResidualGate, DeconvHead>;
extern template class PipelineImpl<movenet::MoveNetEncoder, PassThrough,
                                   AlwaysExtract, movenet::MoveNetHead>;
extern template class PipelineImpl<movenet::MoveNetEncoder,
                                   MotionWarpResetConvLstm, ResidualGate,
                                   movenet::MoveNetHead>;
extern template class PipelineImpl<
    movenet::MoveNetEncoder, MotionWarpResetConvLstm, FixedIntervalKeyframes,
    movenet::MoveNetHead>;
extern template class PipelineImpl<movenet::MoveNetEncoder,
                                   MotionWarpResetConvLstm, ResidualEnergyGate,
                                   movenet::MoveNetHead>;
extern template class PipelineImpl<movenet::MoveNetEncoder, NoWarpResetConvLstm,
                                   FixedIntervalKeyframes,
                                   movenet::MoveNetHead>;
extern template class PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
                                     CausalResidualGate, DeconvHead>;

}  // namespace mapn::model

#endif  // MAPN_MODEL_COMPOSITIONS_H_
