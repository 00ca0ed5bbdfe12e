"""``Scripted``: a model that returns the turns you give it. A test double, and public API."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import Parsed, ToolCall
from toolwire._spec import ToolSpec
from toolwire.models._base import Api, Message, Model, ModelError, ModelOptions, ModelTurn

__all__ = ["Scripted", "ScriptedRequest", "to_turn"]

TurnLike = (
    str
    | ToolCall
    | Parsed
    | ModelTurn
    | BaseException
    | tuple[str, Mapping[str, Any]]
    | Sequence[ToolCall | tuple[str, Mapping[str, Any]]]
)
ScriptFn = Callable[[Sequence[Message], Sequence[ToolSpec], ModelOptions], Any]


class Scripted(Model):
    """Returns the given turns in order, or asks a function for each turn.

    A turn may be a string (the final answer), a ``(tool name, arguments)`` pair or a list of
    them (calls), a :class:`~toolwire.ToolCall`, a :class:`~toolwire.Parsed`, a
    :class:`ModelTurn`, or an exception to raise. Every request is recorded in ``requests``.

    Example::

        model = Scripted([("get_weather", {"location": "北京"}), "北京 25°C"])
        result = await tw.Runner(model=model, tools=box).run("北京今天气温如何?")
        assert model.requests[1].messages[-1]["role"] == "tool"
    """

    name = "scripted"

    def __init__(
        self,
        turns: Sequence[TurnLike] | ScriptFn,
        *,
        api: Api = "tools",
        name: str = "scripted",
        repeat_last: bool = False,
    ) -> None:
        self.api = api
        self.name = name
        self._fn: ScriptFn | None = turns if callable(turns) else None
        self._turns: list[TurnLike] = [] if callable(turns) else list(turns)
        self._repeat_last = repeat_last
        self._next = 0
        self.requests: list[ScriptedRequest] = []

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        options: ModelOptions,
    ) -> ModelTurn:
        self.requests.append(ScriptedRequest(list(messages), list(tools), options))
        if self._fn is not None:
            item = self._fn(messages, tools, options)
            if inspect.isawaitable(item):
                item = await item
        else:
            if self._next >= len(self._turns):
                if not (self._repeat_last and self._turns):
                    raise ModelError("the scripted model has no turns left", model=self.name)
                item = self._turns[-1]
            else:
                item = self._turns[self._next]
                self._next += 1
        return to_turn(item, step=len(self.requests), model=self.name)


class ScriptedRequest:
    """What the runner sent in one request (for assertions in tests)."""

    __slots__ = ("messages", "options", "tools")

    def __init__(
        self, messages: list[Message], tools: list[ToolSpec], options: ModelOptions
    ) -> None:
        self.messages = messages
        self.tools = tools
        self.options = options


def to_turn(item: Any, *, step: int = 0, model: str = "scripted") -> ModelTurn:
    """Normalise any :data:`TurnLike` to a :class:`ModelTurn`."""
    if isinstance(item, BaseException):
        raise item
    if isinstance(item, ModelTurn):
        return item
    if isinstance(item, Awaitable):
        raise TypeError("await the turn before converting it")
    if isinstance(item, Parsed):
        parsed = item
    elif isinstance(item, str):
        parsed = Parsed(content=item)
    elif isinstance(item, ToolCall):
        parsed = Parsed(calls=(item,))
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        parsed = Parsed(calls=(_call(item, step, 0),))
    elif isinstance(item, Sequence):
        parsed = Parsed(calls=tuple(_call(c, step, i) for i, c in enumerate(item)))
    else:
        raise TypeError(f"cannot make a model turn from {type(item).__name__}")
    reason = "tool_calls" if parsed.calls else "stop"
    return ModelTurn(parsed=parsed, finish_reason=reason, model=model)


def _call(item: Any, step: int, index: int) -> ToolCall:
    if isinstance(item, ToolCall):
        return item
    name, arguments = item
    text = arguments if isinstance(arguments, str) else _json.dumps(arguments)
    return ToolCall(id=f"call_{step}_{index}", name=name, arguments=text)
