"""Start and stop the processes the system-level suites need: toolwire serve, redis-server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child server: this folder importable (for the reliability
    tools) in front of the caller's own PYTHONPATH, so a worktree's ``src`` stays first and
    the child runs the code under test, not the editable install's."""
    paths = [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"process exited with {proc.returncode}: {err[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def stop(proc: subprocess.Popen[bytes], *, hard: bool = False, grace: float = 10.0) -> None:
    """SIGTERM (a drain, up to ``grace`` s) or SIGKILL, then wait, bounded."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Served:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def start_serve(folder: Path, config: str, *, port: int | None = None) -> Served:
    """``toolwire serve`` (REST + MCP, no gRPC) with the reliability tools on a free port."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toolwire.toml").write_text(config)
    log = folder / "record.log"
    log.touch()
    port = port or free_port()
    cmd = [
        sys.executable,
        "-c",
        "from toolwire.cli import main; main()",
        "serve",
        "--config",
        str(folder / "toolwire.toml"),
        "--tools",
        str(HERE / "reliability_tools.py"),
        "--port",
        str(port),
        "--grpc-port",
        "-1",
    ]
    proc = subprocess.Popen(cmd, env=child_env(REL_LOG=str(log)), stderr=subprocess.PIPE)
    try:
        wait_port(port, proc)
    except BaseException:
        stop(proc, hard=True)
        raise
    return Served(f"http://127.0.0.1:{port}", port, proc, log)


@contextmanager
def private_redis(folder: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A redis-server of our own on an ephemeral port (never the shared :6379).

    Yields the port and a one-element list holding the current process, so a test can kill
    it and put a restarted one in its place; whatever is in the list is stopped at the end.
    """
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    procs = [start_redis(exe, port, folder)]
    try:
        yield port, procs
    finally:
        for proc in procs:
            stop(proc, hard=True)


def start_redis(exe: str | None, port: int, folder: Path) -> subprocess.Popen[bytes]:
    exe = exe or shutil.which("redis-server") or "redis-server"
    folder.mkdir(parents=True, exist_ok=True)
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, proc)
    return proc
