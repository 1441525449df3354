// File: concepts.h
//
// The four component concepts of the Motion Adaptive Pose Net. A Pipeline
// (pipeline.h) composes one type of each at compile time; an ablation is a
// different type, never a flag. The input side is the StreamSource concept
// of mapn/video/stream_source.h, whose windows become GopBatches.
//
// All four are checked on LibTorch module holders (`Foo`, made by
// TORCH_MODULE(Foo) around `FooImpl : torch::nn::Module`), so every
// component has parameters(), train()/eval(), to(device) and serialisation,
// and is called through `->`. Shapes: B batch, T window length, S the input
// side, C/h/w the feature map.
//
// Every component X (the requirements all four share):
//   a. X is a module holder (std::derived_from torch::nn::ModuleHolder of
//      X::ContainedType, which derives from torch::nn::Module).
//   b. X::ContainedType::Options models ComponentOptions (options.h): a
//      struct of named fields with commented defaults.
//   c. X::ContainedType is constructible from `const Options&`, and
//      `cx->options()` returns the options it was built with (what
//      checkpoints store).
//
// FeatureExtractor E (the heavy per-frame network; eq. (2)):
//   1. `e->Extract(rgb)` returns at::Tensor: rgb float [N, 3, S, S] in
//      [0, 1] (normalisation, if any, is internal) -> [N, C, S/stride,
//      S/stride].
//   2. `e->channels()` and `e->stride()` return int64_t: C and the stride.
//   3. `e->Macs(S)` returns MacCount: one frame's cost at S x S.
//
// StatePropagator P (carries the state across a window; eqs. (3)-(11)):
//   1. P::ContainedType::State is a std::semiregular type (default
//      constructible and copyable): the recurrent state.
//   2. `p->Init(x0)` returns State from the keyframe's features (h0 = c0 =
//      x0 for the ConvLSTM).
//   3. `p->Step(state, motion, x)` returns the next State: motion float
//      [B, 2, S, S] in input pixels (gop.h convention; the propagator
//      resamples it to its own resolution), x the frame's features
//      [B, C, h, w] or an UNDEFINED tensor for the empty input O (frames
//      whose extraction was skipped).
//   4. `p->Output(state)` returns at::Tensor [B, C, h, w], what the head
//      decodes (h_t): as wide as the features it was given.
//   5. `p->in_channels()` returns int64_t: the C it takes, 0 for any.
//   6. `p->Macs(h, w)` returns MacCount: one Step's cost on an h x w map.
//
// SkipPolicy S (decides for which frames the extractor runs; sec. 3.4):
//   1. `s->Decide(batch, mode)` returns GateOutput for a whole window:
//      g_mix [B, T] (GateMode::kTraining: improved semantic hashing, eqs.
//      (12)-(14), differentiable; kInference: hard 0/1), and the raw logits
//      [B, T] when learned (undefined otherwise). Frame 0 is always 1 (the
//      keyframe); padding frames (batch.valid false) are 0.
//   2. S::ContainedType::kCausal is a constexpr bool: true when the decision
//      for frame t depends on frames <= t only (such a policy can run on a
//      live stream, frame by frame).
//   3. S::ContainedType::kLearned is a constexpr bool: true when the policy
//      has parameters that training stages 3 and 4 fit with the sparsity
//      term of loss (15).
//   4. `s->Macs(S, T)` returns MacCount: the cost of one Decide on a window
//      of T frames at S x S, per batch element.
//
// HeatmapHead H (decodes the state; the Simple Baseline head):
//   1. `h->Decode(features)` returns at::Tensor: [B, C, h, w] -> [B,
//      out_channels(), h * upsampling(), w * upsampling()] (heatmaps, or any
//      per-pixel output).
//   2. `h->in_channels()`, `h->out_channels()` and `h->upsampling()` return
//      int64_t; in_channels() is the C it decodes.
//   3. `h->Macs(h, w)` returns MacCount: one decode of an h x w map.
//
// Optional, used where present (pipeline.h, any_pipeline.h):
//   * `cx->ValidateInputSize(S)` returning absl::Status, on any component
//     whose structure constrains the frame size (the learned gate's
//     pooling must divide it); the pipeline calls it when it is built.
//   * `E::ContainedType::OutputChannels(options)` (static): channels() of
//     an extractor built from `options`, so the pipeline can wire its
//     propagator and head without building one first.
//   * On a head whose maps are not one heatmap per joint: `h->joints()`
//     (int64_t) and `h->Keypoints(maps)` returning [N, joints(), 3] (x, y,
//     score) in map pixels; other heads are decoded per channel by the
//     arg-max with the quarter-pixel refinement (mapn/pose/keypoints.h).
//   * On a propagator whose keyframes replace its state
//     (KeyframeResettingPropagator): P::ContainedType::kKeyframeResets true
//     and `p->StepGated(state, motion, x, g)`, g float [B] each row's
//     keyframe weight; training steps through it so the gate's gradient is
//     the loss's change from making a frame a keyframe, and a keyframe row
//     is not charged a Step's cost.
//
// Example (a new head that satisfies HeatmapHead):
//
//   struct MaskHeadOptions {
//     int64_t in_channels = 0;  // 0: wired by the Pipeline
//     static constexpr auto Fields() {
//       return std::tuple{
//           OptionField{"in_channels", &MaskHeadOptions::in_channels}};
//     }
//     absl::Status Validate() const { return absl::OkStatus(); }
//   };
//   class MaskHeadImpl : public torch::nn::Module {
//    public:
//     using Options = MaskHeadOptions;
//     explicit MaskHeadImpl(const Options& options);
//     at::Tensor Decode(const at::Tensor& h);
//     int64_t in_channels() const { return options_.in_channels; }
//     int64_t out_channels() const { return 1; }
//     int64_t upsampling() const { return 1; }
//     MacCount Macs(int64_t h, int64_t w) const;
//     const Options& options() const { return options_; }
//    private:
//     Options options_;
//   };
//   TORCH_MODULE(MaskHead);
//   static_assert(HeatmapHead<MaskHead>);
#ifndef MAPN_MODEL_CONCEPTS_H_
#define MAPN_MODEL_CONCEPTS_H_

#include <ATen/core/Tensor.h>
#include <c10/util/Type.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <concepts>
#include <cstdint>
#include <string>
#include <typeinfo>

#include "mapn/model/flops.h"
#include "mapn/model/options.h"
#include "mapn/video/gop.h"

namespace mapn::model {

// How a SkipPolicy turns logits into g_mix.
enum class GateMode {
  kTraining,   // eqs. (12)-(14): noise, saturating sigmoid, straight-through
  kInference,  // 1(g > 0)
};

struct GateOutput {
  at::Tensor g_mix;   // float [B, T]
  at::Tensor logits;  // float [B, T]; undefined for training-free policies
};

template <typename M>
concept TorchModuleHolder = requires {
  typename M::ContainedType;
}
&&std::derived_from<typename M::ContainedType, torch::nn::Module>&&
    std::derived_from<M, torch::nn::ModuleHolder<typename M::ContainedType>>;

// Requirements a to c above.
template <typename M>
concept Component = TorchModuleHolder<M> && requires {
  typename M::ContainedType::Options;
} && ComponentOptions<typename M::ContainedType::Options> &&
    std::constructible_from<typename M::ContainedType,
                            const typename M::ContainedType::Options&> &&
    requires(const M cm) {
  {
    cm->options()
    } -> std::convertible_to<const typename M::ContainedType::Options&>;
};

template <typename E>
concept FeatureExtractor = Component<E> &&
    requires(E e, const E ce, const at::Tensor& rgb, int64_t size) {
  { e->Extract(rgb) } -> std::same_as<at::Tensor>;
  { ce->channels() } -> std::same_as<int64_t>;
  { ce->stride() } -> std::same_as<int64_t>;
  { ce->Macs(size) } -> std::same_as<MacCount>;
};

template <typename P>
concept StatePropagator = Component<P> && requires {
  typename P::ContainedType::State;
} && std::semiregular<typename P::ContainedType::State> &&
    requires(P p, const P cp, const typename P::ContainedType::State& state,
             const at::Tensor& t, int64_t n) {
  { p->Init(t) } -> std::same_as<typename P::ContainedType::State>;
  { p->Step(state, t, t) } -> std::same_as<typename P::ContainedType::State>;
  { p->Output(state) } -> std::same_as<at::Tensor>;
  { cp->in_channels() } -> std::same_as<int64_t>;
  { cp->Macs(n, n) } -> std::same_as<MacCount>;
};

template <typename S>
concept SkipPolicy = Component<S> && requires {
  { S::ContainedType::kCausal } -> std::convertible_to<bool>;
  std::bool_constant<S::ContainedType::kCausal>{};
  { S::ContainedType::kLearned } -> std::convertible_to<bool>;
  std::bool_constant<S::ContainedType::kLearned>{};
} &&
    requires(S s, const S cs, const GopBatch& batch, GateMode mode, int64_t n) {
  { s->Decide(batch, mode) } -> std::same_as<GateOutput>;
  { cs->Macs(n, n) } -> std::same_as<MacCount>;
};

template <typename H>
concept HeatmapHead = Component<H> &&
    requires(H h, const H ch, const at::Tensor& features, int64_t n) {
  { h->Decode(features) } -> std::same_as<at::Tensor>;
  { ch->in_channels() } -> std::same_as<int64_t>;
  { ch->out_channels() } -> std::same_as<int64_t>;
  { ch->upsampling() } -> std::same_as<int64_t>;
  { ch->Macs(n, n) } -> std::same_as<MacCount>;
};

// A SkipPolicy whose decision for frame t uses frames <= t only.
template <typename S>
concept CausalSkipPolicy = SkipPolicy<S> && S::ContainedType::kCausal;

// A StatePropagator whose keyframes replace its state (h = c = x_t).
template <typename P>
concept KeyframeResettingPropagator = StatePropagator<P> && requires {
  requires bool(P::ContainedType::kKeyframeResets);
} && requires(P p, const typename P::ContainedType::State& state,
              const at::Tensor& t) {
  {
    p->StepGated(state, t, t, t)
    } -> std::same_as<typename P::ContainedType::State>;
};

// The name of a component type as checkpoints and messages show it: the
// module's static TypeName() where it has one (mapn's components return
// the alias they are known by, e.g. "ResidualGate"), else its C++ name.
template <TorchModuleHolder M>
std::string ComponentName() {
  if constexpr (requires {
                  {
                    M::ContainedType::TypeName()
                    } -> std::convertible_to<std::string>;
                }) {
    return M::ContainedType::TypeName();
  } else {
    return c10::demangle(typeid(typename M::ContainedType).name());
  }
}

}  // namespace mapn::model

#endif  // MAPN_MODEL_CONCEPTS_H_
