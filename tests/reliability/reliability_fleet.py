"""Start N ``toolwire serve`` replicas on one config (one Redis prefix), SIGKILL and restart
one on its port: the many-replica reliability test's fleet (``benchmarks/_replicas.py``
starts replicas for the benchmarks, without kill and restart).

    with Replicas.start(4, folder, config_text, tools_file, env) as reps:
        reps.bases            # ["http://127.0.0.1:PORT", ...]
        reps.kill(1)          # SIGKILL, as a crashed pod
        reps.restart(1)       # the same command on the same port, waited for
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from reliability_serve import free_port, stop, wait_port


@dataclass
class Replicas:
    """Running replicas: their commands, ports and processes (index i is replica i)."""

    commands: list[list[str]]
    ports: list[int]
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @classmethod
    @contextmanager
    def start(
        cls,
        n: int,
        folder: Path,
        config: str,
        tools: Path,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[Replicas]:
        """``n`` replicas of ``toolwire serve --config <folder>/toolwire.toml --tools
        <tools>`` on free loopback ports (REST only); all stopped (drained) at the end."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "toolwire.toml"
        path.write_text(config)
        ports = [free_port() for _ in range(n)]
        commands = [
            [sys.executable, "-m", "toolwire", "serve", "--config", str(path), "--tools",
             str(tools), "--port", str(port), "--grpc-port", "-1"]
            for port in ports
        ]  # fmt: skip
        reps = cls(commands, ports, dict(env if env is not None else os.environ))
        try:
            for i in range(n):
                reps.procs.append(reps._spawn(i))
            for i in range(n):
                wait_port(ports[i], reps.procs[i], timeout=60)
            yield reps
        finally:
            for proc in reps.procs:
                stop(proc, grace=30)  # a drain

    def _spawn(self, i: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.commands[i], env=self.env, stderr=subprocess.PIPE)

    def kill(self, i: int) -> int:
        """SIGKILL replica ``i`` (no drain, as a crash); returns its pid."""
        proc = self.procs[i]
        stop(proc, hard=True)
        return proc.pid

    def restart(self, i: int) -> None:
        """Start replica ``i`` again on its port and wait until it listens."""
        self.procs[i] = self._spawn(i)
        wait_port(self.ports[i], self.procs[i], timeout=60)
