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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Row",
    "Settings",
    "curve",
    "divide",
    "measure",
    "parse_args",
    "payload",
    "peer_values",
    "print_table",
    "report",
    "result",
    "row",
]


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


# ----------------------------------------------------------------------------- the JSON schema
# benchmarks/README.md describes the object every benchmark prints last; these build its parts
# so that every benchmark spells the fields the same way.


def divide(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is zero (a peer that did not run)."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def result(
    name: str,
    *,
    ours: float | None,
    unit: str,
    better: str = "lower",
    floor: float | None = None,
    ratio: float | None = None,
    peers: dict[str, float | None] | None = None,
    peer_notes: dict[str, str] | None = None,
    target: str | None = None,
    met: bool | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One ``results`` row. ``met`` is None when this run does not judge a target."""
    out: dict[str, Any] = {
        "name": name,
        "unit": unit,
        "better": better,
        "ours": ours,
        "floor": floor,
        "ratio": ratio,
        "peers": peers or {},
        "target": target,
        "met": met,
    }
    notes = {k: v for k, v in (peer_notes or {}).items() if v}
    if notes:
        out["peer_notes"] = notes
    if note:
        out["note"] = note
    return out


def peer_values(
    rows: list[Row], *, scale: float = 1.0
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Peers' medians (times ``scale``, e.g. 1e-3 for µs -> ms) and the notes of skipped ones."""
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for r in rows:
        values[r.name] = None if r.median_us is None else r.median_us * scale
        if r.note:
            notes[r.name] = r.note
    return values, notes


def curve(
    *,
    title: str,
    x: Sequence[float],
    x_label: str,
    y_label: str,
    series: dict[str, list[float | None]],
    log_x: bool = False,
    log_y: bool = False,
    reference: Sequence[str] = (),
    target: tuple[float, str] | None = None,
) -> dict[str, Any]:
    """One scaling curve: ``series`` maps a label to one y per x (None for a missing point).

    ``reference`` names the series that are a floor (drawn black and dotted); ``target`` is
    a ``(y, label)`` drawn as a horizontal line.
    """
    extra: dict[str, Any] = {}
    if reference:
        extra["reference"] = list(reference)
    if target is not None:
        extra["target"] = {"y": target[0], "label": target[1]}
    return {
        "title": title,
        "x": list(x),
        "x_label": x_label,
        "y_label": y_label,
        "series": series,
        "log_x": log_x,
        "log_y": log_y,
        **extra,
    }


def payload(
    benchmark: str,
    *,
    title: str,
    settings: Settings,
    results: list[dict[str, Any]],
    curves: dict[str, dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole object a benchmark prints last under ``--json``."""
    out: dict[str, Any] = {
        "benchmark": benchmark,
        "title": title,
        "quick": settings.quick,
        "results": results,
        "curves": curves or {},
    }
    if extra:
        out["extra"] = extra
    return out


def report(settings: Settings, payload: dict[str, Any]) -> None:
    """Print the JSON object last when ``--json`` was given."""
    if settings.as_json:
        sys.stdout.flush()
        print(json.dumps(payload, ensure_ascii=False, default=_default))


def _default(obj: Any) -> Any:
    if isinstance(obj, Row):
        return asdict(obj)
    raise TypeError(type(obj).__name__)
