"""``toolwire serve`` replicas for benchmarks: N processes of one configuration, each on a
port of its own, started together and all stopped at the end (SIGKILL, bounded waits)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
_REST = re.compile(r"REST http://127\.0\.0\.1:(\d+)/")


class Replica:
    def __init__(self, proc: subprocess.Popen[str], base: str) -> None:
        self.proc = proc
        self.base = base

    def cpu_seconds(self) -> float:
        """User + system CPU of the process so far (from /proc/PID/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(folder: Path, config: str, tools: Path) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toolwire.toml").write_text(config)
    path = os.pathsep.join(p for p in (str(HERE.parent), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-c", "from toolwire.cli import main; main()", "serve", "--config",
         str(folder / "toolwire.toml"), "--tools", str(tools), "--port", "0",
         "--grpc-port", "-1", "--no-mcp"],
        env={**os.environ, "PYTHONPATH": path},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip


def _ready(proc: subprocess.Popen[str], limit: float = 60.0) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = _REST.search(line)
        if found:
            return f"http://127.0.0.1:{found.group(1)}"
        if not line and proc.poll() is not None:
            break
    raise RuntimeError("toolwire serve did not start")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def replicas(folder: Path, config: str, n: int, tools: Path) -> Iterator[list[Replica]]:
    """``n`` replicas of ``config`` serving ``tools`` (started at once, then waited for)."""
    procs = [_start(folder / f"r{i}", config, tools) for i in range(n)]
    try:
        yield [Replica(p, _ready(p)) for p in procs]
    finally:
        for p in procs:
            _stop(p)
