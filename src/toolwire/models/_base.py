"""The contract every model client fulfils, and the message shapes the runner keeps.

A model takes the conversation (OpenAI-style chat messages, the lingua franca of the wire),
the specs of the tools it may call and a few options, and returns one :class:`ModelTurn`: the
parsed output (content + calls + calls that could not be parsed), token usage and the finish
reason. ``stream`` yields the same output as :mod:`toolwire._calls` events, then a
:class:`TurnDone` carrying the whole turn.

The model also owns how its turn and the tool results are written back into the history
(``assistant_message`` / ``result_messages``): the tools API answers with ``role: "tool"``
messages, the legacy functions API of the seed with ``role: "function"``, a text-format model
with text in its family's format. The runner only appends what the model gives it.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from toolwire import _json
from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallStarted,
    ContentDelta,
    Parsed,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
    ToolResult,
)
from toolwire._errors import ErrorKind, ToolwireError
from toolwire._spec import ToolSpec

Message = dict[str, Any]
ToolChoice = str  # "auto" | "required" | "none" | the name of one tool
Api = Literal["tools", "functions", "text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOptions:
    """Per-request options.

    ``tool_choice`` is ``"auto"``, ``"required"``, ``"none"`` or the name of one tool;
    ``parallel_tool_calls=False`` asks for at most one call per turn.
    """

    tool_choice: ToolChoice = "auto"
    parallel_tool_calls: bool = True
    stream: bool = False
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelTurn:
    """One answer of a model: what it said, the calls it made, usage and why it stopped."""

    parsed: Parsed
    usage: Mapping[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    model: str = ""
    raw_text: str | None = None  # the raw assistant text in text-format mode


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnDone:
    """The last event of :meth:`Model.stream`: the whole turn, assembled."""

    kind: Literal["turn_done"] = "turn_done"
    turn: ModelTurn


ModelEvent = StreamEvent | TurnDone


class ModelError(ToolwireError):
    """A model request failed for good (after the transport retries).

    ``status`` is the HTTP status when there was one; ``retryable`` says whether another
    model (a router's fallback) or a later attempt may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind = "remote_error",
        status: int | None = None,
        retryable: bool = False,
        model: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.model = model


class Model(abc.ABC):
    """A chat model that can call tools.

    Subclasses implement :meth:`complete`; :meth:`stream` defaults to replaying the complete
    turn as events. ``api`` decides how turns and results are written into the history.
    ``text_format`` (a :data:`toolwire.parsing.FORMATS` name or alias) is the format a text-mode
    model (``api == "text"``) writes its calls in and reads its history in; None means the
    generic ``<tool_call>`` / ``<tool_response>`` form. A :class:`~toolwire.Router` reads both
    to write a shared history for each model.
    """

    name: str = "model"
    api: Api = "tools"
    text_format: str | None = None

    @abc.abstractmethod
    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        options: ModelOptions,
    ) -> ModelTurn:
        """Send the conversation and the tools; return the model's turn."""

    async def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        options: ModelOptions,
    ) -> AsyncIterator[ModelEvent]:
        """Yield the turn as events as it is produced; the last event is a :class:`TurnDone`."""
        turn = await self.complete(messages, tools, options)
        for event in turn_events(turn.parsed):
            yield event
        yield TurnDone(turn=turn)

    # --- writing the history -----------------------------------------------------------

    def assistant_messages(self, turn: ModelTurn) -> list[Message]:
        """The assistant message(s) recording ``turn`` (its well-formed calls only)."""
        return assistant_messages(turn, self.api)

    def result_messages(
        self, turn: ModelTurn, results: Sequence[tuple[ToolCall, ToolResult]]
    ) -> list[Message]:
        """The messages that carry tool results back to the model."""
        return result_messages(results, self.api)

    def describe(self) -> str:
        return self.name


# --- the shapes of the history ----------------------------------------------------------


def call_to_wire(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def assistant_messages(turn: ModelTurn, api: Api) -> list[Message]:
    parsed = turn.parsed
    if api == "text":
        # The model's own words, calls included, exactly as it wrote them.
        text = turn.raw_text if turn.raw_text is not None else parsed.content
        return [{"role": "assistant", "content": text}]
    if api == "functions":
        # The legacy API carries one call per assistant message: several calls become
        # several assistant/function pairs (see ``result_messages``).
        if not parsed.calls:
            return [{"role": "assistant", "content": parsed.content}]
        return []
    msg: Message = {"role": "assistant", "content": parsed.content or None}
    if parsed.calls:
        msg["tool_calls"] = [call_to_wire(c) for c in parsed.calls]
    return [msg]


def result_messages(results: Sequence[tuple[ToolCall, ToolResult]], api: Api) -> list[Message]:
    if api == "functions":
        out: list[Message] = []
        for call, result in results:
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "function_call": {"name": call.name, "arguments": call.arguments},
                }
            )
            out.append({"role": "function", "name": call.name, "content": result.as_text()})
        return out
    if api == "text":
        body = "\n".join(
            _json.dumps({"name": call.name, "content": _result_value(result)})
            for call, result in results
        )
        return [{"role": "user", "content": f"<tool_response>\n{body}\n</tool_response>"}]
    return [
        {"role": "tool", "tool_call_id": call.id, "content": result.as_text()}
        for call, result in results
    ]


def _result_value(result: ToolResult) -> Any:
    if result.ok:
        return result.value
    assert result.error is not None
    return {"error": result.error.to_dict()}


def turn_events(parsed: Parsed) -> list[StreamEvent]:
    """The events a stream of ``parsed`` would have produced (for non-streaming models)."""
    events: list[StreamEvent] = []
    if parsed.reasoning:
        events.append(ReasoningDelta(text=parsed.reasoning))
    if parsed.content:
        events.append(ContentDelta(text=parsed.content))
    for index, call in enumerate(parsed.calls):
        events.append(CallStarted(index=index, id=call.id, name=call.name))
        events.append(ArgumentsDelta(index=index, text=call.arguments))
        events.append(CallFinished(index=index, call=call))
    events.extend(CallFailed(index=e.index, error=e) for e in parsed.errors)
    return events


def last_user_text(messages: Sequence[Message]) -> str:
    """The text of the last user message (content parts joined)."""
    for msg in reversed(messages):
        if msg.get("role") == "user":
            return content_text(msg.get("content"))
    return ""


def content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return str(content)
