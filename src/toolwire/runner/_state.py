"""The state of a paused or stopped run, as plain JSON.

A run that waits for approval (or stopped on a model error) returns a :class:`RunState`; it
holds everything needed to continue — the history, the step counter, the repair budget spent,
the calls of the paused step with the results already in — so it can be stored anywhere
(a database row, a queue message) and resumed in another process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from toolwire import _json
from toolwire._calls import CallParseError, ToolCall, ToolResult
from toolwire._errors import ERROR_KINDS, ErrorKind, ToolError
from toolwire.models._base import Message

STATE_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    """Where a run stands. ``pending`` lists the calls waiting for a decision.

    Example::

        result = await runner.run("delete the old invoices")
        if result.stop_reason == "approval_required":
            saved = result.state.to_json()
            ...
            result = await runner.resume(RunState.from_json(saved), approve=[call_id])
    """

    messages: tuple[Message, ...]
    steps: int = 0
    repairs_used: int = 0
    usage: Mapping[str, int] = field(default_factory=dict)
    step_calls: tuple[ToolCall, ...] = ()  # every call of the paused step, in order
    done: tuple[ToolResult, ...] = ()  # results of that step already in
    pending: tuple[ToolCall, ...] = ()  # calls waiting for approval
    # calls of the paused step that could not be parsed: the model is told about them (and
    # that they did not run) when the step's results are written, after the decision
    quarantined: tuple[CallParseError, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "messages": list(self.messages),
            "steps": self.steps,
            "repairs_used": self.repairs_used,
            "usage": dict(self.usage),
            "step_calls": [call_to_dict(c) for c in self.step_calls],
            "done": [r.to_dict() for r in self.done],
            "pending": [call_to_dict(c) for c in self.pending],
            "quarantined": [
                {"message": q.message, "raw": q.raw, "name": q.name, "index": q.index}
                for q in self.quarantined
            ],
        }

    def to_json(self) -> str:
        return _json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported run state version: {data.get('version')!r}")
        return cls(
            messages=tuple(dict(m) for m in data["messages"]),
            steps=int(data.get("steps", 0)),
            repairs_used=int(data.get("repairs_used", 0)),
            usage={str(k): int(v) for k, v in dict(data.get("usage") or {}).items()},
            step_calls=tuple(_call(c) for c in data.get("step_calls") or ()),
            done=tuple(_result(r) for r in data.get("done") or ()),
            pending=tuple(_call(c) for c in data.get("pending") or ()),
            quarantined=tuple(_quarantined(q) for q in data.get("quarantined") or ()),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> RunState:
        data = _json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a run state is a JSON object")
        return cls.from_dict(data)


def coerce_state(state: RunState | Mapping[str, Any] | str | bytes) -> RunState:
    if isinstance(state, RunState):
        return state
    if isinstance(state, (str, bytes)):
        return RunState.from_json(state)
    return RunState.from_dict(state)


def _quarantined(data: Mapping[str, Any]) -> CallParseError:
    name, index = data.get("name"), data.get("index")
    return CallParseError(
        message=str(data.get("message", "")),
        raw=str(data.get("raw", "")),
        name=None if name is None else str(name),
        index=None if index is None else int(index),
    )


def _call(data: Mapping[str, Any]) -> ToolCall:
    return ToolCall(
        id=str(data["id"]),
        name=str(data["name"]),
        arguments=str(data.get("arguments", "{}")),
        repaired=bool(data.get("repaired", False)),
        unknown_tool=bool(data.get("unknown_tool", False)),
    )


def _result(data: Mapping[str, Any]) -> ToolResult:
    error = None
    if not data.get("ok"):
        raw = dict(data.get("error") or {})
        kind = raw.get("kind", "execution_error")
        error = ToolError(
            kind=cast(ErrorKind, kind if kind in ERROR_KINDS else "execution_error"),
            message=str(raw.get("message", "")),
            details=dict(raw.get("details") or {}),
            retry_after=raw.get("retry_after"),
        )
    return ToolResult(
        call_id=str(data["call_id"]),
        name=str(data["name"]),
        ok=bool(data.get("ok")),
        value=data.get("value"),
        error=error,
        attempts=int(data.get("attempts", 1)),
        cached=bool(data.get("cached", False)),
        elapsed_s=float(data.get("elapsed_s", 0.0)),
    )


def merge_usage(total: Mapping[str, int], extra: Mapping[str, int]) -> dict[str, int]:
    out = dict(total)
    for key, value in extra.items():
        if isinstance(value, int):
            out[key] = out.get(key, 0) + value
    return out


def in_order(calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[ToolResult]:
    by_id = {r.call_id: r for r in results}
    return [by_id[c.id] for c in calls if c.id in by_id]


def call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "repaired": call.repaired,
        "unknown_tool": call.unknown_tool,
    }
