"""The shared data model: calls, results, errors, context, JSON and policy objects."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import date
from decimal import Decimal

import pytest

import toolwire as tw
from toolwire import _json


def test_dumps_keeps_chinese_as_text_and_big_ints_exact() -> None:
    text = _json.dumps({"城市": "北京", "n": 2**70})
    assert "\\u" not in text
    assert "北京" in text
    assert _json.loads(text)["n"] == 2**70


def test_dumps_canonical_sorts_keys_and_handles_extra_types() -> None:
    value = {"b": {3, 1}, "a": Decimal("1.5"), "d": date(2026, 1, 2)}
    assert _json.dumps(value, canonical=True).startswith('{"a":"1.5","b":')
    assert _json.dumps(value, canonical=True) == _json.dumps(
        dict(reversed(value.items())), canonical=True
    )


def test_dumps_survives_lone_surrogates_from_undecodable_bytes() -> None:
    echoed = b"\xff\xfe{".decode("utf-8", "surrogateescape")
    text = _json.dumps({"got": echoed, "城市": "北京", "lone": "\ud800"})
    assert _json.loads(text) == {"got": "\\xff\\xfe{", "城市": "北京", "lone": "\\ud800"}
    error = tw.ToolError(kind="invalid_arguments", message=echoed)
    result = tw.ToolResult(call_id="1", name="f", ok=False, error=error)
    assert _json.loads(result.as_text())["error"]["message"] == "\\xff\\xfe{"


def test_dumps_rejects_unserializable() -> None:
    with pytest.raises(TypeError, match="object"):
        _json.dumps(object())


def test_loads_raises_value_error_on_malformed() -> None:
    with pytest.raises(ValueError):
        _json.loads("{")


def test_tool_call_parses_arguments_on_demand() -> None:
    call = tw.ToolCall(id="c1", name="get_weather", arguments='{"location": "北京"}')
    assert call.parsed_arguments() == {"location": "北京"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.name = "x"  # type: ignore[misc]


def test_result_as_text_for_success_and_error() -> None:
    ok = tw.ToolResult(call_id="1", name="f", ok=True, value={"temp": 25})
    assert ok.as_text() == '{"temp":25}'
    assert tw.ToolResult(call_id="1", name="f", ok=True, value="plain").as_text() == "plain"
    err = tw.ToolResult(
        call_id="2",
        name="f",
        ok=False,
        error=tw.ToolError(kind="timeout", message="took too long", retry_after=1.5),
    )
    assert _json.loads(err.as_text()) == {
        "error": {"kind": "timeout", "message": "took too long", "retry_after": 1.5}
    }
    assert err.to_dict()["error"]["kind"] == "timeout"


def test_invalid_arguments_lists_every_problem_for_the_model() -> None:
    problems = [
        tw.ArgumentProblem(path="$.location", message="is required", expected="string"),
        tw.ArgumentProblem(path="$.days", message="must be an integer", got='"two"'),
    ]
    exc = tw.InvalidArguments("get_weather", problems)
    assert "$.location" in exc.message and "$.days" in exc.message
    error = exc.to_error()
    assert error.kind == "invalid_arguments"
    assert len(error.details["problems"]) == 2
    assert tw.InvalidArguments("f", problems, too_large=True).to_error().kind == "too_large"


def test_unknown_tool_suggests_names() -> None:
    exc = tw.UnknownTool("get_wether", ["get_weather"])
    assert "get_weather" in str(exc)
    assert exc.to_error().details["suggestions"] == ["get_weather"]
    assert isinstance(exc, LookupError)


def test_tool_failure_carries_its_kind() -> None:
    error = tw.ToolFailure("remote_error", "upstream 503", details={"status": 503}).to_error()
    assert (error.kind, error.details["status"]) == ("remote_error", 503)


def test_error_kinds_are_the_designed_set() -> None:
    assert set(tw.ERROR_KINDS) == {
        "invalid_arguments", "unknown_tool", "timeout", "circuit_open", "rate_limited",
        "execution_error", "cancelled", "unauthorized", "forbidden", "too_large",
        "remote_error", "approval_required", "unavailable",
    }  # fmt: skip


def test_missing_extra_names_the_install_command() -> None:
    exc = tw.MissingExtra("redis", "redis")
    assert 'pip install "toolwire[redis]"' in str(exc)
    assert isinstance(exc, ImportError)


def test_context_deadline_and_cancellation() -> None:
    ctx = tw.Context(call_id="c", tool_name="t", deadline=time.monotonic() + 10)
    left = ctx.time_left()
    assert left is not None and 0 < left <= 10
    assert tw.Context(call_id="c", tool_name="t").time_left() is None
    assert not ctx.cancelled
    ctx.cancel_event.set()
    assert ctx.cancelled
    assert "secret" not in repr(tw.Caller(id="u", credentials="secret"))


@pytest.mark.anyio
async def test_context_progress_accepts_sync_and_async_callbacks() -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def async_cb(p: float, t: float | None, m: str | None) -> None:
        seen.append((p, t, m))

    await tw.Context(call_id="c", tool_name="t", progress=async_cb).report_progress(1, 2, "half")
    await tw.Context(call_id="c", tool_name="t", progress=lambda p, t, m: None).report_progress(1)
    await tw.Context(call_id="c", tool_name="t").report_progress(1)
    assert seen == [(1, 2, "half")]


def test_policy_parts_validate_and_merge() -> None:
    with pytest.raises(TypeError):
        tw.Retry()  # type: ignore[call-arg]  # retry_on has no default, by design
    with pytest.raises(ValueError):
        tw.Retry(retry_on=(TimeoutError,), attempts=0)
    with pytest.raises(ValueError):
        tw.Breaker(failure_rate=0)
    base = tw.Policy(timeout=1.0, cache=tw.Cache(ttl=5))
    merged = base.merged(tw.Policy(timeout=2.0, concurrency=4, fail_open=False))
    assert (merged.timeout, merged.cache, merged.concurrency, merged.fail_open) == (
        2.0, tw.Cache(ttl=5), 4, False,
    )  # fmt: skip
    assert base.merged(None) is base


def test_context_cancel_event_is_per_instance() -> None:
    a = tw.Context(call_id="a", tool_name="t")
    b = tw.Context(call_id="b", tool_name="t")
    assert isinstance(a.cancel_event, threading.Event)
    assert a.cancel_event is not b.cancel_event
