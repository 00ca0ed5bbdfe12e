"""Calls, results and the events emitted while a model's output streams in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from toolwire import _json
from toolwire._errors import ToolError


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """One call a model asked for.

    ``arguments`` is the JSON text exactly as the model produced it (or as repaired, then
    ``repaired`` is True); :meth:`parsed_arguments` parses it on demand. ``unknown_tool`` is set
    by parsers given a tool list when the name is not in it: the call is flagged, never dropped.
    """

    id: str
    name: str
    arguments: str = "{}"
    repaired: bool = False
    unknown_tool: bool = False

    def parsed_arguments(self) -> Any:
        """The arguments as Python data (raises ``ValueError`` on malformed JSON)."""
        return _json.loads(self.arguments)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    """The outcome of one call: exactly one per call, in call order, always."""

    call_id: str
    name: str
    ok: bool
    value: Any = None
    error: ToolError | None = None
    attempts: int = 1
    cached: bool = False
    elapsed_s: float = 0.0

    def as_text(self) -> str:
        """The text to send back to a model: the value as JSON, or the error's message."""
        if self.ok:
            if isinstance(self.value, str):
                return self.value
            return _json.dumps(self.value)
        assert self.error is not None
        return _json.dumps({"error": self.error.to_dict()})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "call_id": self.call_id,
            "name": self.name,
            "ok": self.ok,
            "attempts": self.attempts,
            "cached": self.cached,
            "elapsed_s": self.elapsed_s,
        }
        if self.ok:
            out["value"] = self.value
        else:
            assert self.error is not None
            out["error"] = self.error.to_dict()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CallParseError:
    """A call the model tried to make but that could not be parsed, kept with its raw text."""

    kind: Literal["call_parse_error"] = "call_parse_error"
    message: str
    raw: str
    name: str | None = None
    index: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """A model's output split into content, calls and the calls that could not be parsed."""

    content: str = ""
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[CallParseError, ...] = ()
    reasoning: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


# --- streaming events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentDelta:
    kind: Literal["content_delta"] = "content_delta"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDelta:
    kind: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted:
    kind: Literal["call_started"] = "call_started"
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgumentsDelta:
    kind: Literal["arguments_delta"] = "arguments_delta"
    index: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFinished:
    kind: Literal["call_finished"] = "call_finished"
    index: int
    call: ToolCall


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFailed:
    """A call whose text could not be parsed (or repaired); nothing is silently dropped."""

    kind: Literal["call_failed"] = "call_failed"
    index: int | None
    error: CallParseError


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResultEvent:
    kind: Literal["tool_result"] = "tool_result"
    result: ToolResult


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFinished:
    kind: Literal["step_finished"] = "step_finished"
    step: int
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)


StreamEvent = (
    ContentDelta | ReasoningDelta | CallStarted | ArgumentsDelta | CallFinished | CallFailed
)
Event = StreamEvent | ToolResultEvent | StepFinished
