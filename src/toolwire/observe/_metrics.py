"""Prometheus metrics when ``prometheus_client`` is importable; nothing otherwise.

Counting happens in plain dicts on the call path (well under a microsecond); a collector
registered in the default registry turns them into metric families only when ``/metrics`` is
scraped, so any exporter exposes them. :func:`metrics_text` renders the registry for the
serve helper.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from toolwire.observe._records import BreakerEvent, CallRecord

_BREAKER_STATES = ("closed", "open", "half_open", "forced_open", "disabled")
BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Call counts by tool and outcome, a latency histogram, retries, cache hits, breakers."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], int] = {}
        self.latency: dict[str, list[float]] = {}  # per bucket counts, then sum
        self.retries: dict[str, int] = {}
        self.cache_hits: dict[str, int] = {}
        self.breakers: dict[str, str] = {}

    def observe_call(self, rec: CallRecord) -> None:
        self.observe(rec.tool, rec.outcome, rec.latency_s, rec.attempts, rec.cached)

    def observe(
        self, tool: str, outcome: str, latency_s: float, attempts: int, cached: bool
    ) -> None:
        key = (tool, outcome)
        self.calls[key] = self.calls.get(key, 0) + 1
        hist = self.latency.get(tool)
        if hist is None:
            hist = self.latency[tool] = [0.0] * (len(BUCKETS) + 2)
        hist[bisect_left(BUCKETS, latency_s)] += 1
        hist[-1] += latency_s
        if attempts > 1:
            self.retries[tool] = self.retries.get(tool, 0) + attempts - 1
        if cached:
            self.cache_hits[tool] = self.cache_hits.get(tool, 0) + 1

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
        for (tool, outcome), n in sorted(self.calls.items()):
            calls.add_metric([tool, outcome], n)
        yield calls
        hist = HistogramMetricFamily(
            "toolwire_tool_call_seconds", "Tool call latency including retries and waits",
            labels=["tool"],
        )  # fmt: skip
        for tool, counts in sorted(self.latency.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*BUCKETS, float("inf")), counts[:-1], strict=True):
                cumulative += count
                buckets.append((repr(bound) if bound != float("inf") else "+Inf", cumulative))
            hist.add_metric([tool], buckets, counts[-1])
        yield hist
        retries = CounterMetricFamily("toolwire_tool_retries", "Extra attempts", labels=["tool"])
        for tool, n in sorted(self.retries.items()):
            retries.add_metric([tool], n)
        yield retries
        hits = CounterMetricFamily("toolwire_tool_cache_hits", "Cached results", labels=["tool"])
        for tool, n in sorted(self.cache_hits.items()):
            hits.add_metric([tool], n)
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
