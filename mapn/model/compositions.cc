#include "mapn/model/compositions.h"

namespace mapn::model {

template class PipelineImpl<SimpleBaselineEncoder, NoWarpConvLstm, NeverExtract,
                            DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            NeverExtract, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            AlwaysExtract, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            FrameGate, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            ResidualGate, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            ResidualGateNoTemporalNoPe, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            ResidualGateNoPe, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, PassThrough, AlwaysExtract,
                            DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            FixedIntervalKeyframes, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            ResidualEnergyGate, DeconvHead>;
template class PipelineImpl<SimpleBaselineEncoder, MotionWarpConvLstm,
                            CausalResidualGate, DeconvHead>;
template class PipelineImpl<movenet::MoveNetEncoder, PassThrough, AlwaysExtract,
                            movenet::MoveNetHead>;
template class PipelineImpl<movenet::MoveNetEncoder, MotionWarpResetConvLstm,
                            ResidualGate, movenet::MoveNetHead>;
template class PipelineImpl<movenet::MoveNetEncoder, MotionWarpResetConvLstm,
                            FixedIntervalKeyframes, movenet::MoveNetHead>;
template class PipelineImpl<movenet::MoveNetEncoder, MotionWarpResetConvLstm,
                            ResidualEnergyGate, movenet::MoveNetHead>;
template class PipelineImpl<movenet::MoveNetEncoder, NoWarpResetConvLstm,
                            FixedIntervalKeyframes, movenet::MoveNetHead>;
template class PipelineStream<SimpleBaselineEncoder, MotionWarpConvLstm,
                              CausalResidualGate, DeconvHead>;

const CompositionTable& DefaultCompositions() {
  static const CompositionTable* const table = new CompositionTable(
      CompositionTable::Of<Mapn, PerFrameSimpleBaseline, IFrameOnlyNoWarp,
                           IFrameOnlyWarp, AlwaysExtractWarp, FrameGateWarp,
                           MapnGateNoTemporalNoPe, MapnGateNoPe,
                           FixedIntervalWarp, ResidualEnergyWarp, CausalMapn,
                           PerFrameMoveNet, MoveNetMapn, MoveNetFixedInterval,
                           MoveNetResidualEnergy, MoveNetNoWarp>());
  return *table;
}

}  // namespace mapn::model
