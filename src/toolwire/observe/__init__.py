"""Observability: call records for subscribers, OpenTelemetry spans, Prometheus metrics."""

from toolwire.observe._metrics import (
    UNKNOWN_TOOL,
    Metrics,
    ToolMetrics,
    get_metrics,
    metrics_text,
)
from toolwire.observe._records import BreakerEvent, CallRecord, Observers, Record, Subscriber
from toolwire.observe._tracing import tool_span, tracing_active

__all__ = [
    "UNKNOWN_TOOL",
    "BreakerEvent",
    "CallRecord",
    "Metrics",
    "Observers",
    "Record",
    "Subscriber",
    "ToolMetrics",
    "get_metrics",
    "metrics_text",
    "tool_span",
    "tracing_active",
]
