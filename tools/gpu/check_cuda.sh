#!/usr/bin/env bash
# Builds the CUDA warp kernels and their parity check without Bazel, against
# the LibTorch inside a pip-installed CUDA PyTorch, and runs the check: CUDA
# forward and backward of mapn::WarpByMotion against the CPU kernels and
# torch::grid_sample on random inputs of several sizes, with timings.
#
# Needs: nvcc (CUDA_HOME, default /usr/local/cuda, or nvcc on PATH), g++ with
# C++20, and python3 whose `torch` is a CUDA build. Nothing from Bazel,
# Abseil or gtest. Exits non-zero when a build step or a check fails.
#
# Usage: tools/gpu/check_cuda.sh [build_dir]      (default: a temporary dir)
#   CUDA_ARCH=90 overrides the GPU architecture (default: the device's own,
#   read through torch, else 90).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
BUILD_DIR="${1:-$(mktemp -d -t mapn-gpu.XXXXXX)}"
mkdir -p "$BUILD_DIR"

if [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then
  NVCC="$CUDA_HOME/bin/nvcc"
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  NVCC=/usr/local/cuda/bin/nvcc
elif command -v nvcc >/dev/null; then
  NVCC="$(command -v nvcc)"
else
  echo "check_cuda: no nvcc (set CUDA_HOME)" >&2
  exit 1
fi
CUDA_ROOT="$(cd "$(dirname "$NVCC")/.." && pwd)"
CXX="${CXX:-g++}"

read -r TORCH_DIR ABI TORCH_VERSION TORCH_CUDA ARCH_FROM_TORCH < <("$PYTHON" - <<'PY'
import os, torch
arch = ""
if torch.cuda.is_available():
    major, minor = torch.cuda.get_device_capability(0)
    arch = f"{major}{minor}"
print(os.path.dirname(torch.__file__), int(torch.compiled_with_cxx11_abi()),
      torch.__version__, torch.version.cuda or "none", arch or "-")
PY
)
if [ "$TORCH_CUDA" = "none" ]; then
  echo "check_cuda: $PYTHON's torch $TORCH_VERSION is not a CUDA build" >&2
  exit 1
fi
ARCH="${CUDA_ARCH:-}"
if [ -z "$ARCH" ]; then
  ARCH="$ARCH_FROM_TORCH"
  [ "$ARCH" = "-" ] && ARCH=90
fi
echo "torch $TORCH_VERSION (CUDA $TORCH_CUDA, cxx11 ABI $ABI) at $TORCH_DIR"
echo "nvcc: $("$NVCC" --version | tail -1); g++: $("$CXX" -dumpfullversion); sm_$ARCH"
echo "build dir: $BUILD_DIR"

set -x
"$NVCC" -std=c++17 -O3 -Xcompiler -fPIC --expt-relaxed-constexpr -lineinfo \
  -gencode "arch=compute_${ARCH},code=sm_${ARCH}" \
  -I. -c mapn/ops/cuda/warp_kernels.cu -o "$BUILD_DIR/warp_kernels.o"

CXXFLAGS=(-std=c++20 -O2 -Wall -Wextra -D_GLIBCXX_USE_CXX11_ABI="$ABI"
  -DMAPN_WITH_CUDA=1 -I.
  -isystem "$TORCH_DIR/include"
  -isystem "$TORCH_DIR/include/torch/csrc/api/include"
  -isystem "$CUDA_ROOT/include")
pids=()
"$CXX" "${CXXFLAGS[@]}" -c mapn/ops/warp.cc -o "$BUILD_DIR/warp.o" &
pids+=($!)
"$CXX" "${CXXFLAGS[@]}" -c mapn/ops/cpu/warp_kernels.cc \
  -o "$BUILD_DIR/warp_cpu.o" &
pids+=($!)
"$CXX" "${CXXFLAGS[@]}" -c tools/gpu/warp_parity.cc \
  -o "$BUILD_DIR/warp_parity.o" &
pids+=($!)
for pid in "${pids[@]}"; do wait "$pid"; done

# libcudart is linked dynamically so the process holds one CUDA runtime,
# shared with libtorch_cuda (same soname).
"$CXX" -o "$BUILD_DIR/warp_parity" "$BUILD_DIR/warp_parity.o" \
  "$BUILD_DIR/warp.o" "$BUILD_DIR/warp_cpu.o" "$BUILD_DIR/warp_kernels.o" \
  -L"$TORCH_DIR/lib" -Wl,-rpath,"$TORCH_DIR/lib" \
  -Wl,--no-as-needed -ltorch -ltorch_cuda -Wl,--as-needed \
  -ltorch_cpu -lc10 -lc10_cuda \
  -L"$CUDA_ROOT/lib64" -Wl,-rpath,"$CUDA_ROOT/lib64" -lcudart -lpthread
set +x

"$BUILD_DIR/warp_parity"
