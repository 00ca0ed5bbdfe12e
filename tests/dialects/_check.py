"""Invariants every stream assembler's events must satisfy (shared by the dialect tests)."""

from __future__ import annotations

from collections.abc import Iterable
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


def run(assembler: Any, chunks: Iterable[Any]) -> tuple[list[Any], Parsed]:
    events: list[Any] = []
    for chunk in chunks:
        events.extend(assembler.feed(chunk))
    events.extend(assembler.close())
    parsed = assembler.result()
    check_events(events, parsed)
    return events, parsed


def check_events(events: list[Any], parsed: Parsed) -> None:
    started: dict[int, CallStarted] = {}
    args: dict[int, list[str]] = {}
    finished: dict[int, CallFinished] = {}
    content: list[str] = []
    reasoning: list[str] = []
    for event in events:
        if isinstance(event, CallStarted):
            assert event.index not in started, f"CallStarted twice for {event.index}"
            started[event.index] = event
        elif isinstance(event, ArgumentsDelta):
            assert event.index in started, "arguments before CallStarted"
            assert event.index not in finished, "arguments after CallFinished"
            args.setdefault(event.index, []).append(event.text)
        elif isinstance(event, CallFinished):
            assert event.index in started
            assert event.index not in finished
            finished[event.index] = event
            call = event.call
            assert call.id == started[event.index].id
            assert call.name == started[event.index].name
            if not call.repaired:
                assert "".join(args.get(event.index, [])) == call.arguments
        elif isinstance(event, CallFailed):
            assert event.index is None or event.index not in finished
        elif isinstance(event, ContentDelta):
            content.append(event.text)
        elif isinstance(event, ReasoningDelta):
            reasoning.append(event.text)
    assert "".join(content) == parsed.content
    assert "".join(reasoning) == parsed.reasoning
    assert tuple(finished[i].call for i in sorted(finished)) == parsed.calls
    assert len([e for e in events if isinstance(e, CallFailed)]) == len(parsed.errors)
