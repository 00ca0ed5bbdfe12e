"""Invariants every stream assembler's events must satisfy (shared by the dialect tests)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stream_invariants import check_stream

from toolwire._calls import Parsed


def run(assembler: Any, chunks: Iterable[Any]) -> tuple[list[Any], Parsed]:
    events: list[Any] = []
    for chunk in chunks:
        events.extend(assembler.feed(chunk))
    events.extend(assembler.close())
    parsed = assembler.result()
    check_stream(events, parsed, objects=True)
    return events, parsed
