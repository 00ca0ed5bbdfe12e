"""``NativeClient``: what Anthropic, Gemini and OpenAIResponses do alike around their SDKs.

A subclass maps the request (``_map_request``), sends it (``_send`` for a whole response as a
dict, ``_open`` for a stream of event dicts) and names its dialect's parser and assembler from
:mod:`toolwire.dialects`; this class retries, assembles, maps usage and finish reasons through
the subclass's ``_process_turn``, quarantines the calls of a stream that broke, and writes the
turn into the history with the items its API needs echoed (:mod:`toolwire.models._native`).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any, ClassVar, Self

from toolwire import _json
from toolwire._calls import CallFailed, CallParseError, Parsed, ToolCall
from toolwire._spec import ToolSpec
from toolwire.dialects._stream import Assembler
from toolwire.models._base import (
    Message,
    Model,
    ModelError,
    ModelEvent,
    ModelOptions,
    ModelTurn,
    TurnDone,
)
from toolwire.models._native import with_echo
from toolwire.models._transport import ErrorTable, RetryPolicy, send, translate

EventStream = AsyncGenerator[dict[str, Any], None]


class NativeClient(Model):
    """The shared skeleton of the native clients (see the module docstring)."""

    #: the API tag of the items echoed in the history (see ``_native.ECHO_KEY``)
    echo_api: ClassVar[str]

    def __init__(
        self, *, model: str, name: str | None, policy: RetryPolicy, errors: ErrorTable, client: Any
    ) -> None:
        self.model = model
        self.name = name or model
        self.policy = policy
        self._errors = errors  # the SDK's error table (see toolwire.models._transport)
        self._client = client

    async def aclose(self) -> None:
        """Close the HTTP connections (the model is unusable afterwards)."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- what a subclass provides ------------------------------------------------------

    @abc.abstractmethod
    def _map_request(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        """Ours -> the SDK call's keyword arguments."""

    @abc.abstractmethod
    async def _send(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """One request for a whole response, as the wire's JSON object."""

    @abc.abstractmethod
    async def _open(self, kwargs: dict[str, Any]) -> EventStream:
        """Open a stream; raise (inside the retry loop) when its first event is an error."""

    @abc.abstractmethod
    def _parse(self, data: dict[str, Any]) -> Parsed:
        """A whole response -> Parsed, with the dialect's parser."""

    @abc.abstractmethod
    def _assembler(self) -> Assembler:
        """A fresh stream assembler of the dialect."""

    @abc.abstractmethod
    def _process_turn(self, parsed: Parsed) -> ModelTurn:
        """Parsed -> our turn: usage in our names, the finish reason mapped."""

    @abc.abstractmethod
    def _echo_items(self, parsed: Parsed) -> list[dict[str, Any]] | None:
        """The wire items to echo for this turn (None: rebuild it from the calls)."""

    def _broken(self, parsed: Parsed) -> str | None:
        """Why an assembled stream cannot be trusted although no exception was raised."""
        error = parsed.metadata.get("error")
        if error:
            return f"the stream reported an error: {error}"
        if parsed.metadata.get("truncated") or not parsed.metadata.get("finish_reason"):
            return "the stream ended before the response was complete"
        return None

    # --- the Model contract ------------------------------------------------------------

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> ModelTurn:
        kwargs = self._map_request(messages, tools, options)
        data = await send(
            lambda: self._send(kwargs), table=self._errors, policy=self.policy, model=self.name
        )
        return self._process_turn(self._parse(data))

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> AsyncIterator[ModelEvent]:
        kwargs = self._map_request(messages, tools, options)
        events = await send(
            lambda: self._open(kwargs), table=self._errors, policy=self.policy, model=self.name
        )
        assembler = self._assembler()
        cut: str | None = None
        try:
            async for item in events:
                for event in assembler.feed(item):
                    yield event
        except Exception as exc:
            if translate(self._errors, exc) is None:
                raise
            cut = f"the stream broke: {type(exc).__name__}: {exc}"
        finally:
            await events.aclose()
        for event in assembler.close():
            yield event
        parsed = assembler.result()
        turn = self._process_turn(parsed)
        cut = cut or self._broken(parsed)
        if cut is not None:
            turn = cut_turn(turn, cut)
        # What the end of the turn decided (a cut, a call the provider reports as malformed).
        for failure in turn.parsed.errors[len(parsed.errors) :]:
            yield CallFailed(index=failure.index, error=failure)
        yield TurnDone(turn=turn)

    def assistant_messages(self, turn: ModelTurn) -> list[Message]:
        items = self._echo_items(turn.parsed)
        return with_echo(turn, self.echo_api, items)


def build_client(make: Callable[[], Any], *, model: str, api_key: str | None, keys: str) -> Any:
    """The SDK client, or a :class:`ModelError` saying why it cannot be built (each SDK
    refuses a missing key its own way, at a different time: one error for all of them)."""
    try:
        return make()
    except Exception as exc:
        hint = f"; pass api_key= or set {keys}" if api_key is None else ""
        raise ModelError(
            f"the model {model!r} cannot be set up: {exc}{hint}",
            kind="unauthorized" if api_key is None else "invalid_arguments",
            model=model,
        ) from exc


async def opened(
    events: EventStream, check: Callable[[dict[str, Any]], None] | None = None
) -> EventStream:
    """Start ``events`` now, inside the retry loop: the request and its first event, so that
    a refusal (an error status, an error event that opens the stream, checked by ``check``)
    is retried like any other; the stream given back yields that first event again."""
    try:
        first = await anext(events, None)
        if first is not None and check is not None:
            check(first)
    except BaseException:
        await events.aclose()
        raise
    return _resumed(first, events)


async def _resumed(first: dict[str, Any] | None, events: EventStream) -> EventStream:
    try:
        if first is not None:
            yield first
        async for event in events:
            yield event
    finally:
        await events.aclose()


async def sse_data(lines: AsyncIterator[str]) -> EventStream:
    """The JSON objects of an SSE stream's ``data:`` fields, one per event (lines as the
    transport splits them; an event ends at a blank line). Data that is no JSON object (a
    ``[DONE]`` marker, a broken frame) is passed over: the assembler then sees the stream end
    early and says so."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:
            event = _object("\n".join(data))
            data = []
            if event is not None:
                yield event
    event = _object("\n".join(data)) if data else None
    if event is not None:
        yield event


def _object(text: str) -> dict[str, Any] | None:
    try:
        value = _json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def cut_turn(turn: ModelTurn, reason: str) -> ModelTurn:
    """After a broken stream no call can be trusted to be whole: quarantine them all."""
    parsed = turn.parsed
    from_calls = tuple(_cut_error(call, index, reason) for index, call in enumerate(parsed.calls))
    cut = Parsed(
        content=parsed.content,
        calls=(),
        errors=(*parsed.errors, *from_calls),
        reasoning=parsed.reasoning,
        metadata={**parsed.metadata, "truncated": True},
    )
    return ModelTurn(
        parsed=cut,
        usage=turn.usage,
        finish_reason="error",
        model=turn.model,
        raw_text=turn.raw_text,
    )


def _cut_error(call: ToolCall, index: int, reason: str) -> CallParseError:
    return CallParseError(message=reason, raw=call.arguments, name=call.name, index=index)


def same_calls(parsed: Parsed, wire_ids: Sequence[str | None]) -> bool:
    """Whether the calls on the wire are exactly the turn's calls (then echoing is safe:
    every echoed call gets its result; a quarantined one would be left unanswered)."""
    return list(wire_ids) == [c.id for c in parsed.calls]
