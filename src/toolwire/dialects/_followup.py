"""Pairing results with the calls they answer, shared by the follow-up builders."""

from __future__ import annotations

from collections.abc import Sequence

from toolwire._calls import Parsed, ToolCall, ToolResult


def split_calls(calls: Sequence[ToolCall] | Parsed) -> tuple[Sequence[ToolCall], Parsed | None]:
    if isinstance(calls, Parsed):
        return calls.calls, calls
    return calls, None


def match_results(calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[ToolResult]:
    """The results in call order; every call needs exactly one (providers reject gaps)."""
    by_id: dict[str, ToolResult] = {}
    for result in results:
        if result.call_id in by_id:
            raise ValueError(f"two results for call {result.call_id!r}")
        by_id[result.call_id] = result
    missing = [call.id for call in calls if call.id not in by_id]
    if missing:
        raise ValueError(f"no result for call(s) {', '.join(map(repr, missing))}")
    extra = set(by_id) - {call.id for call in calls}
    if extra:
        raise ValueError(f"results for unknown call(s) {', '.join(map(repr, sorted(extra)))}")
    return [by_id[call.id] for call in calls]
