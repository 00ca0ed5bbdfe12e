"""OpenTelemetry spans for tool execution, per the GenAI semantic conventions.

A span named ``execute_tool {tool}`` with ``gen_ai.operation.name = "execute_tool"``. Nothing
is created when ``opentelemetry`` is not importable or no tracer provider is configured (the
API's default proxy), so untraced programs pay only one attribute check per call.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any


def _load() -> Any:
    try:  # optional: the otel extra
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return trace


_trace: Any = None


class TraceCheck:
    """Whether spans are recorded, looked up again at most once a second: looking up the
    global provider costs more than the rest of an untraced call's bookkeeping. A caller that
    has the time already compares it with ``ask_from`` and calls ``tracing_active`` only from
    then on: the next re-check while tracing is off, always while it is on (one comparison
    on every untraced call)."""

    __slots__ = ("active", "ask_from", "loaded", "recheck")

    def __init__(self) -> None:
        self.active = False
        self.loaded = False
        self.recheck = 0.0  # when the provider is looked up again
        self.ask_from = 0.0


TRACE = TraceCheck()


def tracing_active() -> bool:
    """True when spans would be recorded somewhere (re-checked at most once a second)."""
    global _trace
    now = time.monotonic()
    state = TRACE
    if not state.loaded:  # imported on first use: opentelemetry is slow to import
        state.loaded = True
        _trace = _load()
    if _trace is None:
        state.ask_from = float("inf")
        return False
    if now >= state.recheck:
        provider = _trace.get_tracer_provider()
        state.active = not isinstance(provider, _trace.ProxyTracerProvider)
        state.recheck = now + 1.0
        state.ask_from = 0.0 if state.active else state.recheck
    return state.active


def tool_span(tool: str, call_id: str, description: str = "") -> AbstractContextManager[Any]:
    """A context manager around one call's execution, yielding the span (or None)."""
    if not tracing_active():
        return nullcontext(None)
    tracer = _trace.get_tracer("toolwire")
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
    }
    if description:
        attributes["gen_ai.tool.description"] = description[:256]
    span: AbstractContextManager[Any] = tracer.start_as_current_span(
        f"execute_tool {tool}",
        kind=_trace.SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    return span


def finish_span(span: Any, *, ok: bool, kind: str | None, attempts: int, cached: bool) -> None:
    """Put the outcome on the span."""
    if span is None or _trace is None:
        return
    span.set_attribute("toolwire.attempts", attempts)
    span.set_attribute("toolwire.cached", cached)
    if not ok:
        span.set_attribute("error.type", kind or "execution_error")
        span.set_status(_trace.Status(_trace.StatusCode.ERROR, kind))
