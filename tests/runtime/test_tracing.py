"""OpenTelemetry spans per the GenAI conventions (in a subprocess: the provider is global)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("opentelemetry.trace")

SCRIPT = textwrap.dedent(
    """
    import asyncio, contextlib, json
    from opentelemetry import trace
    import toolwire as tw
    from toolwire.runtime import Executor

    spans = []

    class Span(trace.NonRecordingSpan):
        def __init__(self, name, attributes):
            super().__init__(trace.INVALID_SPAN_CONTEXT)
            self.record = {"name": name, "attributes": dict(attributes or {}), "status": None}
            spans.append(self.record)
        def is_recording(self):
            return True
        def set_attribute(self, key, value):
            self.record["attributes"][key] = value
        def set_status(self, status, description=None):
            self.record["status"] = status.status_code.name

    class Tracer(trace.Tracer):
        def start_span(self, name, context=None, kind=None, attributes=None, **kw):
            return Span(name, attributes)
        @contextlib.contextmanager
        def start_as_current_span(self, name, context=None, kind=None, attributes=None, **kw):
            span = self.start_span(name, attributes=attributes)
            with trace.use_span(span, end_on_exit=True):
                yield span

    class Provider(trace.TracerProvider):
        def get_tracer(self, *args, **kwargs):
            return Tracer()

    trace.set_tracer_provider(Provider())

    @tw.tool
    def ok() -> int:
        return 1

    @tw.tool
    def bad() -> int:
        raise ValueError("no")

    async def main():
        box = tw.Toolbox([ok, bad], runtime=Executor())
        await box.call("ok", call_id="c1")
        await box.call("bad", call_id="c2")

    asyncio.run(main())
    print(json.dumps(spans))
    """
)


def test_execute_tool_spans() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    spans = json.loads(out.stdout.strip().splitlines()[-1])
    assert [s["name"] for s in spans] == ["execute_tool ok", "execute_tool bad"]
    ok, bad = (s["attributes"] for s in spans)
    assert ok["gen_ai.operation.name"] == "execute_tool"
    assert (ok["gen_ai.tool.name"], ok["gen_ai.tool.call.id"]) == ("ok", "c1")
    assert ok["toolwire.attempts"] == 1
    assert "error.type" not in ok
    assert bad["error.type"] == "execution_error"
    assert spans[1]["status"] == "ERROR"
