"""Private Redis topologies on loopback ephemeral ports, for tests and benchmarks that kill
nodes: a Redis Cluster (primaries with replicas) and a Sentinel group (a primary, a replica
and one sentinel). Nothing is written to disk (``--save "" --appendonly no``); every wait is
bounded and ``stop()`` kills every process it started.

No pytest here: ``benchmarks/bench_scale.py`` starts the same topologies.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

READY_S = 40.0  # starting, joining and syncing six servers on a loaded 2-core machine


def binaries_present() -> bool:
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held open together so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def cli(port: int, *args: str, timeout: float = 10.0) -> str:
    """``redis-cli`` against a loopback port: its output, or the error text."""
    try:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "redis-cli timed out"
    return out.stdout + out.stderr


def info(port: int, section: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in cli(port, "info", section).splitlines():
        key, sep, value = line.strip().partition(":")
        if sep:
            fields[key] = value
    return fields


class _Servers:
    """redis-server processes by client port: started, killed, waited for."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.args: dict[int, list[str]] = {}
        self.killed: set[int] = set()

    def spawn(self, port: int, args: list[str]) -> None:
        self.args[port] = args
        with (self.folder / f"node-{port}.log").open("ab") as log:
            self.procs[port] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, what: str, ok: Callable[[], bool], limit: float = READY_S) -> None:
        give_up = time.monotonic() + limit
        while not ok():
            for port, p in self.procs.items():
                if p.poll() is not None and port not in self.killed:
                    raise RuntimeError(f"redis on {port} exited ({p.returncode}) before {what}")
            if time.monotonic() > give_up:
                raise RuntimeError(f"{what} did not happen in {limit:g} s (logs: {self.folder})")
            time.sleep(0.05)

    def kill(self, port: int) -> None:
        """SIGKILL: the node stops answering at once, with nothing written or handed over."""
        self.killed.add(port)
        proc = self.procs[port]
        proc.kill()
        proc.wait(timeout=10)

    def restart(self, port: int) -> None:
        self.killed.discard(port)
        self.spawn(port, self.args[port])

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)


def _options(options: dict[str, str]) -> list[str]:
    return ["redis-server", *(part for k, v in options.items() for part in (f"--{k}", v))]


class LocalCluster:
    """``primaries`` cluster primaries, each with ``replicas`` replicas, created with
    ``redis-cli --cluster create``. ``node_timeout_ms`` small makes failover quick: a killed
    primary is flagged failed after it, and its replica is elected about a second later."""

    def __init__(
        self, folder: Path, *, primaries: int = 3, replicas: int = 1, node_timeout_ms: int = 1000
    ) -> None:
        self.servers = _Servers(folder)
        self.node_timeout_ms = node_timeout_ms
        count = primaries * (1 + replicas)
        self.primaries_wanted = primaries
        self.replicas = replicas
        ports = free_ports(2 * count)  # a client port and a cluster-bus port per node
        self.ports, self.buses = ports[:count], ports[count:]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def alive(self) -> list[int]:
        return [p for p in self.ports if p not in self.servers.killed]

    def start(self) -> LocalCluster:
        folder = self.servers.folder
        try:
            for port, bus in zip(self.ports, self.buses, strict=True):
                self.servers.spawn(
                    port,
                    _options(
                        {
                            "port": str(port),
                            "cluster-port": str(bus),
                            "bind": "127.0.0.1",
                            "cluster-enabled": "yes",
                            "cluster-config-file": str(folder / f"nodes-{port}.conf"),
                            "cluster-node-timeout": str(self.node_timeout_ms),
                            "dir": str(folder),
                            "save": "",  # nothing on disk: a test cluster
                            "appendonly": "no",
                        }
                    ),
                )
            self.servers.wait(
                "the nodes answering", lambda: all("PONG" in cli(p, "ping") for p in self.ports)
            )
            created = cli(
                self.ports[0],
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
                timeout=READY_S,
            )
            if "[OK] All 16384 slots covered" not in created:
                raise RuntimeError(f"redis-cli --cluster create failed: {created}")
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_healthy(self, limit: float = READY_S) -> None:
        """Every live node sees the cluster ok and every primary has its replicas in sync."""

        def healthy() -> bool:
            ports = self.alive()
            if not all("cluster_state:ok" in cli(p, "cluster", "info") for p in ports):
                return False
            roles = self.roles()
            if sum(1 for r in roles.values() if r == "master") != self.primaries_wanted:
                return False
            for port in ports:
                if (
                    roles.get(port) == "slave"
                    and info(port, "replication").get("master_link_status") != "up"
                ):
                    return False
            return True

        self.servers.wait("a healthy cluster", healthy, limit)

    def roles(self) -> dict[int, str]:
        """Live port -> ``master`` or ``slave``, as the first live node sees them."""
        out: dict[int, str] = {}
        for port in self.alive():
            text = cli(port, "cluster", "nodes")
            if "127.0.0.1" not in text:
                continue
            for line in text.splitlines():
                parts = line.split()
                if len(parts) < 3 or "fail" in parts[2]:
                    continue
                node_port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
                if node_port in self.alive():
                    out[node_port] = "master" if "master" in parts[2] else "slave"
            return out
        return out

    def primary_of(self, slot: int) -> int:
        """The client port of the node serving ``slot`` now (asked of a live node)."""
        for port in self.alive():
            reply = cli(port, "cluster", "slots").splitlines()
            # groups of: start, end, host, port, id, [replica host, port, id]...
            for i in range(len(reply) - 3):
                try:
                    start, end = int(reply[i]), int(reply[i + 1])
                except ValueError:
                    continue
                if start <= slot <= end and reply[i + 2] == "127.0.0.1":
                    return int(reply[i + 3])
        raise RuntimeError(f"no live node knows who serves slot {slot}")

    def kill(self, port: int) -> None:
        self.servers.kill(port)

    def restart(self, port: int) -> None:
        """Start a killed node again: it rejoins (as a replica once failed over)."""
        self.servers.restart(port)

    def stop(self) -> None:
        self.servers.stop()


class LocalSentinel:
    """A primary, ``replicas`` replicas and one sentinel watching them as ``service``.

    ``down_after_ms`` and ``failover_timeout_ms`` small make a failover quick; with one
    sentinel the quorum is 1.
    """

    def __init__(
        self,
        folder: Path,
        *,
        service: str = "toolwire",
        replicas: int = 1,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
    ) -> None:
        self.servers = _Servers(folder)
        self.service = service
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        ports = free_ports(2 + replicas)
        self.sentinel_port = ports[0]
        self.data_ports = ports[1:]

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.service}"

    def start(self) -> LocalSentinel:
        folder = self.servers.folder
        primary = self.data_ports[0]
        try:
            for port in self.data_ports:
                options = {
                    "port": str(port),
                    "bind": "127.0.0.1",
                    "dir": str(folder),
                    "save": "",
                    "appendonly": "no",
                }
                if port != primary:
                    options["replicaof"] = f"127.0.0.1 {primary}"
                self.servers.spawn(port, _options(options))
            self.servers.wait(
                "the replicas in sync",
                lambda: all(
                    info(p, "replication").get("master_link_status") == "up"
                    for p in self.data_ports[1:]
                ),
            )
            # a sentinel rewrites its own configuration file: it must be one of its own
            conf = folder / "sentinel.conf"
            conf.write_text(
                f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {primary} 1\n"
                f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.service} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.service} 1\n"
            )
            self.servers.spawn(self.sentinel_port, ["redis-server", str(conf), "--sentinel"])
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def primary(self) -> int:
        """The port the sentinel names as the primary now."""
        reply = cli(self.sentinel_port, "sentinel", "get-master-addr-by-name", self.service)
        lines = reply.split()
        return int(lines[1]) if len(lines) >= 2 and lines[1].isdigit() else -1

    def wait_healthy(self, limit: float = READY_S) -> None:
        """The sentinel knows the primary and its replicas, which are in sync."""

        def healthy() -> bool:
            primary = self.primary()
            if primary not in self.data_ports:
                return False
            # the sentinel promotes only a replica it has seen in sync (its last INFO)
            seen = cli(self.sentinel_port, "sentinel", "replicas", self.service).split()
            in_sync = sum(
                1 for i, word in enumerate(seen[:-1])
                if word == "master-link-status" and seen[i + 1] == "ok"
            )  # fmt: skip
            if in_sync < len(self.data_ports) - 1 - len(self.servers.killed):
                return False
            return all(
                info(p, "replication").get("master_link_status") == "up"
                for p in self.data_ports
                if p != primary and p not in self.servers.killed
            )

        self.servers.wait("a healthy sentinel group", healthy, limit)

    def failover(self) -> None:
        """``SENTINEL FAILOVER``: a replica is promoted, the old primary becomes a replica."""
        reply = ""

        def started() -> bool:
            nonlocal reply
            reply = cli(self.sentinel_port, "sentinel", "failover", self.service)
            if "NOGOODSLAVE" in reply:  # its view of the replica is not fresh yet
                return False
            if "OK" not in reply:
                raise RuntimeError(f"SENTINEL FAILOVER refused: {reply}")
            return True

        self.servers.wait("SENTINEL FAILOVER accepted", started)

    def stop(self) -> None:
        self.servers.stop()
