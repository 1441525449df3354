"""cuda_library: compiles .cu files with the image's nvcc into a cc_library.

Usage (in a BUILD file):

    load("//third_party/cuda:cuda.bzl", "cuda_library")

    cuda_library(
        name = "warp_cuda",
        srcs = ["warp_kernel.cu"],
        hdrs = ["warp_kernel.h"],
    )

With --config=cuda each .cu file is compiled by /usr/local/cuda/bin/nvcc into a
position-independent object, archived, and linked (with the static CUDA
runtime) into whatever depends on the target; the target also defines
MAPN_WITH_CUDA=1 for its dependants. Without --config=cuda the target is a
plain header-only cc_library: nvcc is never invoked, so machines without CUDA
build and test everything else.

The nvcc path and the GPU architectures can be changed with
--define=cuda_path=/opt/cuda and --define=cuda_archs=80,90.
"""

_DEFAULT_CUDA_PATH = "/usr/local/cuda"

# sm_80 (A100), sm_90 (H100/H200) as machine code, plus compute_90 PTX so
# newer GPUs can JIT it.
_DEFAULT_ARCHS = "80,90"

def _nvcc_gencode_flags(archs):
    flags = []
    arch_list = [a.strip() for a in archs.split(",") if a.strip()]
    for arch in arch_list:
        flags.append("-gencode=arch=compute_{a},code=sm_{a}".format(a = arch))
    if arch_list:
        last = arch_list[-1]
        flags.append("-gencode=arch=compute_{a},code=compute_{a}".format(a = last))
    return flags

def _cuda_archive_impl(ctx):
    cuda_path = ctx.var.get("cuda_path", _DEFAULT_CUDA_PATH)
    archs = ctx.var.get("cuda_archs", _DEFAULT_ARCHS)
    nvcc = cuda_path + "/bin/nvcc"

    header_files = []
    include_dirs = {}
    for hdr in ctx.files.hdrs:
        header_files.append(hdr)
    for dep in ctx.attr.deps:
        cc = dep[CcInfo].compilation_context
        header_files.extend(cc.headers.to_list())
        for d in cc.includes.to_list() + cc.system_includes.to_list() + cc.quote_includes.to_list():
            include_dirs[d] = True

    objects = []
    for src in ctx.files.srcs:
        obj = ctx.actions.declare_file("_objs/{}/{}.pic.o".format(ctx.label.name, src.basename))
        args = ctx.actions.args()
        args.add("-c", src)
        args.add("-o", obj)
        args.add_all(["-std=c++17", "-O3", "-Xcompiler", "-fPIC", "-Xcompiler", "-Wall"])
        args.add_all(["--expt-relaxed-constexpr", "-lineinfo"])
        args.add_all(_nvcc_gencode_flags(archs))
        args.add("-I.")
        args.add("-I" + ctx.bin_dir.path)
        for d in include_dirs.keys():
            args.add("-I" + d)
        args.add_all(ctx.attr.copts)
        ctx.actions.run(
            executable = nvcc,
            arguments = [args],
            inputs = [src] + header_files,
            outputs = [obj],
            mnemonic = "NvccCompile",
            progress_message = "nvcc %s" % src.short_path,
            use_default_shell_env = True,
            # nvcc lives outside the workspace; it cannot run inside the sandbox.
            execution_requirements = {"no-sandbox": "1"},
        )
        objects.append(obj)

    cc_toolchain = ctx.attr._cc_toolchain[cc_common.CcToolchainInfo]
    feature_configuration = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    archive = ctx.actions.declare_file("lib{}.pic.a".format(ctx.label.name))
    ctx.actions.run(
        executable = cc_toolchain.ar_executable,
        arguments = ["rcs", archive.path] + [o.path for o in objects],
        inputs = objects,
        outputs = [archive],
        mnemonic = "NvccArchive",
    )
    library = cc_common.create_library_to_link(
        actions = ctx.actions,
        feature_configuration = feature_configuration,
        cc_toolchain = cc_toolchain,
        pic_static_library = archive,
        alwayslink = True,
    )
    linker_input = cc_common.create_linker_input(
        owner = ctx.label,
        libraries = depset([library]),
        user_link_flags = depset([
            "-L" + cuda_path + "/lib64",
            "-lcudart_static",
            "-ldl",
            "-lrt",
            "-lpthread",
        ]),
    )
    return [
        DefaultInfo(files = depset([archive])),
        CcInfo(linking_context = cc_common.create_linking_context(
            linker_inputs = depset([linker_input]),
        )),
    ]

_cuda_archive = rule(
    implementation = _cuda_archive_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".cu"]),
        "hdrs": attr.label_list(allow_files = [".h", ".cuh"]),
        "deps": attr.label_list(providers = [CcInfo]),
        "copts": attr.string_list(),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
)

def cuda_library(name, srcs, hdrs = [], deps = [], copts = [], visibility = None, **kwargs):
    """A cc_library whose .cu sources are compiled by nvcc under --config=cuda.

    Args:
      name: target name.
      srcs: .cu files.
      hdrs: headers, usable from C++ and CUDA (no CUDA types in them if
        C++ code that builds without CUDA includes them).
      deps: cc_library dependencies whose headers the .cu files include.
      copts: extra nvcc flags.
      visibility: as for cc_library.
      **kwargs: passed to the cc_library.
    """
    _cuda_archive(
        name = name + "_nvcc",
        srcs = srcs,
        hdrs = hdrs,
        deps = deps,
        copts = copts,
        tags = ["manual"],
        visibility = ["//visibility:private"],
    )
    native.cc_library(
        name = name,
        hdrs = hdrs,
        deps = deps + select({
            "//third_party/cuda:enabled": [":" + name + "_nvcc"],
            "//conditions:default": [],
        }),
        defines = select({
            "//third_party/cuda:enabled": ["MAPN_WITH_CUDA=1"],
            "//conditions:default": [],
        }),
        visibility = visibility,
        **kwargs
    )
