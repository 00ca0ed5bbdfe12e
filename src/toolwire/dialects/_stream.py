"""State shared by the stream assemblers of every native dialect.

A :class:`Collector` owns the content, reasoning and call buffers of one streamed response and
emits the events. Text is appended to lists and joined once at the end, so the work per chunk
stays proportional to the chunk, never to what came before it. :class:`Assembler` is the
``feed``/``close``/``result`` skeleton every dialect's assembler shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallParseError,
    CallStarted,
    ContentDelta,
    Parsed,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
)
from toolwire.dialects._args import Finished, finish_arguments, synthetic_id
from toolwire.parsing._events import arguments_delta

Events = list[StreamEvent]

_STRUCT = re.compile(r'[{}\[\]"]')
_IN_STRING = re.compile(r'["\\]')


class Balance:
    """An incremental bracket counter: does the JSON text seen so far close its first value?

    Only consulted when a server's deltas are ambiguous (a repeated name, a fresh id); it scans
    each character once, resuming where it stopped.
    """

    __slots__ = ("depth", "escape", "in_string", "opened")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.opened = False

    def feed(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            if self.escape:
                self.escape = False
                i += 1
                continue
            if self.in_string:
                m = _IN_STRING.search(text, i)
                if m is None:
                    return
                if m.group() == "\\":
                    self.escape = True
                else:
                    self.in_string = False
                i = m.end()
                continue
            m = _STRUCT.search(text, i)
            if m is None:
                return
            ch = m.group()
            if ch == '"':
                self.in_string = True
            elif ch in "{[":
                self.depth += 1
                self.opened = True
            else:
                self.depth -= 1
            i = m.end()

    @property
    def complete(self) -> bool:
        return self.opened and self.depth <= 0 and not self.in_string


class CallBuffer:
    """One call being assembled: identity, name and its argument pieces."""

    __slots__ = ("_balance", "_scanned", "done", "id", "index", "name", "parts", "started")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.name: str | None = None
        self.parts: list[str] = []
        self.started = False
        self.done = False
        self._balance: Balance | None = None
        self._scanned = 0

    def looks_complete(self) -> bool:
        if self._balance is None:
            self._balance = Balance()
        for part in self.parts[self._scanned :]:
            self._balance.feed(part)
        self._scanned = len(self.parts)
        return self._balance.complete


class Collector:
    """Accumulates one streamed response and emits the events for it."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.buffers: list[CallBuffer] = []
        self.calls: dict[int, ToolCall] = {}
        self.errors: list[CallParseError] = []
        self.metadata: dict[str, Any] = {}
        self.closed = False

    # --- text ---------------------------------------------------------------------------

    def add_content(self, text: Any, out: Events) -> None:
        if isinstance(text, str) and text:
            self.content.append(text)
            out.append(ContentDelta(text=text))

    def add_reasoning(self, text: Any, out: Events) -> None:
        if isinstance(text, str) and text:
            self.reasoning.append(text)
            out.append(ReasoningDelta(text=text))

    def note_ignored(self) -> None:
        self.metadata["ignored_chunks"] = self.metadata.get("ignored_chunks", 0) + 1

    # --- calls --------------------------------------------------------------------------

    def new_call(self) -> CallBuffer:
        buf = CallBuffer(len(self.buffers))
        self.buffers.append(buf)
        return buf

    def identify(self, buf: CallBuffer, *, id: str | None, name: str | None, out: Events) -> None:
        """Record what a delta says about a call; start it once its name is known."""
        if buf.done:
            return
        if id and buf.id is None and not buf.started:
            buf.id = id
        if name and buf.name is None:
            buf.name = name
        if buf.name is not None and not buf.started:
            buf.started = True
            if buf.id is None:
                buf.id = synthetic_id(buf.index)
            out.append(CallStarted(index=buf.index, id=buf.id, name=buf.name))
            held = "".join(buf.parts)
            if held:
                out.append(ArgumentsDelta(index=buf.index, text=held))

    def add_arguments(self, buf: CallBuffer, text: Any, out: Events) -> None:
        if buf.done or not isinstance(text, str) or not text:
            return
        buf.parts.append(text)
        if buf.started:
            out.append(arguments_delta(buf.index, text))

    def finish(self, buf: CallBuffer, out: Events, *, cut: str | None = None) -> None:
        """Finish a call; ``cut`` names why its text may be incomplete (then no repair)."""
        if buf.done:
            return
        buf.done = True
        raw = "".join(buf.parts)
        if buf.name is None:
            error = CallParseError(
                message="a tool call arrived without a function name", raw=raw, index=buf.index
            )
            self._fail(buf, error, out)
            return
        outcome = finish_arguments(raw, name=buf.name, index=buf.index, allow_repair=cut is None)
        if isinstance(outcome, CallParseError):
            if cut is not None:
                outcome = CallParseError(
                    message=f"{outcome.message} ({cut})",
                    raw=raw,
                    name=buf.name,
                    index=buf.index,
                )
            self._fail(buf, outcome, out)
            return
        self._complete(buf, outcome, out)

    def _complete(self, buf: CallBuffer, outcome: Finished, out: Events) -> None:
        assert buf.name is not None and buf.id is not None
        if outcome.appended:
            out.append(ArgumentsDelta(index=buf.index, text=outcome.appended))
        call = ToolCall(
            id=buf.id, name=buf.name, arguments=outcome.arguments, repaired=outcome.repaired
        )
        self.calls[buf.index] = call
        out.append(CallFinished(index=buf.index, call=call))

    def _fail(self, buf: CallBuffer, error: CallParseError, out: Events) -> None:
        self.errors.append(error)
        out.append(CallFailed(index=buf.index, error=error))

    def finish_all(self, out: Events, *, cut: str | None = None) -> None:
        for buf in self.buffers:
            self.finish(buf, out, cut=cut)

    def whole_call(
        self, *, id: str | None, name: str | None, arguments: str, out: Events
    ) -> CallBuffer:
        """A call that arrives complete in one piece (Gemini parts, late ``done`` items)."""
        buf = self.new_call()
        self.identify(buf, id=id, name=name, out=out)
        self.add_arguments(buf, arguments, out)
        self.finish(buf, out)
        return buf

    def error(self, message: str, raw: Any, out: Events) -> None:
        text = raw if isinstance(raw, str) else repr(raw)
        error = CallParseError(message=message, raw=text)
        self.errors.append(error)
        out.append(CallFailed(index=None, error=error))

    # --- result -------------------------------------------------------------------------

    def parsed(self, extra: Mapping[str, Any] | None = None) -> Parsed:
        metadata = dict(self.metadata)
        if extra:
            metadata.update(extra)
        calls = [self.calls[i] for i in sorted(self.calls)]
        return joined(self.content, self.reasoning, calls, self.errors, metadata)


class Assembler:
    """The skeleton of a stream assembler: subclasses implement ``_process`` (one fed item)
    and, when the end of the stream settles something, ``_settle`` and ``_extra``.

    The guards live here once: ``feed`` never raises (an item that breaks ``_process`` becomes
    an error entry holding it) and nothing is accepted after ``close``.
    """

    #: what a fed item is called, in the error for one that cannot be read
    _unit = "chunk"

    def __init__(self) -> None:
        self._c = Collector()

    def feed(self, item: Any) -> list[StreamEvent]:
        """Process one chunk or event as parsed from the SSE stream; the events it produced."""
        out: Events = []
        if self._c.closed:
            return out
        try:
            self._process(item, out)
        except Exception as exc:  # feed() must never raise on what a server sends
            self._c.error(f"unreadable {self._unit}: {exc.__class__.__name__}", item, out)
        return out

    def close(self) -> list[StreamEvent]:
        """End of stream: finish what can be finished; cut calls fail, keeping their text."""
        out: Events = []
        if not self._c.closed:
            self._c.closed = True
            self._settle(out)
        return out

    def result(self) -> Parsed:
        """The assembled response (closes the stream first if needed)."""
        self.close()
        return self._c.parsed(self._extra())

    def _process(self, item: Any, out: Events) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _settle(self, out: Events) -> None:
        """What the end of the stream decides (called once, after ``closed`` is set)."""

    def _extra(self) -> Mapping[str, Any] | None:
        """Metadata only known at the end (the blocks or items to echo in the follow-up)."""
        return None


def joined(
    content: list[str],
    reasoning: list[str],
    calls: list[ToolCall],
    errors: list[CallParseError],
    metadata: dict[str, Any],
) -> Parsed:
    """A :class:`Parsed` from the pieces a response was read into."""
    return Parsed(
        content="".join(content),
        calls=tuple(calls),
        errors=tuple(errors),
        reasoning="".join(reasoning),
        metadata=metadata,
    )


def response_fields(
    response: Mapping[str, Any], objects: tuple[str, ...] = ("usage", "error")
) -> dict[str, Any]:
    """The metadata a response carries: its ``id`` and ``model`` and the ``objects`` dicts."""
    meta: dict[str, Any] = {}
    for key in ("id", "model"):
        if as_str(response.get(key)):
            meta[key] = response[key]
    for key in objects:
        if isinstance(response.get(key), dict):
            meta[key] = response[key]
    return meta


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
