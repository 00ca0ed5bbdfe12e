"""Prometheus metrics, created once on first use when ``prometheus_client`` is importable.

They live in the default registry so any ``/metrics`` endpoint exposes them;
:func:`metrics_text` renders it for the serve helper. Without the package every function here
is a cheap no-op.
"""

from __future__ import annotations

from typing import Any

from toolwire.observe._records import BreakerEvent, CallRecord

_BREAKER_STATES = ("closed", "open", "half_open", "forced_open", "disabled")


class Metrics:
    """The metric objects plus caches of their labelled children (labels() is not free)."""

    def __init__(self, prom: Any) -> None:
        self.calls = prom.Counter(
            "toolwire_tool_calls", "Tool calls by outcome (ok or error kind)", ["tool", "outcome"]
        )
        self.latency = prom.Histogram(
            "toolwire_tool_call_seconds",
            "Tool call latency including retries and waits",
            ["tool"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.retries = prom.Counter("toolwire_tool_retries", "Extra attempts", ["tool"])
        self.cache_hits = prom.Counter("toolwire_tool_cache_hits", "Cached results", ["tool"])
        self.breaker = prom.Gauge(
            "toolwire_breaker_state", "1 for the breaker's current state", ["key", "state"]
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe_call(self, rec: CallRecord) -> None:
        pair = self._children.get((rec.tool, rec.outcome))
        if pair is None:
            pair = self._children[(rec.tool, rec.outcome)] = (
                self.calls.labels(rec.tool, rec.outcome),
                self.latency.labels(rec.tool),
            )
        pair[0].inc()
        pair[1].observe(rec.latency_s)
        if rec.attempts > 1:
            self.retries.labels(rec.tool).inc(rec.attempts - 1)
        if rec.cached:
            self.cache_hits.labels(rec.tool).inc()

    def observe_breaker(self, ev: BreakerEvent) -> None:
        for state in _BREAKER_STATES:
            self.breaker.labels(ev.key, state).set(1 if state == ev.new else 0)


_metrics: Metrics | None = None
_checked = False


def get_metrics() -> Metrics | None:
    """The process-wide metrics, or None when prometheus_client is not installed."""
    global _metrics, _checked
    if not _checked:
        _checked = True
        try:
            import prometheus_client
        except ImportError:
            return None
        _metrics = Metrics(prometheus_client)
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
