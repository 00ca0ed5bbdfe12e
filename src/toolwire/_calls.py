"""Calls, results and the events emitted while a model's output streams in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from toolwire import _json
from toolwire._errors import ToolError
from toolwire._fast import builder


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """One call a model asked for.

    ``arguments`` is valid JSON text; :meth:`parsed_arguments` parses it on demand. What the
    text is depends on where the call came from:

    - native dialects (``toolwire.dialects``): an arguments *string* from the server (OpenAI
      Chat Completions, Responses) is kept exactly as sent, whitespace included; an empty or
      blank one gets ``{}`` appended. Arguments sent as an *object* (Anthropic ``input``,
      Gemini ``args``) are serialised as compact JSON, key order kept.
    - open-model text formats (``toolwire.parsing``): compact canonical JSON, built while the
      text streams — the model's JSON without insignificant whitespace or comments, strings
      re-encoded (escapes decoded, then only ``"``, ``\\`` and control characters escaped),
      numbers and key order as written; values of text-valued formats encoded the same way.

    Malformed arguments that were repaired (``repaired`` is True) are the compact JSON of the
    repaired value. ``unknown_tool`` is set by parsers given a tool list when the name is not in
    it: the call is flagged, never dropped.
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


# The runtime builds one ToolResult per call (and Toolbox.call one ToolCall): see _fast for why
# these are not the dataclasses' own __init__. Same fields, same objects; a test keeps them in
# step with the dataclasses.
_build_call = builder(ToolCall)
new_result = builder(ToolResult)
"""``ToolResult(...)`` with every field given positionally, faster (the executor's hot path):
``new_result(call_id, name, ok, value, error, attempts, cached, elapsed_s)``."""


def new_call(id: str, name: str, arguments: str) -> ToolCall:
    """``ToolCall(id=id, name=name, arguments=arguments)``, faster."""
    return _build_call(id, name, arguments, False, False)


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
