"""Shared checks for every format: run a text whole, char by char and in given splits."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from stream_invariants import check_stream

from toolwire._calls import (
    Parsed,
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
    """The shared stream invariants, as strict as the text formats promise: the deltas add up
    to the arguments even for calls repaired while streaming, and arguments are compact."""
    check_stream(events, result, exact_deltas=True, compact=True)


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
