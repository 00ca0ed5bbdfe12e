"""Helpers shared by the reliability suites: the quick/full switch and the event invariants.

Named ``_rel`` (not ``conftest``) so that importing it never picks up another folder's
conftest module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallStarted,
    ContentDelta,
    Parsed,
    ReasoningDelta,
)

FULL_EXAMPLES = 10_000
_state = {"full": False}
F = TypeVar("F", bound=Callable[..., Any])


def set_full(value: bool) -> None:
    _state["full"] = value


def full() -> bool:
    return _state["full"]


def examples(quick: int) -> int:
    """Hypothesis example count: ``quick`` in CI, at least 10,000 under ``--full``."""
    return max(FULL_EXAMPLES, quick) if full() else quick


def pick(quick: int, full_value: int) -> int:
    return full_value if full() else quick


def full_only(fn: F) -> F:
    """Skip unless ``--full`` (the long suites run by hand)."""
    marked: F = pytest.mark.skipif(not full(), reason="long suite: run with --full")(fn)
    return marked


def check_stream(events: list[Any], parsed: Parsed, *, objects: bool = True) -> None:
    """What every assembler and parser promises, however broken its input was.

    Every started call ends exactly once (finished or failed: a call is never lost in
    between), the events add up to the result, and every finished call carries valid JSON
    (an object when ``objects``: the native dialects promise that; the text formats pass a
    model's non-object arguments through for validation to reject with a clear error).
    """
    started: dict[int, CallStarted] = {}
    ended: dict[int, str] = {}
    args: dict[int, list[str]] = {}
    finished: list[CallFinished] = []
    failed: list[CallFailed] = []
    content: list[str] = []
    reasoning: list[str] = []
    for ev in events:
        if isinstance(ev, CallStarted):
            assert ev.index not in started, f"CallStarted twice for {ev.index}"
            started[ev.index] = ev
        elif isinstance(ev, ArgumentsDelta):
            assert ev.index in started, "arguments before CallStarted"
            assert ev.index not in ended, "arguments after the call ended"
            args.setdefault(ev.index, []).append(ev.text)
        elif isinstance(ev, CallFinished):
            assert ev.index in started, "CallFinished without CallStarted"
            assert ev.index not in ended, f"call {ev.index} ended twice"
            ended[ev.index] = "finished"
            assert ev.call.name == started[ev.index].name
            assert ev.call.id == started[ev.index].id
            finished.append(ev)
        elif isinstance(ev, CallFailed):
            if ev.index is not None and ev.index in started:
                assert ev.index not in ended, f"call {ev.index} ended twice"
                ended[ev.index] = "failed"
            failed.append(ev)
        elif isinstance(ev, ContentDelta):
            content.append(ev.text)
        elif isinstance(ev, ReasoningDelta):
            reasoning.append(ev.text)
    lost = sorted(set(started) - set(ended))
    assert not lost, f"calls started but never finished or failed: {lost}"
    assert sorted(c.id for c in parsed.calls) == sorted(f.call.id for f in finished)
    assert len(parsed.calls) == len(finished)
    assert len(parsed.errors) == len(failed)
    assert "".join(content) == parsed.content
    assert "".join(reasoning) == parsed.reasoning
    for call in parsed.calls:
        try:
            value = json.loads(call.arguments)
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON: {call.arguments[:200]}") from None
        except (RecursionError, ValueError):
            # deeper, or with longer integers, than the stdlib parser takes: check the shape
            value = {} if call.arguments.startswith("{") else None
        assert isinstance(value, dict) or not objects, call.arguments[:200]
