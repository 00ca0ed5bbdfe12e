"""Prometheus metrics when ``prometheus_client`` is importable; nothing otherwise.

Counting happens in a per-tool handle on the call path (a few attribute updates); a collector
registered in the default registry turns them into metric families only when ``/metrics`` is
scraped, so any exporter exposes them. :func:`metrics_text` renders the registry for the
serve helper.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

from toolwire.observe._records import BreakerEvent, CallRecord

_BREAKER_STATES = ("closed", "open", "half_open", "forced_open", "disabled")
BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# Every name a caller sends that is no tool is counted under this one label: one series per
# name would let any caller grow the metrics without bound.
UNKNOWN_TOOL = "__unknown__"
# Latencies are kept as they come and put into buckets in batches of this many (and at
# scrape time): a batch is sorted once and cut at each bucket bound, a few times cheaper per
# call than finding each latency's bucket as the call ends.
BIN_EVERY = 256
# Held while a batch moves from the list into the histogram (every BIN_EVERY calls, and at a
# scrape, which prometheus_client's own exporter makes from another thread): one lock for all
# tools, as binning is rare and 10,000 tools should not carry a lock each.
_BINNING = threading.Lock()


class ToolMetrics:
    """One tool's figures: calls by outcome, latency histogram, retries, cache hits.

    The executor keeps a handle per tool (``Metrics.for_tool``), so recording a call is a
    few attribute updates with no lookups by name.
    """

    __slots__ = ("binned", "cache_hits", "errors", "failed", "hist", "latencies", "retries")

    def __init__(self) -> None:
        self.binned = 0  # ok calls whose latency is in the histogram already
        self.errors: dict[str, int] = {}
        self.hist = [0.0] * (len(BUCKETS) + 2)  # per-bucket counts (+Inf last), then the sum
        self.retries = 0
        self.cache_hits = 0
        self.latencies: list[float] = []  # of ok calls, not binned yet
        self.failed: list[float] = []  # of failed calls, not binned yet

    def record(self, kind: str | None, latency_s: float, attempts: int, cached: bool) -> None:
        """One finished call; ``kind`` is its error kind (None: ok)."""
        if kind is None:
            pending = self.latencies
            pending.append(latency_s)
            if len(pending) >= BIN_EVERY:
                self.bin()
        else:
            self.failed_call(kind, latency_s)
        if attempts > 1:
            self.retries += attempts - 1
        if cached:
            self.cache_hits += 1

    def failed_call(self, kind: str, latency_s: float) -> None:
        """A call that ended with an error of ``kind`` (the latency part of :meth:`record`)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        failed = self.failed
        failed.append(latency_s)
        if len(failed) >= BIN_EVERY:
            self.bin()

    @property
    def ok(self) -> int:
        """Calls that ended without an error: those binned plus those waiting to be (one
        append per call, so the count only grows, whichever thread reads it)."""
        with _BINNING:  # not while a batch moves from the list into ``binned``
            return self.binned + len(self.latencies)

    def bin(self) -> None:
        """Put the latencies kept so far into the histogram."""
        with _BINNING:
            pending, self.latencies = self.latencies, []
            self.binned += len(pending)
            failed, self.failed = self.failed, []
        pending += failed
        pending.sort()
        hist = self.hist
        below = 0  # latencies at or under the previous bound
        for i, bound in enumerate(BUCKETS):
            upto = bisect_right(pending, bound, below)
            hist[i] += upto - below
            below = upto
        hist[len(BUCKETS)] += len(pending) - below
        hist[-1] += sum(pending)

    def outcomes(self) -> dict[str, int]:
        out = {"ok": self.ok} if self.ok else {}
        out.update(self.errors)
        return out


class Metrics:
    """Call counts by tool and outcome, a latency histogram, retries, cache hits, breakers."""

    def __init__(self) -> None:
        self.tools: dict[str, ToolMetrics] = {}
        self.breakers: dict[str, str] = {}

    def for_tool(self, tool: str) -> ToolMetrics:
        """The handle that records ``tool``'s calls (made on first use)."""
        handle = self.tools.get(tool)
        if handle is None:
            handle = self.tools[tool] = ToolMetrics()
        return handle

    def observe_call(self, rec: CallRecord) -> None:
        self.observe(rec.tool, rec.outcome, rec.latency_s, rec.attempts, rec.cached)

    def observe(
        self, tool: str, outcome: str, latency_s: float, attempts: int, cached: bool
    ) -> None:
        kind = None if outcome == "ok" else outcome
        self.for_tool(tool).record(kind, latency_s, attempts, cached)

    def observe_breaker(self, ev: BreakerEvent) -> None:
        self.breakers[ev.key] = ev.new

    def collect(self) -> Iterator[Any]:
        """Called by prometheus_client at scrape time."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        calls = CounterMetricFamily(
            "toolwire_tool_calls",
            "Tool calls by outcome (ok or error kind)",
            labels=["tool", "outcome"],
        )
        hist = HistogramMetricFamily(
            "toolwire_tool_call_seconds", "Tool call latency including retries and waits",
            labels=["tool"],
        )  # fmt: skip
        retries = CounterMetricFamily("toolwire_tool_retries", "Extra attempts", labels=["tool"])
        hits = CounterMetricFamily("toolwire_tool_cache_hits", "Cached results", labels=["tool"])
        for tool, m in sorted(self.tools.items()):
            for outcome, n in sorted(m.outcomes().items()):
                calls.add_metric([tool, outcome], n)
            m.bin()
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*BUCKETS, float("inf")), m.hist[:-1], strict=True):
                cumulative += count
                buckets.append((repr(bound) if bound != float("inf") else "+Inf", cumulative))
            hist.add_metric([tool], buckets, m.hist[-1])
            if m.retries:
                retries.add_metric([tool], m.retries)
            if m.cache_hits:
                hits.add_metric([tool], m.cache_hits)
        yield calls
        yield hist
        yield retries
        yield hits
        states = GaugeMetricFamily(
            "toolwire_breaker_state", "1 for the breaker's current state", labels=["key", "state"]
        )
        for key, current in sorted(self.breakers.items()):
            for state in _BREAKER_STATES:
                states.add_metric([key, state], 1 if state == current else 0)
        yield states


_metrics: Metrics | None = None
_checked = False


def get_metrics() -> Metrics | None:
    """The process-wide metrics, or None when prometheus_client is not installed."""
    global _metrics, _checked
    if not _checked:
        _checked = True
        try:
            from prometheus_client import REGISTRY
        except ImportError:
            return None
        _metrics = Metrics()
        REGISTRY.register(_metrics)
    return _metrics


def metrics_text() -> tuple[bytes, str]:
    """The Prometheus exposition of the default registry and its content type.

    Example::

        body, content_type = metrics_text()
    """
    try:
        import prometheus_client
    except ImportError:
        return b"", "text/plain; version=0.0.4; charset=utf-8"
    get_metrics()
    return prometheus_client.generate_latest(), prometheus_client.CONTENT_TYPE_LATEST
