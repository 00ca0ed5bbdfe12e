"""Scale-out: calls/s and p99 through ``toolwire serve`` with 1, 2 and 4 replicas sharing one
Redis, and a Redis Cluster (3 primaries + 3 replicas); CPU per call; a hot tool's shard; the
calls around a cluster primary's SIGKILL.

The load: one client process (this one, aiohttp, 32 calls in flight, spread round robin over
the replicas) calls ``hot`` (``benchmarks/_scale_tools.py``: a no-op under a breaker and a rate
limit, so every call is one admission and one settlement script in Redis). On a 2-core machine
more replicas cannot add speed; what the figures show is the CPU each call costs:

- **server CPU per call**: user + system time of every ``toolwire serve`` process
  (``/proc/PID/stat``) over the calls answered;
- **Redis CPU per call**: ``used_cpu_user + used_cpu_sys`` of ``INFO cpu`` summed over the
  Redis processes serving data;
- **projection**: with N cores given to the servers and the client elsewhere, N / server CPU
  per call calls/s, until the hot tool's shard (one single-threaded Redis primary: every key
  of one tool hashes to one slot) is full at about 1 / Redis CPU per call on that shard.

Failover (full run): two replicas on the cluster, the hot tool's primary SIGKILLed 2 s into
the load; answers per 100 ms around it (drawn to
``docs/img/bench_scale_failover_timeline.png``; in ``--json`` under ``extra.failover``).

The machine is shared with other jobs: figures move with their load.

    python -m benchmarks.bench_scale [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import parse_args, payload, report, result
from benchmarks._replicas import Replica, replicas

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "_scale_tools.py"
IN_FLIGHT = 32
sys.path.insert(0, str(HERE.parent / "tests"))  # the Redis launchers tests use too

from redis_nodes import LocalCluster, cli, free_ports, info  # noqa: E402


def _config(url: str) -> str:
    return f'[server]\nlog_level = "error"\n[state]\nbackend = "redis"\nurl = "{url}"\n'


def _redis_cpu(ports: list[int]) -> float:
    total = 0.0
    for port in ports:
        cpu = info(port, "cpu")
        total += float(cpu.get("used_cpu_user", 0)) + float(cpu.get("used_cpu_sys", 0))
    return total


def _commands(port: int) -> tuple[int, int]:
    """Commands the node ran (those inside scripts included) and scripts it was sent."""
    done = int(info(port, "stats").get("total_commands_processed", 0))
    scripts = 0
    for name in ("cmdstat_evalsha", "cmdstat_eval"):
        stat = info(port, "commandstats").get(name, "")
        for part in stat.split(","):
            key, _, value = part.partition("=")
            if key == "calls":
                scripts += int(value)
    return done, scripts


async def _load(
    nodes: list[Replica], seconds: float, *, on_answer: Callable[[float], None] | None = None
) -> tuple[int, int, list[float]]:
    """Calls for ``seconds``: (answered 200, other answers, latencies in ms)."""
    import aiohttp

    ok = bad = 0
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    turn = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as http:

        async def caller(n: int) -> None:
            nonlocal ok, bad, turn
            while time.monotonic() < stop:
                turn += 1
                url = f"{nodes[turn % len(nodes)].base}/v1/tools/hot/call"
                started = time.monotonic()
                try:
                    async with http.post(url, json={"n": n}) as r:
                        await r.read()
                        good = r.status == 200
                except aiohttp.ClientError:
                    good = False
                done = time.monotonic()
                if good:
                    ok += 1
                    latencies.append((done - started) * 1000)
                    if on_answer is not None:
                        on_answer(done)
                else:
                    bad += 1

        await asyncio.gather(*(caller(i) for i in range(IN_FLIGHT)))
    return ok, bad, latencies


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] if len(latencies) > 100 else float("nan")


def measure(
    folder: Path, url: str, data_ports: list[int], hot_port: int, n: int, seconds: float
) -> dict[str, Any]:
    with replicas(folder, _config(url), n, TOOLS) as nodes:
        asyncio.run(_load(nodes, min(1.0, seconds / 3)))  # warm-up: connections, scripts
        cpu0 = sum(r.cpu_seconds() for r in nodes)
        redis0, hot_cpu0, cmd0 = _redis_cpu(data_ports), _redis_cpu([hot_port]), _commands(hot_port)
        t0 = time.monotonic()
        ok, bad, latencies = asyncio.run(_load(nodes, seconds))
        elapsed = time.monotonic() - t0
        server_cpu = sum(r.cpu_seconds() for r in nodes) - cpu0
        redis_cpu = _redis_cpu(data_ports) - redis0
        hot_cpu = _redis_cpu([hot_port]) - hot_cpu0
        cmd1 = _commands(hot_port)
        commands, scripts = cmd1[0] - cmd0[0], cmd1[1] - cmd0[1]
    calls = max(ok, 1)
    return {
        "replicas": n,
        "calls_per_s": ok / elapsed,
        "errors": bad,
        "p99_ms": _p99(latencies),
        "server_cpu_ms_per_call": server_cpu / calls * 1000,
        "redis_cpu_ms_per_call": redis_cpu / calls * 1000,
        "hot_shard_commands_per_s": commands / elapsed,
        "hot_shard_commands_per_call": commands / calls,
        "hot_shard_scripts_per_call": scripts / calls,
        "hot_shard_cpu_ms_per_call": hot_cpu / calls * 1000,
    }


def failover_timeline(folder: Path, cluster: LocalCluster) -> dict[str, Any]:
    """Answers per 100 ms with two replicas on the cluster, the hot primary killed at 2 s."""
    slot = int(cli(cluster.ports[0], "cluster", "keyslot", "{hot}").strip())
    victim = cluster.primary_of(slot)
    answers: list[float] = []
    with replicas(folder, _config(cluster.url), 2, TOOLS) as nodes:
        asyncio.run(_load(nodes, 1.0))  # warm-up

        async def run() -> tuple[float, float | None, tuple[int, int, list[float]]]:
            load = asyncio.ensure_future(_load(nodes, 7.0, on_answer=answers.append))
            start = time.monotonic()
            await asyncio.sleep(2.0)
            await asyncio.to_thread(cluster.kill, victim)
            killed = time.monotonic()
            promoted = None
            while time.monotonic() < killed + 5:
                if await asyncio.to_thread(cluster.primary_of, slot) != victim:
                    promoted = time.monotonic() - killed
                    break
                await asyncio.sleep(0.05)
            counts = await load
            return start, promoted, (counts[0], counts[1], [killed - start])

        start, promoted, (ok, bad, (kill_at,)) = asyncio.run(run())
    buckets = [0] * 70
    for t in answers:
        i = int((t - start) / 0.1)
        if 0 <= i < len(buckets):
            buckets[i] += 1
    # the longest pause between two answers: the calls waiting for the failover
    times = sorted(t - start for t in answers)
    pause, resumed = max(((b - a, b) for a, b in itertools.pairwise(times)), default=(0.0, 0.0))
    return {
        "kill_at_s": kill_at,
        "promoted_after_s": promoted,
        "answered": ok,
        "errors": bad,
        "longest_pause_s": pause,
        "resumed_after_kill_s": resumed - kill_at,
        "per_100ms": buckets,
    }


def _draw_timeline(fo: dict[str, Any], png: Path) -> str | None:
    """The failover timeline as a line on a time axis, the kill and the promotion marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib)"
    x = [i / 10 for i in range(len(fo["per_100ms"]))]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.step(x, [10 * b for b in fo["per_100ms"]], where="post", label="answers (x10 per 100 ms)")
    ax.axvline(fo["kill_at_s"], color="red", linestyle="--", label="primary SIGKILLed")
    if fo["promoted_after_s"] is not None:
        at = fo["kill_at_s"] + fo["promoted_after_s"]
        ax.axvline(at, color="green", linestyle=":", label="replica promoted")
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("calls/s")
    ax.set_title("2 toolwire serve replicas on a Redis Cluster (3+3), 32 calls in flight")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__.split("\n")[0], argv)
    if shutil.which("redis-server") is None:
        report(settings, payload("bench_scale", title="Scale-out", settings=settings, results=[]))
        return
    seconds = 1.5 if settings.quick else 5.0
    counts = [1, 2] if settings.quick else [1, 2, 4]
    rows: dict[str, list[dict[str, Any]]] = {}
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (port,) = free_ports(1)
        single = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        cluster: LocalCluster | None = None
        try:
            deadline = time.monotonic() + 20
            while "PONG" not in cli(port, "ping") and time.monotonic() < deadline:
                time.sleep(0.05)
            url = f"redis://127.0.0.1:{port}/0"
            rows["redis"] = [
                measure(folder / f"one-{n}", url, [port], port, n, seconds) for n in counts
            ]
            if not settings.quick:
                cluster = LocalCluster(folder / "cluster").start()
                slot = int(cli(cluster.ports[0], "cluster", "keyslot", "{hot}").strip())
                hot = cluster.primary_of(slot)
                primaries = [p for p, r in cluster.roles().items() if r == "master"]
                rows["cluster"] = [
                    measure(folder / f"cl-{n}", cluster.url, primaries, hot, n, seconds)
                    for n in counts
                ]
                extra["failover"] = failover_timeline(folder / "failover", cluster)
        finally:
            single.kill()
            single.wait(timeout=10)
            if cluster is not None:
                cluster.stop()
    results = []
    for store, figures in rows.items():
        for f in figures:
            print(
                f"{store:8} {f['replicas']} replica(s): {f['calls_per_s']:7.0f} calls/s, "
                f"p99 {f['p99_ms']:6.1f} ms, errors {f['errors']}, server CPU "
                f"{f['server_cpu_ms_per_call']:.3f} ms/call, Redis CPU "
                f"{f['redis_cpu_ms_per_call']:.3f} ms/call; hot shard "
                f"{f['hot_shard_commands_per_s']:.0f} commands/s "
                f"({f['hot_shard_commands_per_call']:.1f}/call inside "
                f"{f['hot_shard_scripts_per_call']:.2f} scripts/call, "
                f"{f['hot_shard_cpu_ms_per_call']:.3f} ms CPU/call)"
            )
            results.append(
                result(
                    f"calls/s through toolwire serve, {f['replicas']} replica(s), {store}",
                    ours=f["calls_per_s"],
                    unit="calls/s",
                    better="higher",
                    note=f"p99 {f['p99_ms']:.1f} ms; server CPU "
                    f"{f['server_cpu_ms_per_call']:.3f} ms/call, Redis CPU "
                    f"{f['redis_cpu_ms_per_call']:.3f} ms/call",
                )
            )
        one = figures[0]
        per_core = 1000 / one["server_cpu_ms_per_call"]
        shard = 1000 / max(one["hot_shard_cpu_ms_per_call"], 1e-9)
        extra[f"projection_{store}"] = {
            "calls_per_s_per_server_core": per_core,
            "hot_shard_limit_calls_per_s": shard,
        }
        print(
            f"{store}: projection {per_core:.0f} calls/s per server core; the hot tool's shard "
            f"full at about {shard:.0f} calls/s (one Redis core)"
        )
    extra["rows"] = rows
    fo = extra.get("failover")
    if fo is not None:
        print(
            f"failover: primary killed at {fo['kill_at_s']:.2f} s, replica promoted "
            f"{fo['promoted_after_s']:.2f} s later; {fo['answered']} answered, {fo['errors']} "
            f"errors; longest pause between answers {fo['longest_pause_s']:.2f} s, answers "
            f"again {fo['resumed_after_kill_s']:.2f} s after the kill"
        )
        png = HERE.parent / "docs" / "img" / "bench_scale_failover_timeline.png"
        print(f"chart: {_draw_timeline(fo, png) or png}")
    report(
        settings,
        payload(
            "bench_scale",
            title="Scale-out: replicas, Redis Cluster, failover",
            settings=settings,
            results=results,
            extra=extra,
        ),
    )


if __name__ == "__main__":
    main()
