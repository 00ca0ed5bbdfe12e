"""Helpers for the serve tests: config, credentials, starting and stopping ``toolwire serve``."""

from __future__ import annotations

import os
import re
import selectors
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from toolwire.serve._auth import hash_api_key

HERE = Path(__file__).resolve().parent
KEY = "tw_test_key_user_0123456789abcdef"
ADMIN_KEY = "tw_test_key_admin_0123456789abcdef"
SECRET = "test-secret-for-hs256-0123456789abcdef"
CONFIG = f"""
[server]
title = "toolwire tests"

[server.limits]
max_body_bytes = 65536
max_argument_bytes = 4096
max_depth = 8
max_batch = 5

[auth]
api_keys = [
  {{ id = "user", hash = "{hash_api_key(KEY)}", scopes = ["weather"] }},
  {{ id = "admin", hash = "{hash_api_key(ADMIN_KEY)}", scopes = ["*"] }},
]

[auth.jwt]
secret_env = "TW_TEST_JWT_SECRET"

[auth.scopes]
"admin_*" = ["admin"]
"""


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``toolwire serve`` child: this folder importable (for
    ``serve_tools``) in front of the caller's own PYTHONPATH, so a worktree's ``src`` stays
    first instead of the editable install's."""
    paths = [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(
    sub: str = "jwt-user", *, scope: str = "weather", exp: float = 300, secret: str = SECRET
) -> str:
    claims = {"sub": sub, "scope": scope, "exp": int(time.time() + exp)}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass
class Server:
    base: str
    port: int
    grpc: str
    proc: subprocess.Popen[bytes]
    config: Path


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from toolwire.cli import main; main()", "serve", *args]


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"toolwire serve exited with {proc.returncode}: {out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("toolwire serve did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class StderrLines:
    """The lines a child writes to stderr, read raw with a deadline (a buffered reader could
    hold lines that ``select`` then misses)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self.proc = proc
        self.fd = proc.stderr.fileno()
        self.lines: list[str] = []
        self._pending = b""

    def until(self, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        """The first line (from the start) matching ``pattern``, reading more while needed."""
        seen = 0
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.fd, selectors.EVENT_READ)
            while True:
                for line in self.lines[seen:]:
                    found = pattern.search(line)
                    if found:
                        return found
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    raise TimeoutError(f"no line matching {pattern.pattern!r}: {self.text}")
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    self.proc.wait(timeout=10)
                    raise RuntimeError(f"exited {self.proc.returncode}: {self.text}")
                self._pending += chunk
                *complete, self._pending = self._pending.split(b"\n")
                self.lines.extend(raw.decode(errors="replace") for raw in complete)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Started:
    """A ``toolwire serve`` child started on port 0, with the ports it reported."""

    proc: subprocess.Popen[bytes]
    port: int
    grpc_port: int | None
    stderr: StderrLines

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


READY = re.compile(r"REST http://[^:]+:(\d+)/v1(?:.*? gRPC [^ ]+:(\d+))?")


def start_serve(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Started:
    """Start ``toolwire serve ARGS`` and wait for its ready line on stderr (which names the
    ports it really listens on); raises with everything it printed if it exits first."""
    proc = subprocess.Popen(serve_command(*args), env=env or child_env(), stderr=subprocess.PIPE)
    stderr = StderrLines(proc)
    try:
        found = stderr.until(READY, timeout)
    except (TimeoutError, RuntimeError):
        stop(proc)
        raise
    grpc = int(found.group(2)) if found.group(2) else None
    return Started(proc, int(found.group(1)), grpc, stderr)
