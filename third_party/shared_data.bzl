"""shared_data: exposes the real test clips and labels that live beside a checkout.

The project's tests read small real clips and label files published by other
projects (DEVELOPERS.md: ../shared/data/real, never copied into this
repository). This repository rule symlinks that folder, when it exists, as
@shared_data so tests can list it in `data` and find it in their runfiles.
Where it is absent (a user's own clone) the repository is empty and those tests
skip with a message saying why.

The folder is found, in order, from the MAPN_SHARED_DIR environment variable
(the folder that holds data/real) or ../shared next to the workspace.
"""

_BUILD = """
package(default_visibility = ["//visibility:public"])

filegroup(
    name = "real",
    srcs = glob(["real/**"], allow_empty = True),
)
"""

def _shared_data_impl(ctx):
    candidates = []
    env = ctx.os.environ.get("MAPN_SHARED_DIR", "")
    if env:
        candidates.append(ctx.path(env))
    workspace = ctx.path(ctx.attr._workspace_marker).dirname
    candidates.append(workspace.dirname.get_child("shared"))
    for shared in candidates:
        real = shared.get_child("data").get_child("real")
        if real.exists:
            ctx.symlink(real, "real")
            break
    ctx.file("WORKSPACE", "workspace(name = \"shared_data\")\n")
    ctx.file("BUILD", _BUILD)

shared_data_repository = repository_rule(
    implementation = _shared_data_impl,
    attrs = {"_workspace_marker": attr.label(default = "//:WORKSPACE")},
    environ = ["MAPN_SHARED_DIR"],
    local = True,
)
