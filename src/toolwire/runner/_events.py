"""Events the runner adds to the model's stream events, and the records of a run (``Step``,
``RunResult``): below ``_runner``, above ``_state``, so the runner's modules import in one
direction only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from toolwire._calls import CallParseError, Event, ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.models._base import Message
from toolwire.runner._state import RunState, call_to_dict

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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """What a run produced.

    ``final_text`` is the model's last answer ("" when the run stopped without one);
    ``stop_reason`` says why it ended; ``state`` is set when the run can be continued with
    :meth:`Runner.resume` (paused for approval, or stopped on a model error).
    """

    final_text: str
    stop_reason: StopReason
    messages: tuple[Message, ...]
    steps: tuple[Step, ...] = ()
    usage: dict[str, int] = field(default_factory=dict)
    state: RunState | None = None
    error: ToolError | None = None

    @property
    def ok(self) -> bool:
        return self.stop_reason == "final_answer"

    @property
    def calls(self) -> list[ToolCall]:
        return [c for s in self.steps for c in s.calls]

    @property
    def results(self) -> list[ToolResult]:
        return [r for s in self.steps for r in s.results]

    @property
    def pending(self) -> tuple[ToolCall, ...]:
        return self.state.pending if self.state is not None else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "final_text": self.final_text,
            "stop_reason": self.stop_reason,
            "messages": list(self.messages),
            "steps": [s.to_dict() for s in self.steps],
            "usage": dict(self.usage),
            "state": self.state.to_dict() if self.state is not None else None,
            "error": self.error.to_dict() if self.error is not None else None,
        }
