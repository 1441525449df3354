#include "mapn/ops/warp.h"

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>
#include <type_traits>
#include <utility>

#include "mapn/ops/cpu/warp_kernels.h"
#include "mapn/ops/warp_shape.h"

#ifdef MAPN_WITH_CUDA
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/version.h>

#include "mapn/ops/cuda/warp_kernels.h"
#endif

namespace mapn {
namespace {

std::string ShapeString(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (d > 0) out += ", ";
    out += std::to_string(t.size(d));
  }
  return out + "]";
}

// Concatenates strings and integers (Abseil is deliberately not used here).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  auto append = [&out](const auto& part) {
    if constexpr (std::is_integral_v<std::decay_t<decltype(part)>>) {
      out += std::to_string(part);
    } else {
      out += part;
    }
  };
  (append(parts), ...);
  return out;
}

WarpShape ShapeOf(const at::Tensor& input) {
  return WarpShape{.batch = input.size(0),
                   .channels = input.size(1),
                   .height = input.size(2),
                   .width = input.size(3)};
}

#ifdef MAPN_WITH_CUDA
// The cudaStream_t PyTorch currently uses on `device`, so the kernels order
// correctly with its own work. LibTorch before 2.2 has no public accessor;
// there the legacy default stream (nullptr), PyTorch's default, is used.
void* CurrentStream(const c10::Device& device) {
#if TORCH_VERSION_MAJOR > 2 || \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  const c10::Stream stream =
      c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->getStream(device);
  return stream.native_handle();
#else
  (void)device;
  return nullptr;
#endif
}

void CheckCuda(const char* error, const char* what) {
  TORCH_CHECK(error == nullptr, "WarpByMotion: CUDA ", what,
              " failed: ", error);
}
#endif

template <typename T>
T* DataOrNull(at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Inputs are contiguous and validated.
template <typename T>
void ForwardTyped(const at::Tensor& input, const at::Tensor& motion,
                  at::Tensor& out) {
  const WarpShape shape = ShapeOf(input);
  if (input.is_cuda()) {
#ifdef MAPN_WITH_CUDA
    const c10::DeviceGuard guard(input.device());
    CheckCuda(
        cuda::WarpForward(input.data_ptr<T>(), motion.data_ptr<T>(), shape,
                          out.data_ptr<T>(), CurrentStream(input.device())),
        "forward");
    return;
#endif
  }
  cpu::WarpForward(input.data_ptr<T>(), motion.data_ptr<T>(), shape,
                   out.data_ptr<T>());
}

template <typename T>
void BackwardTyped(const at::Tensor& grad, const at::Tensor& input,
                   const at::Tensor& motion, at::Tensor& grad_input,
                   at::Tensor& grad_motion) {
  const WarpShape shape = ShapeOf(input);
  if (input.is_cuda()) {
#ifdef MAPN_WITH_CUDA
    const c10::DeviceGuard guard(input.device());
    CheckCuda(cuda::WarpBackward(
                  grad.data_ptr<T>(), input.data_ptr<T>(), motion.data_ptr<T>(),
                  shape, DataOrNull<T>(grad_input), DataOrNull<T>(grad_motion),
                  CurrentStream(input.device())),
              "backward");
    return;
#endif
  }
  cpu::WarpBackward(grad.data_ptr<T>(), input.data_ptr<T>(),
                    motion.data_ptr<T>(), shape, DataOrNull<T>(grad_input),
                    DataOrNull<T>(grad_motion));
}

at::Tensor Forward(const at::Tensor& input, const at::Tensor& motion) {
  at::Tensor out = at::empty_like(input);
  if (input.scalar_type() == at::kFloat) {
    ForwardTyped<float>(input, motion, out);
  } else {
    ForwardTyped<double>(input, motion, out);
  }
  return out;
}

// Returns {grad_input, grad_motion}; either is undefined when not wanted.
std::pair<at::Tensor, at::Tensor> Backward(const at::Tensor& grad_any,
                                           const at::Tensor& input,
                                           const at::Tensor& motion,
                                           bool want_input, bool want_motion) {
  const at::Tensor grad = grad_any.contiguous();
  at::Tensor grad_input = want_input ? at::empty_like(input) : at::Tensor();
  at::Tensor grad_motion = want_motion ? at::empty_like(motion) : at::Tensor();
  if (input.scalar_type() == at::kFloat) {
    BackwardTyped<float>(grad, input, motion, grad_input, grad_motion);
  } else {
    BackwardTyped<double>(grad, input, motion, grad_input, grad_motion);
  }
  return {grad_input, grad_motion};
}

class WarpFunction : public torch::autograd::Function<WarpFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx,
                            const at::Tensor& input, const at::Tensor& motion) {
    const at::Tensor input_c = input.contiguous();
    const at::Tensor motion_c = motion.contiguous();
    ctx->save_for_backward({input_c, motion_c});
    return Forward(input_c, motion_c);
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad_outputs) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    auto [grad_input, grad_motion] =
        Backward(grad_outputs[0], saved[0], saved[1], ctx->needs_input_grad(0),
                 ctx->needs_input_grad(1));
    return {grad_input, grad_motion};
  }
};

}  // namespace

std::string WarpArgumentError(const at::Tensor& input,
                              const at::Tensor& motion) {
  if (!input.defined() || input.dim() != 4) {
    return Cat("WarpByMotion: input must be [B, C, H, W], got ",
               ShapeString(input));
  }
  if (!motion.defined() || motion.dim() != 4 || motion.size(1) != 2 ||
      motion.size(0) != input.size(0) || motion.size(2) != input.size(2) ||
      motion.size(3) != input.size(3)) {
    return Cat("WarpByMotion: motion must be [B, 2, H, W] = [", input.size(0),
               ", 2, ", input.size(2), ", ", input.size(3), "] to match input ",
               ShapeString(input), ", got ", ShapeString(motion));
  }
  const at::ScalarType type = input.scalar_type();
  if (type != at::kFloat && type != at::kDouble) {
    return Cat("WarpByMotion: input must be float32 or float64, got ",
               c10::toString(type));
  }
  if (motion.scalar_type() != type) {
    return Cat("WarpByMotion: motion dtype ",
               c10::toString(motion.scalar_type()),
               " differs from input dtype ", c10::toString(type));
  }
  if (input.device() != motion.device()) {
    return Cat("WarpByMotion: input is on ", input.device().str(),
               " but motion on ", motion.device().str());
  }
  if (input.is_cuda()) {
#ifndef MAPN_WITH_CUDA
    return "WarpByMotion: CUDA tensors need a build with --config=cuda";
#endif
  } else if (!input.is_cpu()) {
    return Cat("WarpByMotion: unsupported device ", input.device().str());
  }
  return "";
}

at::Tensor WarpByMotion(const at::Tensor& input, const at::Tensor& motion) {
  const std::string error = WarpArgumentError(input, motion);
  TORCH_CHECK(error.empty(), error);
  return WarpFunction::apply(input, motion);
}

}  // namespace mapn
