"""A real ``toolwire serve`` process (REST + MCP + gRPC on ephemeral loopback ports) with API
keys and HS256 JWTs configured, shared by the tests of this folder."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from serve_helpers import (
    CONFIG,
    HERE,
    SECRET,
    Server,
    child_env,
    free_port,
    serve_command,
    stop,
    wait_ready,
)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    config = folder / "toolwire.toml"
    config.write_text(CONFIG)
    port, grpc_port = free_port(), free_port()
    env = child_env(TW_TEST_JWT_SECRET=SECRET)
    proc = subprocess.Popen(
        serve_command(
            "--config",
            str(config),
            "--tools",
            str(HERE / "serve_tools.py"),
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
        ),
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(proc, port)
        wait_ready(proc, grpc_port)
        yield Server(f"http://127.0.0.1:{port}", port, f"127.0.0.1:{grpc_port}", proc, config)
    finally:
        stop(proc)
