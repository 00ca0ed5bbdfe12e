"""What every stream assembler and text-format parser promises about its events.

One checker for the dialect tests, the parsing tests and the reliability fuzz suites, so the
invariant is written once and every suite holds every part of it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallStarted,
    ContentDelta,
    Parsed,
    ReasoningDelta,
)

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def check_stream(
    events: list[Any],
    parsed: Parsed,
    *,
    exact_deltas: bool = False,
    objects: bool = False,
    compact: bool = False,
) -> None:
    """The events agree with the result, whatever the input was.

    Always: a call starts once, its argument deltas come between its start and its end, it
    ends exactly once (finished or failed: never lost), a finished call keeps its started
    name and id, the deltas of an unrepaired call add up to its arguments, and the content,
    reasoning, calls (in index order) and errors equal the result's. Finished arguments are
    JSON. ``exact_deltas``: deltas add up to the arguments even for repaired calls (the text
    formats repair while streaming). ``objects``: arguments are JSON objects (the native
    dialects promise it; text formats pass other values on for validation to reject).
    ``compact``: no whitespace outside strings.
    """
    started: dict[int, CallStarted] = {}
    ended: set[int] = set()
    deltas: dict[int, list[str]] = {}
    finished: dict[int, CallFinished] = {}
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
            deltas.setdefault(ev.index, []).append(ev.text)
        elif isinstance(ev, CallFinished):
            assert ev.index in started, "CallFinished without CallStarted"
            assert ev.index not in ended, f"call {ev.index} ended twice"
            ended.add(ev.index)
            call = ev.call
            assert (call.name, call.id) == (started[ev.index].name, started[ev.index].id)
            if exact_deltas or not call.repaired:
                assert "".join(deltas.get(ev.index, [])) == call.arguments
            finished[ev.index] = ev
        elif isinstance(ev, CallFailed):
            if ev.index is not None and ev.index in started:
                assert ev.index not in ended, f"call {ev.index} ended twice"
                ended.add(ev.index)
            failed.append(ev)
        elif isinstance(ev, ContentDelta):
            content.append(ev.text)
        elif isinstance(ev, ReasoningDelta):
            reasoning.append(ev.text)
    lost = sorted(set(started) - ended)
    assert not lost, f"calls started but never finished or failed: {lost}"
    assert tuple(finished[i].call for i in sorted(finished)) == parsed.calls
    assert tuple(f.error for f in failed) == parsed.errors
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
        if compact:
            outside = _STRINGS.sub("", call.arguments)
            assert not any(ch in outside for ch in " \n\r\t"), call.arguments[:200]
