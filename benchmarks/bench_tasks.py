"""Durable tasks: start -> result latency, tasks per second, recovery after a replica dies.

1. **Latency**: ``await box.start("noop")`` then ``await handle.result()`` for a tool that
   returns at once, one task at a time: the memory store, and the Redis store on a private
   ``redis-server`` (loopback, ephemeral port). Side by side in one event loop, interleaved
   round by round (medians over rounds): ``box.call("noop")`` (the floor: the same call without
   a task) and the peer, arq (``enqueue_job`` then ``job.result``, its worker in the same
   loop, both poll delays set to 5 ms: arq polls where toolwire blocks on Redis streams).
2. **Throughput**: tasks per second with 32 callers each starting a task and awaiting its
   result, again and again; the same contenders.
3. **Recovery**: two ``toolwire serve`` replicas on the private Redis; an idempotent task
   runs on one, which is SIGKILLed; the time from the kill until the other replica starts the
   task again (expected: the lease, plus up to half of it, at most 5 s, until a replica looks
   for expired leases). Lease 1 s (``--quick``) and 2 s.

The machine is shared: figures move with the load of others; rows of one table are measured
in the same rounds so a burst hits them alike.

    python -m benchmarks.bench_tasks [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import Row, parse_args, payload, print_table, report, result, row

HERE = Path(__file__).resolve().parent
Run = Callable[[], Awaitable[Any]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing on port {port}")


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    if shutil.which("redis-server") is None:
        return None
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_port(port, proc)
    return proc, port


# -- contenders ---------------------------------------------------------------------------------
async def toolwire_box(redis_url: str | None) -> tuple[Any, Callable[[], Awaitable[None]]]:
    import toolwire as tw
    from toolwire.runtime import Tasks

    @tw.tool(task_support="optional")
    async def noop() -> str:
        return "ok"

    store = None
    if redis_url is not None:
        from toolwire.state import RedisTaskStore

        store = RedisTaskStore(redis_url, prefix=f"bench:{uuid.uuid4().hex[:8]}:")
    tasks = Tasks(store, max_per_caller=None, workers=64)
    box = tw.Toolbox([noop], tasks=tasks)
    await tasks.run()

    async def close() -> None:
        await tasks.aclose()
        if store is not None:
            await store.aclose()

    return box, close


async def arq_peer(port: int) -> tuple[Run | None, str, Callable[[], Awaitable[None]]]:
    try:
        from arq import create_pool
        from arq.connections import RedisSettings
        from arq.worker import Worker, func
    except ImportError:
        return None, "arq not installed (peers venv)", _nothing

    async def noop(ctx: Any) -> str:
        return "ok"

    queue = f"bench:arq:{uuid.uuid4().hex[:8]}"
    pool = await create_pool(RedisSettings(host="127.0.0.1", port=port))
    worker = Worker(
        functions=[func(noop, name="noop")],
        redis_pool=pool,
        queue_name=queue,
        poll_delay=0.005,
        max_jobs=64,
        handle_signals=False,
    )
    running = asyncio.ensure_future(worker.async_run())

    async def once() -> None:
        job = await pool.enqueue_job("noop", _queue_name=queue)
        assert job is not None
        assert await job.result(timeout=30, poll_delay=0.005) == "ok"

    async def close() -> None:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
        await pool.aclose()

    return once, "", close


async def _nothing() -> None:
    return None


def toolwire_runs(box: Any) -> tuple[Run, Run]:
    async def task() -> None:
        handle = await box.start("noop")
        assert (await handle.result()).value == "ok"

    async def call() -> None:
        assert (await box.call("noop")).value == "ok"

    return task, call


# -- measurements -------------------------------------------------------------------------------
async def latency_rounds(contenders: dict[str, Run], n: int, rounds: int) -> dict[str, float]:
    """Median µs per run, one at a time, contenders interleaved round by round."""
    for run in contenders.values():  # warm-up
        for _ in range(max(3, n // 10)):
            await run()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(rounds):
        names = list(contenders)
        names = names[i % len(names) :] + names[: i % len(names)]  # rotate the order
        for name in names:
            run = contenders[name]
            start = time.perf_counter()
            for _ in range(n):
                await run()
            samples[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: statistics.median(s) for name, s in samples.items()}


async def throughput_rounds(
    contenders: dict[str, Run], total: int, rounds: int, concurrency: int = 32
) -> dict[str, float]:
    """Median runs per second with ``concurrency`` callers, contenders interleaved."""

    async def burst(run: Run) -> float:
        left = total

        async def caller() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await run()

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        return total / (time.perf_counter() - start)

    for run in contenders.values():
        await burst(run)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(rounds):
        names = list(contenders)
        names = names[i % len(names) :] + names[: i % len(names)]
        for name in names:
            samples[name].append(await burst(contenders[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


_REST = re.compile(r"REST http://127\.0\.0\.1:(\d+)/")


def _replica(folder: Path, redis_port: int, lease: float, log: Path) -> tuple[Any, str]:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "toolwire.toml"
    config.write_text(
        '[server]\nlog_level = "error"\n'
        f'[state]\nbackend = "redis"\nurl = "redis://127.0.0.1:{redis_port}/0"\n'
        f'prefix = "benchrec:"\n[tasks]\nlease = {lease}\n'
    )
    path = os.pathsep.join(p for p in (str(HERE.parent), os.environ.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from toolwire.cli import main; main()", "serve", "--config",
         str(config), "--tools", str(HERE / "_tasks_tools.py"), "--port", "0", "--grpc-port",
         "-1"],
        env={**os.environ, "BENCH_LOG": str(log), "PYTHONPATH": path},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = _REST.search(line)
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}"
        if not line and proc.poll() is not None:
            break
    _stop(proc)
    raise RuntimeError("toolwire serve did not start")


def _starts(log: Path, task_id: str) -> list[tuple[float, int]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        when, call_id, pid = line.split()
        if call_id == task_id:
            out.append((float(when), int(pid)))
    return out


async def recovery(redis_port: int, lease: float, repeats: int, folder: Path) -> list[float]:
    """Seconds from SIGKILL of the running replica to the task's start on the other one."""
    import aiohttp

    seconds: list[float] = []
    log = folder / f"starts-{lease}.log"
    replicas = [_replica(folder / f"r{i}-{lease}", redis_port, lease, log) for i in range(2)]
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(repeats):
                alive = [(p, b) for p, b in replicas if p.poll() is None]
                body = {"seconds": 60}
                url = f"{alive[0][1]}/v1/tools/long_job/tasks"
                async with http.post(url, json=body) as r:
                    task_id = (await r.json())["task_id"]
                while not _starts(log, task_id):  # noqa: ASYNC110 - the tool's log file
                    await asyncio.sleep(0.01)
                pid = _starts(log, task_id)[0][1]
                runner = next(p for p, _ in replicas if p.pid == pid)
                killed = time.time()
                runner.send_signal(signal.SIGKILL)
                runner.wait(timeout=10)
                async with asyncio.timeout(60):
                    while len(_starts(log, task_id)) < 2:  # noqa: ASYNC110 - the log file
                        await asyncio.sleep(0.01)
                seconds.append(_starts(log, task_id)[1][0] - killed)
                # put a replica back in the dead one's place for the next repeat
                index = next(i for i, (p, _) in enumerate(replicas) if p is runner)
                replicas[index] = _replica(
                    folder / f"r{index}-{lease}-{len(seconds)}", redis_port, lease, log
                )
                survivor = next(b for p, b in replicas if p.poll() is None)
                async with http.delete(f"{survivor}/v1/tasks/{task_id}") as r:
                    assert r.status == 200
    finally:
        for proc, _ in replicas:
            _stop(proc)
    return seconds


# -- the run ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__.split("\n")[0], argv)
    n, total, rounds = (50, 320, 3) if settings.quick else (300, 3200, 7)
    results: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = start_redis(folder)
        redis_port = started[1] if started else None
        try:
            measured = asyncio.run(_measure(redis_port, n, total, rounds))
            for store, figures in measured.items():
                lat, tput, note = figures["latency"], figures["throughput"], figures["note"]
                rows = [
                    row(f"toolwire task ({store})", [lat["task"]], ours=True),
                    row("box.call, no task (floor)", [lat["call"]]),
                ]
                peers: dict[str, float | None] = {}
                if store == "redis":
                    rows.append(
                        Row(name="arq (Redis)", median_us=lat.get("arq"), note=note)
                        if lat.get("arq") is None
                        else row("arq (Redis)", [lat["arq"]])
                    )
                    peers = {"arq": lat.get("arq")}
                print_table(f"start -> result, no-op tool, {store} store", rows, unit="µs/task")
                results.append(
                    result(
                        f"start -> result latency, no-op tool ({store})",
                        ours=lat["task"] / 1000,
                        unit="ms",
                        floor=lat["call"] / 1000,
                        ratio=lat["task"] / lat["call"],
                        peers={k: (v / 1000 if v else None) for k, v in peers.items()},
                        peer_notes={"arq": note} if store == "redis" else None,
                    )
                )
                print(
                    f"tasks/s at concurrency 32 ({store}): toolwire {tput['task']:.0f}"
                    + (f", arq {tput['arq']:.0f}" if tput.get("arq") else "")
                    + f"; box.call {tput['call']:.0f} calls/s"
                )
                results.append(
                    result(
                        f"tasks per second at concurrency 32 ({store})",
                        ours=tput["task"],
                        unit="tasks/s",
                        better="higher",
                        floor=tput["call"],
                        peers={"arq": tput.get("arq")} if store == "redis" else None,
                        peer_notes={"arq": note} if store == "redis" else None,
                    )
                )
            if redis_port is not None:
                leases = [1.0] if settings.quick else [1.0, 2.0]
                for lease in leases:
                    times = asyncio.run(
                        recovery(redis_port, lease, 1 if settings.quick else 3, folder)
                    )
                    median = statistics.median(times)
                    print(f"recovery after SIGKILL, lease {lease:g} s: {median:.2f} s ({times})")
                    extra[f"recovery_lease_{lease:g}"] = times
                    results.append(
                        result(
                            f"recovery after the running replica is SIGKILLed (lease {lease:g} s)",
                            ours=median,
                            unit="s",
                            target=f"<= lease + min(lease / 2, 5 s) = {lease * 1.5:g} s",
                            met=median <= lease * 1.5 + 0.5,
                            note="kill -> the task started again on the other replica",
                        )
                    )
        finally:
            if started:
                _stop(started[0])
    report(
        settings,
        payload(
            "bench_tasks", title="Durable tasks", settings=settings, results=results, extra=extra
        ),
    )


async def _measure(
    redis_port: int | None, n: int, total: int, rounds: int
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    stores = ["memory"] + (["redis"] if redis_port is not None else [])
    for store in stores:
        url = f"redis://127.0.0.1:{redis_port}/0" if store == "redis" else None
        box, close = await toolwire_box(url)
        peer, note, close_peer = (
            await arq_peer(redis_port) if store == "redis" and redis_port else (None, "", _nothing)
        )
        try:
            task, call = toolwire_runs(box)
            contenders: dict[str, Run] = {"task": task, "call": call}
            if peer is not None:
                contenders["arq"] = peer
            out[store] = {
                "latency": await latency_rounds(contenders, n, rounds),
                "throughput": await throughput_rounds(contenders, total, rounds),
                "note": note,
            }
        finally:
            await close_peer()
            await close()
    return out


if __name__ == "__main__":
    main()
