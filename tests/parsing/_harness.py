"""Shared checks for every format: run a text whole, char by char and in given splits."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
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
from toolwire.parsing import StreamParser, parse

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"


def load_vectors() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(DATA.glob("*.json")):
        fmt = path.stem
        for case in json.loads(path.read_text(encoding="utf-8")):
            out.append((fmt, case))
    return out


def stream(fmt: str, pieces: list[str], tools: Any = None) -> tuple[Parsed, list[Any]]:
    sp = StreamParser(fmt, tools)
    events: list[Any] = []
    for p in pieces:
        events += sp.feed(p)
    events += sp.close()
    return sp.result(), events


def split_at(text: str, cuts: list[int]) -> list[str]:
    cuts = sorted({c for c in cuts if 0 < c < len(text)})
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def check_events(result: Parsed, events: list[Any]) -> None:
    """The event stream agrees with the result, and every call's deltas add up to it."""
    started: dict[int, CallStarted] = {}
    deltas: dict[int, list[str]] = {}
    finished: list[Any] = []
    content, reasoning, failed = [], [], []
    for ev in events:
        if isinstance(ev, CallStarted):
            assert ev.index not in started, f"CallStarted twice for {ev.index}"
            started[ev.index] = ev
        elif isinstance(ev, ArgumentsDelta):
            assert ev.index in started, "ArgumentsDelta before CallStarted"
            assert ev.index not in {f.index for f in finished}, "delta after CallFinished"
            deltas.setdefault(ev.index, []).append(ev.text)
        elif isinstance(ev, CallFinished):
            assert ev.index in started
            assert started[ev.index].name == ev.call.name and started[ev.index].id == ev.call.id
            assert "".join(deltas.get(ev.index, [])) == ev.call.arguments
            finished.append(ev)
        elif isinstance(ev, ContentDelta):
            content.append(ev.text)
        elif isinstance(ev, ReasoningDelta):
            reasoning.append(ev.text)
        elif isinstance(ev, CallFailed):
            failed.append(ev.error)
    assert tuple(f.call for f in finished) == result.calls
    assert tuple(failed) == result.errors
    assert "".join(content) == result.content
    assert "".join(reasoning) == result.reasoning
    for call in result.calls:
        json.loads(call.arguments)  # always valid JSON
        outside = _STRINGS.sub("", call.arguments)
        assert not any(ch in outside for ch in " \n\r\t"), call.arguments  # compact


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def check_expected(result: Parsed, case: dict[str, Any]) -> None:
    if "content" in case:
        assert result.content == case["content"]
    if "reasoning" in case:
        assert result.reasoning == case["reasoning"]
    got = [{"name": c.name, "arguments": json.loads(c.arguments)} for c in result.calls]
    assert got == [{"name": c["name"], "arguments": c["arguments"]} for c in case["calls"]]
    for c, want in zip(result.calls, case["calls"], strict=True):
        if "repaired" in want:
            assert c.repaired == want["repaired"], c
        if "id" in want:
            assert c.id == want["id"]
        if "unknown_tool" in want:
            assert c.unknown_tool == want["unknown_tool"]
    assert len(result.errors) == case.get("errors", 0), result.errors


def run_all_ways(fmt: str, text: str, tools: Any = None) -> Parsed:
    whole = parse(text, fmt, tools)
    for pieces in ([text], list(text)):
        res, events = stream(fmt, pieces, tools)
        assert res == whole, (pieces[:3], res, whole)
        check_events(res, events)
    return whole
