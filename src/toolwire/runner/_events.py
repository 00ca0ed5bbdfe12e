"""Events the runner adds to the model's stream events, and the records of a run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from toolwire._calls import CallParseError, Event, ToolCall, ToolResult

if TYPE_CHECKING:
    from toolwire.runner._runner import RunResult

StopReason = Literal[
    "final_answer",
    "max_steps",
    "approval_required",
    "repair_budget_exhausted",
    "model_error",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStarted:
    kind: Literal["step_started"] = "step_started"
    step: int
    model: str
    tools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQuarantined:
    """A call that could not be parsed: kept out of the history and reported to the model."""

    kind: Literal["call_quarantined"] = "call_quarantined"
    step: int
    error: CallParseError


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequired:
    """The run paused: these calls wait for a person's decision (see ``Runner.resume``)."""

    kind: Literal["approval_required"] = "approval_required"
    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished:
    kind: Literal["run_finished"] = "run_finished"
    result: RunResult


RunEvent = Event | StepStarted | CallQuarantined | ApprovalRequired | RunFinished


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One model turn and the calls it led to, with timings (seconds)."""

    index: int
    model: str
    content: str
    calls: tuple[ToolCall, ...] = ()
    results: tuple[ToolResult, ...] = ()
    quarantined: tuple[CallParseError, ...] = ()
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    model_s: float = 0.0
    tools_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "model": self.model,
            "content": self.content,
            "calls": [call_to_dict(c) for c in self.calls],
            "results": [r.to_dict() for r in self.results],
            "quarantined": [
                {"message": e.message, "raw": e.raw, "name": e.name, "index": e.index}
                for e in self.quarantined
            ],
            "finish_reason": self.finish_reason,
            "usage": dict(self.usage),
            "model_s": self.model_s,
            "tools_s": self.tools_s,
        }


def call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "repaired": call.repaired,
        "unknown_tool": call.unknown_tool,
    }
