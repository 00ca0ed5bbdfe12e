"""Shared helpers for the benchmarks: timing, medians, a side-by-side table, ``--json``.

Each benchmark measures callables (sync or async) in several repeats of N calls and reports
the median time per call. Peers are optional imports: a missing one becomes a skipped row
with a note. ``--json`` prints one JSON object as the last line of output.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Row", "Settings", "measure", "parse_args", "print_table", "report"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    quick: bool
    as_json: bool

    @property
    def repeats(self) -> int:
        return 3 if self.quick else 7


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One line of a comparison: a median in microseconds per call, or a skip note."""

    name: str
    median_us: float | None
    note: str = ""
    ours: bool = False
    runs_us: list[float] = field(default_factory=list)


def parse_args(description: str, argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    args = parser.parse_args(argv)
    return Settings(quick=args.quick, as_json=args.json)


def _calibrate(once: Callable[[int], float], budget_s: float) -> int:
    n = 1
    while True:
        elapsed = once(n)
        if elapsed >= budget_s / 10 or n >= 1_000_000:
            return max(1, int(n * (budget_s / max(elapsed, 1e-9))))
        n *= 10


def measure(
    fn: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    settings: Settings,
    budget_s: float | None = None,
) -> list[float]:
    """Microseconds per call of ``fn`` for each repeat (N calls per repeat, calibrated)."""
    budget = budget_s if budget_s is not None else (0.1 if settings.quick else 0.4)
    if inspect.iscoroutinefunction(fn):
        afn: Callable[[], Awaitable[Any]] = fn

        async def batch(n: int) -> float:
            start = time.perf_counter()
            for _ in range(n):
                await afn()
            return time.perf_counter() - start

        def once(n: int) -> float:
            return asyncio.run(batch(n))

        async def all_repeats(n: int) -> list[float]:
            await batch(max(1, n // 10))  # warm-up inside the same loop
            return [await batch(n) / n * 1e6 for _ in range(settings.repeats)]

        n = _calibrate(once, budget)
        gc.collect()
        return asyncio.run(all_repeats(n))

    sfn: Callable[[], Any] = fn  # type: ignore[assignment]

    def sync_batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            sfn()
        return time.perf_counter() - start

    n = _calibrate(sync_batch, budget)
    sync_batch(max(1, n // 10))
    gc.collect()
    return [sync_batch(n) / n * 1e6 for _ in range(settings.repeats)]


def row(name: str, runs: list[float], *, ours: bool = False, note: str = "") -> Row:
    return Row(name=name, median_us=statistics.median(runs), runs_us=runs, ours=ours, note=note)


def print_table(title: str, rows: list[Row], *, unit: str = "µs/call") -> None:
    """Print rows side by side; ratios are relative to the first row marked ``ours``."""
    base = next((r.median_us for r in rows if r.ours and r.median_us), None)
    width = max(len(r.name) for r in rows) + 2
    print(f"\n{title}")
    print(f"{'':{width}}{unit:>12}  {'vs ours':>9}  note")
    for r in rows:
        if r.median_us is None:
            print(f"{r.name:{width}}{'skipped':>12}  {'':>9}  {r.note}")
            continue
        ratio = f"{r.median_us / base:8.1f}x" if base else ""
        print(f"{r.name:{width}}{r.median_us:12.2f}  {ratio:>9}  {r.note}")


def report(settings: Settings, payload: dict[str, Any]) -> None:
    """Print the JSON object last when ``--json`` was given."""
    if settings.as_json:
        sys.stdout.flush()
        print(json.dumps(payload, ensure_ascii=False, default=_default))


def _default(obj: Any) -> Any:
    if isinstance(obj, Row):
        return asdict(obj)
    raise TypeError(type(obj).__name__)
