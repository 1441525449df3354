// File: compositions.h
//
// The one place that names the paper's model and every ablation as a type.
// Each is a Pipeline (pipeline.h) of four components; changing a component
// is changing a type, so an ablation cannot be half-applied by a forgotten
// flag. All are built from a ModelConfig.
//
//   Table 1 (Penn Action, ResNet-34 in the paper)
//     a  IFrameOnlyNoWarp   ConvLSTM without warp, keyframe features only
//     b  IFrameOnlyWarp     MV-warped ConvLSTM, keyframe features only
//     c  AlwaysExtractWarp  MV-warped ConvLSTM, features of every frame
//     d  FrameGateWarp      MV-warped ConvLSTM, gate on decoded P-frames
//     e  Mapn               MV-warped ConvLSTM, residual gate (the paper)
//   Table 2 (gate design)
//        MapnGateNoTemporalNoPe, MapnGateNoPe, and Mapn
//   Beyond the paper
//        PerFrameSimpleBaseline   every frame through ResNet + head: the
//                                 reference every speed-up is measured
//                                 against
//        FixedIntervalWarp        keyframes every keyframe_interval frames
//        ResidualEnergyWarp       training-free gate: mean |residual| >
//                                 energy_threshold
//        CausalMapn               residual gate deciding frame t from
//                                 residuals <= t (live streams, with
//                                 PipelineStream)
//
// Example:
//
//   ModelConfig config;
//   config.backbone_depth = 34;
//   IFrameOnlyWarp model(config);                 // Table 1, row b
//   PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
//                  CausalResidualGate, DeconvHead> live(CausalMapn(config),
//                  12);
#ifndef MAPN_MODEL_COMPOSITIONS_H_
#define MAPN_MODEL_COMPOSITIONS_H_

#include "mapn/model/deconv_head.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/model/resnet.h"

namespace mapn::model {

// A Pipeline with the Simple Baseline encoder and head around a propagator
// and a policy: every composition of the paper has this shape.
template <StatePropagator Propagator, SkipPolicy Policy>
using SimpleBaselinePipeline =
    Pipeline<SimpleBaselineEncoder, Propagator, Policy, DeconvHead>;

// Table 1.
using IFrameOnlyNoWarp = SimpleBaselinePipeline<NoWarpConvLstm, NeverExtract>;
using IFrameOnlyWarp = SimpleBaselinePipeline<MotionWarpConvLstm, NeverExtract>;
using AlwaysExtractWarp =
    SimpleBaselinePipeline<MotionWarpConvLstm, AlwaysExtract>;
using FrameGateWarp = SimpleBaselinePipeline<MotionWarpConvLstm, FrameGate>;
using Mapn = SimpleBaselinePipeline<MotionWarpConvLstm, ResidualGate>;

// Table 2.
using MapnGateNoTemporalNoPe =
    SimpleBaselinePipeline<MotionWarpConvLstm, ResidualGateNoTemporalNoPe>;
using MapnGateNoPe =
    SimpleBaselinePipeline<MotionWarpConvLstm, ResidualGateNoPe>;

// Beyond the paper.
using PerFrameSimpleBaseline =
    SimpleBaselinePipeline<PassThrough, AlwaysExtract>;
using FixedIntervalWarp =
    SimpleBaselinePipeline<MotionWarpConvLstm, FixedIntervalKeyframes>;
using ResidualEnergyWarp =
    SimpleBaselinePipeline<MotionWarpConvLstm, ResidualEnergyGate>;
using CausalMapn =
    SimpleBaselinePipeline<MotionWarpConvLstm, CausalResidualGate>;

// Streaming for the causal compositions.
using CausalMapnStream =
    PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
                   CausalResidualGate, DeconvHead>;

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
extern template class PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
                                     CausalResidualGate, DeconvHead>;

}  // namespace mapn::model

#endif  // MAPN_MODEL_COMPOSITIONS_H_
