"""The executor's fast constructors build exactly what the dataclasses' __init__ builds."""

from __future__ import annotations

import dataclasses

import pytest

import toolwire as tw
from toolwire._calls import ToolCall, ToolResult, new_call, new_result
from toolwire._context import Caller, Context
from toolwire._errors import ToolError


def test_new_result_equals_the_dataclass() -> None:
    err = ToolError(kind="timeout", message="slow")
    for ok, value, error in ((True, {"城市": "北京"}, None), (False, None, err)):
        fast = new_result("c1", "get_weather", ok, value, error, 2, True, 0.25)
        slow = ToolResult(
            call_id="c1",
            name="get_weather",
            ok=ok,
            value=value,
            error=error,
            attempts=2,
            cached=True,
            elapsed_s=0.25,
        )
        assert type(fast) is ToolResult
        assert fast == slow and repr(fast) == repr(slow) and hash(fast.call_id) == hash("c1")
        assert dataclasses.asdict(fast) == dataclasses.asdict(slow)


def test_new_call_equals_the_dataclass() -> None:
    fast = new_call("c1", "get_weather", '{"location": "北京"}')
    assert fast == ToolCall(id="c1", name="get_weather", arguments='{"location": "北京"}')
    assert fast.repaired is False and fast.unknown_tool is False


def test_the_fast_constructors_cover_every_field() -> None:
    # A new field on either dataclass must be added to its fast constructor too.
    assert [f.name for f in dataclasses.fields(ToolResult)] == [
        "call_id", "name", "ok", "value", "error", "attempts", "cached", "elapsed_s",
    ]  # fmt: skip
    assert [f.name for f in dataclasses.fields(ToolCall)] == [
        "id", "name", "arguments", "repaired", "unknown_tool",
    ]  # fmt: skip


def test_fast_results_stay_frozen() -> None:
    fast = new_result("c1", "t", True, 1, None, 1, False, 0.0)
    try:
        fast.ok = False  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a fast-built ToolResult must stay frozen")


def test_context_for_call_equals_the_dataclass() -> None:
    caller = Caller(id="alice", scopes=frozenset({"weather"}))
    progress = print
    fast = Context._for_call("c1", "get_weather", caller, 12.5, 2, "key-1", progress)
    slow = Context(
        call_id="c1",
        tool_name="get_weather",
        caller=caller,
        deadline=12.5,
        attempt=2,
        idempotency_key="key-1",
        progress=progress,
    )
    assert type(fast) is Context
    assert fast == slow and repr(fast) == repr(slow)
    for f in dataclasses.fields(Context):  # every slot is filled (no AttributeError)
        assert getattr(fast, f.name) == getattr(slow, f.name)
    assert dict(fast.metadata) == {} and not fast.cancelled
    fast.cancel_event.set()
    assert fast.cancelled and not slow.cancelled  # each context has its own event
    try:
        fast.attempt = 3  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a fast-built Context must stay frozen")
    # A new field on Context must be added to Context._for_call too.
    assert [f.name for f in dataclasses.fields(Context)] == [
        "call_id", "tool_name", "caller", "deadline", "attempt", "idempotency_key",
        "metadata", "progress", "_cancel",
    ]  # fmt: skip


@pytest.mark.anyio
async def test_the_bare_call_path_returns_a_real_frozen_tool_result() -> None:
    # the executor builds the result of a policy-free call inline (runtime._executor): it must
    # be the dataclass itself, frozen, equal to one built the ordinary way

    @tw.tool
    async def echo(text: str) -> str:
        return text

    @tw.tool
    async def boom() -> str:
        raise ValueError("no")

    box = tw.Toolbox([echo, boom])
    ok = await box.call("echo", '{"text": "北京"}', call_id="c1")
    failed = await box.call("boom", "{}", call_id="c2")
    for result in (ok, failed):
        assert type(result) is ToolResult
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.ok = not result.ok  # type: ignore[misc]
        assert dataclasses.replace(result) == result
        assert result == ToolResult(
            **{f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
        )
    assert ok.ok and ok.value == "北京" and ok.attempts == 1 and not ok.cached
    assert not failed.ok and failed.error is not None and failed.value is None
