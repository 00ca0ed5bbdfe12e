"""``toolwire serve`` replicas and private ``redis-server`` processes for the task tests.

Ports are 0 (the OS picks them; each replica prints where it listens). Every process started
here is killed when its context ends, however the test ended, and every wait is bounded.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from service_checks import need

from toolwire.serve._auth import hash_api_key

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "tasks_tools.py"
ALICE_KEY = "tw_tasks_alice_0123456789abcdef"
BOB_KEY = "tw_tasks_bob_0123456789abcdef0"
AUTH = f"""
[auth]
api_keys = [
  {{ id = "alice", hash = "{hash_api_key(ALICE_KEY)}", scopes = ["*"] }},
  {{ id = "bob", hash = "{hash_api_key(BOB_KEY)}", scopes = ["*"] }},
]
"""
_REST = re.compile(r"REST http://127\.0\.0\.1:(\d+)/")
_GRPC = re.compile(r"gRPC 127\.0\.0\.1:(\d+)")


def config(
    *, redis_url: str | None = None, prefix: str = "tasks:", tasks: str = "", auth: bool = True
) -> str:
    text = '[server]\nlog_level = "error"\n'
    if auth:
        text += AUTH
    if redis_url is not None:
        text += f'\n[state]\nbackend = "redis"\nurl = "{redis_url}"\nprefix = "{prefix}"\n'
    if tasks:
        text += f"\n[tasks]\n{tasks}\n"
    return text


@dataclass
class Replica:
    base: str
    grpc: str | None
    proc: subprocess.Popen[str]
    lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=300))

    @property
    def mcp(self) -> str:
        return f"{self.base}/mcp"

    def kill(self) -> None:
        """SIGKILL: nothing runs afterwards (no shutdown, no lease given back)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def start_replica(
    folder: Path, text: str, *, log: Path, grpc: bool = True, tools: Path = TOOLS
) -> Replica:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "toolwire.toml"
    path.write_text(text)
    argv = [
        sys.executable,
        "-c",
        "from toolwire.cli import main; main()",
        "serve",
        "--config",
        str(path),
        "--tools",
        str(tools),
        "--port",
        "0",
        "--grpc-port",
        "0" if grpc else "-1",
    ]
    pythonpath = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "TASKS_LOG": str(log), "PYTHONPATH": pythonpath}
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    lines: collections.deque[str] = collections.deque(maxlen=300)
    ready = threading.Event()

    def drain() -> None:  # to the end, so the child never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if _REST.search(line):
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(60) or proc.poll() is not None:
        stop(proc)
        raise RuntimeError("toolwire serve did not start:\n" + "".join(lines))
    line = next(line for line in lines if _REST.search(line))
    rest, found = _REST.search(line), _GRPC.search(line)
    assert rest is not None
    return Replica(
        f"http://127.0.0.1:{rest.group(1)}",
        f"127.0.0.1:{found.group(1)}" if found else None,
        proc,
        lines,
    )


def stop(proc: subprocess.Popen[str], *, hard: bool = False) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def replicas(
    folder: Path, text: str, n: int, *, log: Path, grpc: bool = True
) -> Iterator[list[Replica]]:
    """``n`` replicas of one config (started one after the other), all stopped at the end."""
    started: list[Replica] = []
    try:
        for i in range(n):
            started.append(start_replica(folder / f"r{i}", text, log=log, grpc=grpc))
        yield started
    finally:
        for replica in started:
            stop(replica.proc, hard=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` of this test's own on an ephemeral port, persisting every write
    (AOF, fsync always) so that a restart keeps the tasks: it can be killed and restarted."""

    def __init__(self, folder: Path) -> None:
        exe = shutil.which("redis-server")
        need(exe is not None, "redis-server is not installed")
        assert exe is not None
        self.exe = exe
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def private_redis(folder: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def runs(log: Path) -> collections.Counter[str]:
    """How many times each task (call id) was started, from ``$TASKS_LOG``."""
    if not log.exists():
        return collections.Counter()
    return collections.Counter(
        line.split()[1] for line in log.read_text().splitlines() if line.startswith("start ")
    )


def starters(log: Path, task_id: str) -> list[int]:
    """The pids that started ``task_id``, in order."""
    return [
        int(line.split()[2])
        for line in log.read_text().splitlines()
        if line.startswith("start ") and line.split()[1] == task_id
    ]


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key, "Content-Type": "application/json"}
