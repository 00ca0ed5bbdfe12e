"""Recent calls and per-tool figures for the dashboard (this process only)."""

from __future__ import annotations

import math
import os
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from toolwire._calls import ToolResult
from toolwire._context import Caller

_SAMPLES = 512  # latencies kept per tool for the percentiles
_RECENT = 200  # calls kept for the live table


@dataclass(slots=True)
class ToolFigures:
    calls: int = 0
    errors: int = 0
    cached: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES))
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "calls": self.calls,
            "errors": self.errors,
            "error_rate": self.errors / self.calls if self.calls else 0.0,
            "cache_hit_ratio": self.cached / self.calls if self.calls else 0.0,
            "p50_ms": _pct(ordered, 0.50) * 1000,
            "p99_ms": _pct(ordered, 0.99) * 1000,
            "errors_by_kind": dict(self.errors_by_kind),
            "recent_ms": [round(v * 1000, 3) for v in list(self.latencies)[-60:]],
        }


def _pct(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class CallStats:
    """Keeps the last calls and per-tool counters; cheap enough for every call."""

    def __init__(self) -> None:
        # Recent calls are kept as tuples and turned into dicts only when the dashboard asks.
        self.recent: deque[tuple[Any, ...]] = deque(maxlen=_RECENT)
        self.tools: dict[str, ToolFigures] = {}
        self.started = time.time()
        self.total = 0
        self._metrics = _metrics()

    def record(
        self,
        *,
        transport: str,
        caller: Caller | None,
        result: ToolResult,
        latency_s: float,
        tool: str | None = None,
    ) -> None:
        """Count one call under ``tool`` (default: the result's name). The service passes one
        label for every name that is no tool, so clients cannot add series or rows; callers
        appear only in the bounded table of recent calls, never in a series."""
        self.total += 1
        name = tool if tool is not None else result.name
        figures = self.tools.get(name)
        if figures is None:
            figures = self.tools[name] = ToolFigures()
        figures.calls += 1
        figures.latencies.append(latency_s)
        outcome = "ok"
        if result.cached:
            figures.cached += 1
        if not result.ok:
            figures.errors += 1
            outcome = result.error.kind if result.error else "error"
            figures.errors_by_kind[outcome] = figures.errors_by_kind.get(outcome, 0) + 1
        self.recent.append(
            (
                time.time(),
                self.total,
                transport,
                caller.id if caller else None,
                name,
                result.call_id,
                outcome,
                latency_s,
                result.cached,
                result.attempts,
            )
        )
        metrics = self._metrics
        if metrics is not None:
            key = (transport, name, outcome)
            metrics.calls[key] = metrics.calls.get(key, 0) + 1
            hist = metrics.latency.get(transport)
            if hist is None:
                hist = metrics.latency[transport] = [0.0] * (len(BUCKETS) + 2)
            hist[bisect_left(BUCKETS, latency_s)] += 1
            hist[-1] += latency_s

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        return {
            "pid": os.getpid(),  # figures are per process: tells --workers processes apart
            "total": self.total,
            "uptime_s": round(time.time() - self.started, 1),
            "recent": [_recent_dict(r) for r in self.recent if r[1] > since],
            "tools": {name: f.summary() for name, f in sorted(self.tools.items())},
        }


def _recent_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    ts, seq, transport, caller, tool, call_id, outcome, latency_s, cached, attempts = row
    return {
        "ts": ts,
        "seq": seq,
        "transport": transport,
        "caller": caller,
        "tool": tool,
        "call_id": call_id,
        "outcome": outcome,
        "latency_ms": round(latency_s * 1000, 3),
        "cached": cached,
        "attempts": attempts,
    }


BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class ServeMetrics:
    """Transport-level Prometheus metrics of this process.

    Counted in plain dicts on the call path (a Counter plus a Histogram cost ~2.4 us per call,
    two locks included); turned into metric families only when ``/metrics`` is scraped.
    """

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str], int] = {}
        self.latency: dict[str, list[float]] = {}  # per-bucket counts, then the sum

    def collect(self) -> Iterator[Any]:
        """Called by prometheus_client at scrape time."""
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        calls = CounterMetricFamily(
            "toolwire_serve_calls",
            "Tool calls answered by toolwire serve",
            labels=["transport", "tool", "outcome"],
        )
        for key, n in sorted(self.calls.items()):
            calls.add_metric(list(key), n)
        yield calls
        hist = HistogramMetricFamily(
            "toolwire_serve_call_seconds",
            "End-to-end latency of calls answered by toolwire serve",
            labels=["transport"],
        )
        for transport, counts in sorted(self.latency.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*BUCKETS, math.inf), counts[:-1], strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == math.inf else repr(bound), cumulative))
            hist.add_metric([transport], buckets, counts[-1])
        yield hist


_METRICS: ServeMetrics | None = None
_CHECKED = False


def _metrics() -> ServeMetrics | None:
    """The process's serve metrics, registered once (None without prometheus_client)."""
    global _METRICS, _CHECKED
    if not _CHECKED:
        _CHECKED = True
        try:
            from prometheus_client import REGISTRY
        except ImportError:  # pragma: no cover - part of the serve extra
            return None
        _METRICS = ServeMetrics()
        REGISTRY.register(_METRICS)
    return _METRICS
