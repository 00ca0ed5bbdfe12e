"""Shared by the conformance suites: one ``toolwire serve`` per module, credentials, and where
the third-party clients (grpcurl, schemathesis, the npm packages) are found.

A client that is missing skips its suite locally and fails it under ``CI=true``
(``service_checks.need``): ``.ci/run`` installs them all.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service_checks import need

from toolwire.serve._auth import hash_api_key

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "conformance_tools.py"
NODE_MODULES = HERE / "node_modules"

USER_KEY = "tw_conf_user_0123456789abcdef"
OTHER_KEY = "tw_conf_other_0123456789abcdef"
ADMIN_KEY = "tw_conf_admin_0123456789abcdef"
JWT_SECRET = "conformance-hs256-secret-0123456789abcdef"
MAX_ARGUMENT_BYTES = 4096

CONFIG = f"""
[server]
title = "toolwire conformance"
log_level = "error"

[server.limits]
max_argument_bytes = {MAX_ARGUMENT_BYTES}

[auth]
api_keys = [
  {{ id = "user", hash = "{hash_api_key(USER_KEY)}", scopes = ["user"] }},
  {{ id = "other", hash = "{hash_api_key(OTHER_KEY)}", scopes = ["user"] }},
  {{ id = "admin", hash = "{hash_api_key(ADMIN_KEY)}", scopes = ["*"] }},
]

[auth.jwt]
secret_env = "TW_CONF_JWT_SECRET"

[auth.scopes]
"admin_*" = ["admin"]
"""

# The line `toolwire serve` prints once it listens (ports are 0: the OS picks them).
_REST = re.compile(r"REST http://127\.0\.0\.1:(\d+)/")
_GRPC = re.compile(r"gRPC 127\.0\.0\.1:(\d+)")


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    grpc: str | None  # 127.0.0.1:PORT
    proc: subprocess.Popen[str]
    log: collections.deque[str]

    @property
    def mcp(self) -> str:
        return f"{self.base}/mcp"


def jwt_for(subject: str, scope: str = "user") -> str:
    """An HS256 token minted with PyJWT for the configured secret."""
    import jwt

    claims = {"sub": subject, "scope": scope, "exp": int(time.time()) + 600}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def serve_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "from toolwire.cli import main; main()", "serve", *args]


@contextmanager
def serve(
    folder: Path,
    *,
    tools: Sequence[str] = (str(TOOLS),),
    grpc: bool = True,
    config: str = CONFIG,
) -> Iterator[Served]:
    """Run ``toolwire serve`` on ephemeral loopback ports until the block ends."""
    path = folder / "toolwire.toml"
    path.write_text(config)
    argv = serve_argv("--config", str(path), "--port", "0", "--grpc-port", "0" if grpc else "-1")
    for source in tools:
        argv += ["--tools", source]
    env = {**os.environ, "TW_CONF_JWT_SECRET": JWT_SECRET}
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    log: collections.deque[str] = collections.deque(maxlen=200)
    ready = threading.Event()

    def drain() -> None:  # read stderr to the end, so the server never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if _REST.search(line):
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(60) or proc.poll() is not None:
            raise RuntimeError("toolwire serve did not start:\n" + "".join(log))
        line = next(line for line in log if _REST.search(line))
        rest = _REST.search(line)
        found = _GRPC.search(line)
        assert rest is not None and (found is not None or not grpc), line
        yield Served(
            base=f"http://127.0.0.1:{rest.group(1)}",
            grpc=f"127.0.0.1:{found.group(1)}" if found else None,
            proc=proc,
            log=log,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def executable(name: str) -> str | None:
    """``name`` next to the running interpreter (a venv's bin/, activated or not), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def need_executable(name: str, how: str) -> str:
    found = executable(name)
    need(found is not None, f"{name} not found ({how})")
    assert found is not None
    return found


def need_node_clients() -> str:
    """The ``node`` binary, once the npm packages of ``package-lock.json`` are installed."""
    node = executable("node")
    need(node is not None, "node is not installed")
    installed = (NODE_MODULES / "@modelcontextprotocol" / "sdk" / "package.json").exists()
    need(installed, f"npm packages missing: run `npm ci` in {HERE}")
    assert node is not None
    return node


def run_node(script: str, config: dict[str, Any], *, timeout: float = 120) -> list[dict[str, Any]]:
    """Run a node script of this folder with ``config`` as JSON on stdin; its stdout is one JSON
    list of case results."""
    node = need_node_clients()
    started = time.monotonic()
    done = subprocess.run(
        [node, str(HERE / script)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    results: list[dict[str, Any]] = json.loads(done.stdout)
    print(f"{script}: {len(results)} cases in {time.monotonic() - started:.1f} s")
    return results
