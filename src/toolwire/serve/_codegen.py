"""Regenerate the committed gRPC modules from ``proto/toolwire/v1/tools.proto``.

Run ``python -m toolwire.serve._codegen`` after editing the ``.proto`` (needs grpcio-tools).
The output is post-processed so that it can be committed and imported anywhere: flat files in
``_gen/`` with a relative import, no pinning of the exact protobuf/grpcio versions that
generated them (the wire format does not depend on them), typed stubs (``.pyi``) for mypy,
and ruff-formatted text.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE / "proto"
PROTO = "toolwire/v1/tools.proto"
OUT = HERE / "_gen"

_RUNTIME_CHECK = re.compile(
    r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)\n", re.MULTILINE
)
_GRPC_CHECK = re.compile(r"GRPC_GENERATED_VERSION = .*?\n\n\n(?=class )", re.DOTALL)


def generate() -> None:
    from grpc_tools import protoc  # type: ignore[import-untyped]  # build-time only

    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            str(PROTO_ROOT / PROTO),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        src = Path(tmp) / "toolwire" / "v1"
        pb2 = (src / "tools_pb2.py").read_text()
        pb2 = _RUNTIME_CHECK.sub("", pb2)
        pb2 = pb2.replace("from google.protobuf import runtime_version as _runtime_version\n", "")
        grpc_mod = (src / "tools_pb2_grpc.py").read_text()
        grpc_mod = grpc_mod.replace(
            "from toolwire.v1 import tools_pb2 as", "from . import tools_pb2 as"
        )
        grpc_mod = _GRPC_CHECK.sub("", grpc_mod)
        grpc_mod = "# mypy: ignore-errors\n# ruff: noqa\n" + grpc_mod
        pb2 = "# ruff: noqa\n" + pb2
        pyi = "# mypy: ignore-errors\n# ruff: noqa\n" + (src / "tools_pb2.pyi").read_text()
    OUT.mkdir(exist_ok=True)
    (OUT / "tools_pb2.py").write_text(pb2)
    (OUT / "tools_pb2.pyi").write_text(pyi)
    (OUT / "tools_pb2_grpc.py").write_text(grpc_mod)
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUT)], check=False)


if __name__ == "__main__":
    generate()
