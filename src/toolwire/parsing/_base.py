"""The contract every text format implements, and the streaming machinery they share.

A format is a small class whose :meth:`Format.run` is a generator: it describes the grammar
top-down and *yields operations* (``Until`` a marker, ``Peek`` at the next character, scan
``JsonArgs``...). The :class:`Engine` drives it: each ``feed`` appends the delta to a small
buffer and resumes the current operation, which consumes what it can and either completes
(its result is sent back into the generator) or asks for more input. Decisions depend only on
the characters, never on where the deltas were split, so streaming char by char, in random
pieces or whole gives the same :class:`~toolwire._calls.Parsed` (``parse`` *is* a stream fed
once). Work is bounded per character: markers are searched only in the new text plus a held-back
tail shorter than the longest marker, and JSON goes through the incremental scanner.

Markers: text that could be the start of a marker is held back until it is one or cannot be
one, so a marker split over deltas never leaks into content.

Arguments (the invariant "concatenated ``ArgumentsDelta`` texts == ``ToolCall.arguments``"):
``arguments`` is *compact canonical JSON* — the model's JSON with insignificant whitespace and
comments removed, strings re-encoded canonically (escapes decoded, then only ``"``, ``\\`` and
control characters escaped), numbers and key order as written. The scanner emits exactly that
text as the model's characters arrive, and only appends text that can no longer change (a comma
waits for the next member, a number for its end), so every delta is final. Common slips are
absorbed by the scanner itself and the call is flagged ``repaired``. When the scanner meets
something it cannot absorb, the call's whole raw text is repaired once at its end marker
(:mod:`toolwire.parsing._repair`); if the canonical repaired text extends what was already
streamed, the rest is emitted as one last delta; otherwise the call becomes a ``CallFailed``
with its raw text (a call is never silently dropped). Formats whose arguments are not JSON
(qwen3_coder, glm45, pythonic) emit one delta per completed parameter, in the same canonical
encoding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from toolwire._calls import (
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
from toolwire.parsing._events import arguments_delta

__all__ = [
    "NEED",
    "Call",
    "Engine",
    "Format",
    "Op",
    "Peek",
    "Sections",
    "Sink",
    "Starts",
    "Until",
    "content_until",
    "first_char",
]


class _Need:
    def __repr__(self) -> str:
        return "NEED"


NEED: Any = _Need()
"""Returned by an operation's ``step`` when it needs more input."""

Sink = Literal["content", "reasoning", "drop", "collect"]


class Op:
    """One step of a grammar; ``step`` returns ``NEED`` or the operation's result."""

    def step(self, eng: Engine) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


Run = Generator[Op, Any, None]


class Format:
    """A text format: ``name`` and a ``run`` generator describing its grammar."""

    name: ClassVar[str] = ""
    #: markers that identify the format, for ``format="auto"`` and the docs
    markers: ClassVar[tuple[str, ...]] = ()
    #: the family's reasoning tags (open, close), when not ``<think>``/``</think>``
    thinks: ClassVar[tuple[tuple[str, str], ...]] = ()

    def run(self, eng: Engine) -> Run:  # pragma: no cover - abstract
        raise NotImplementedError


class Sections(Format):
    """A format whose calls each follow an opening marker, with content around them.

    ``run`` is the loop they all share (content, ``<think>`` as reasoning, a marker, the
    section it opens, again); a format only says what a section holds, in ``section``.
    """

    #: the markers that open a section, when they differ from ``markers``
    opens: ClassVar[tuple[str, ...]] = ()

    def run(self, eng: Engine) -> Run:
        opens = self.opens or self.markers
        thinks = self.thinks or THINK
        while True:
            m = yield from content_until(eng, opens, thinks=thinks)
            if m is None:
                return
            yield from self.section(eng, m)

    def section(self, eng: Engine, marker: str) -> Run:  # pragma: no cover - abstract
        """Read what follows ``marker`` (consumed)."""
        raise NotImplementedError


@dataclass(slots=True, kw_only=True)
class Call:
    """A call being assembled."""

    index: int
    id: str
    name: str
    parts: list[str] = field(default_factory=list)

    @property
    def emitted(self) -> str:
        return "".join(self.parts)


class Engine:
    """Drives a format's grammar over streamed text and collects the events and result."""

    def __init__(
        self, fmt: Format, schemas: Mapping[str, Any] | None, *, reasoning_open: bool = False
    ) -> None:
        self.fmt = fmt
        self.schemas = schemas
        self.buf = ""
        self.pos = 0
        self.eof = False
        # characters searched or copied by the operations (for the linearity tests)
        self.work = 0
        self.events: list[StreamEvent] = []
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[ToolCall] = []
        self._errors: list[CallParseError] = []
        self._next_index = 0
        self._gen: Run | None = self._open_reasoning(fmt) if reasoning_open else fmt.run(self)
        self._op: Op | None = None
        try:
            self._op = next(self._gen)
        except StopIteration:
            self._gen = None

    def _open_reasoning(self, fmt: Format) -> Run:
        # The prompt already opened <think> (templates that force reasoning): everything up
        # to </think> is reasoning, then the format reads the rest as usual.
        # the family's own close tag, or the common </think>
        yield Until(tuple({THINK_CLOSE, *(close for _, close in fmt.thinks)}), "reasoning")
        yield from fmt.run(self)

    # -- driving ----------------------------------------------------------------------------

    def feed(self, delta: str) -> list[StreamEvent]:
        if self.eof:
            return []
        if delta:
            pos = self.pos
            op = self._op
            if (
                type(op) is Until
                and pos == len(self.buf)
                and self._gen is not None
                and (op._m.first_search is None or op._m.first_search(delta) is None)
            ):
                # The fast turn of the usual delta: text (a value, content) while an Until waits
                # and nothing is held back. No character of the delta can start a marker, so
                # Until.step would pass all of it on; doing it here skips the pump (this is
                # most of the per-delta cost of the formats that write values as text).
                self.work += len(delta)
                self.buf = delta
                self.pos = len(delta)
                if op.sink == "collect":  # a text value: no event until it ends
                    op._parts.append(delta)
                    return []
                op._out(self, delta)
                return self._take() if self.events else []
            if pos == len(self.buf):  # the usual case: the last delta was consumed whole
                self.buf = delta
            else:
                self.work += len(self.buf) - pos
                self.buf = self.buf[pos:] + delta if pos else self.buf + delta
            self.pos = 0
            self._pump()
        return self._take()

    def close(self) -> list[StreamEvent]:
        if not self.eof:
            self.eof = True
            self._pump()
            if self.pos < len(self.buf):  # the grammar ended early: the rest is content
                self.content(self.buf[self.pos :])
                self.pos = len(self.buf)
        return self._take()

    def _take(self) -> list[StreamEvent]:
        out, self.events = self.events, []
        return out

    def _pump(self) -> None:
        try:
            while self._gen is not None and self._op is not None:
                r = self._op.step(self)
                if r is NEED:
                    if self.eof:  # an operation must always finish at end of input
                        raise RuntimeError(f"{type(self._op).__name__} did not finish at EOF")
                    return
                try:
                    self._op = self._gen.send(r)
                except StopIteration:
                    self._gen = None
        except Exception as exc:  # feed() never raises: keep the text, report the fault
            self._gen = None
            self._errors.append(
                CallParseError(message=f"internal parser error: {exc!r}", raw=self.buf[self.pos :])
            )
            self.content(self.buf[self.pos :])
            self.pos = len(self.buf)
        if self._gen is None and self.pos < len(self.buf):
            self.content(self.buf[self.pos :])
            self.pos = len(self.buf)

    def result(self) -> Parsed:
        return Parsed(
            content="".join(self._content),
            calls=tuple(self._calls),
            errors=tuple(self._errors),
            reasoning="".join(self._reasoning),
            metadata={"format": self.fmt.name},
        )

    # -- what grammars call -----------------------------------------------------------------

    def content(self, text: str) -> None:
        if text:
            self._content.append(text)
            self.events.append(ContentDelta(text=text))

    def reasoning(self, text: str) -> None:
        if text:
            self._reasoning.append(text)
            self.events.append(ReasoningDelta(text=text))

    def unread(self, text: str) -> None:
        """Put ``text`` back in front of the unconsumed input.

        What grammars put back is almost always what they just consumed (a marker, some
        whitespace); then the position moves back over it and nothing is copied. Otherwise the
        rest of the buffer is copied once — which for a large ``feed`` would make every such
        call cost the whole remaining input, so the rewind is what keeps parsing linear.
        """
        if not text:
            return
        pos = self.pos
        if pos >= len(text) and self.buf.startswith(text, pos - len(text)):
            self.pos = pos - len(text)
            return
        self.work += len(self.buf) - pos
        self.buf = text + self.buf[pos:]
        self.pos = 0

    def start_call(self, name: str, call_id: str | None = None) -> Call:
        index = self._next_index
        self._next_index += 1
        call = Call(index=index, id=call_id or f"call_{index}", name=name)
        self.events.append(CallStarted(index=index, id=call.id, name=name))
        return call

    def args(self, call: Call, text: str) -> None:
        if text:
            call.parts.append(text)
            self.events.append(arguments_delta(call.index, text))

    def finish_call(self, call: Call, *, repaired: bool = False) -> None:
        if not call.parts:
            self.args(call, "{}")
        tc = ToolCall(
            id=call.id,
            name=call.name,
            arguments=call.emitted,
            repaired=repaired,
            unknown_tool=self.schemas is not None and call.name not in self.schemas,
        )
        self._calls.append(tc)
        self.events.append(CallFinished(index=call.index, call=tc))

    def stray(self, text: str, where: str) -> None:
        """Text found ``where`` only calls belong: kept as an error (never dropped) unless blank."""
        if text.strip():
            self.fail_call(None, f"text {where} that is not a call", text)

    def fail_call(self, call: Call | None, message: str, raw: str, name: str | None = None) -> None:
        err = CallParseError(
            message=message,
            raw=raw,
            name=call.name if call is not None else name,
            index=call.index if call is not None else None,
        )
        self._errors.append(err)
        self.events.append(CallFailed(index=err.index, error=err))


# -- operations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Markers:
    """A set of markers prepared once (per distinct tuple) for every ``Until`` that uses it."""

    markers: tuple[str, ...]  # longest first: at one position the longest marker wins
    maxlen: int
    prefixes: frozenset[str]
    first: frozenset[str]
    longer: Mapping[str, tuple[str, ...]]
    search: Any  # the compiled alternation's ``search`` (None for a single marker: str.find)
    first_search: Any  # finds a character that starts a marker (None: there are no markers)


@functools.lru_cache(maxsize=4096)
def _markers(given: tuple[str, ...]) -> _Markers:
    markers = tuple(sorted(set(given), key=lambda m: (-len(m), m)))
    pattern = "|".join(re.escape(m) for m in markers)
    return _Markers(
        markers=markers,
        maxlen=max((len(m) for m in markers), default=0),
        prefixes=frozenset(m[:k] for m in markers for k in range(1, len(m))),
        first=frozenset(m[0] for m in markers),
        longer={
            m: tuple(x for x in markers if len(x) > len(m) and x.startswith(m)) for m in markers
        },
        search=re.compile(pattern).search if len(markers) > 1 else None,
        first_search=(
            re.compile(
                "[" + "".join(re.escape(c) for c in sorted({m[0] for m in markers})) + "]"
            ).search
            if markers
            else None
        ),
    )


class Until(Op):
    """Pass text to ``sink`` until one of ``markers``; result: the marker, or None at EOF.

    With ``sink="collect"`` the text is kept in ``.text``. With ``consume=False`` the marker is
    left in the input. At one position the longest marker wins, and a marker that is a prefix of
    a longer one waits until the longer one is ruled out. One search (a compiled alternation)
    runs from the current position to the first marker, so each character is looked at once
    however many markers there are and however large the input.
    """

    __slots__ = ("_m", "_parts", "consume", "markers", "sink", "text")

    def __init__(self, markers: Iterable[str], sink: Sink, *, consume: bool = True) -> None:
        self._m = _markers(tuple(markers))
        self.markers = self._m.markers
        self.sink = sink
        self.consume = consume
        self.text = ""
        self._parts: list[str] = []

    def _out(self, eng: Engine, text: str) -> None:
        if not text:
            return
        if self.sink == "content":
            eng.content(text)
        elif self.sink == "reasoning":
            eng.reasoning(text)
        elif self.sink == "collect":
            self._parts.append(text)

    def _done(self, result: str | None) -> str | None:
        if self.sink == "collect":
            self.text = "".join(self._parts)
        return result

    def step(self, eng: Engine) -> Any:
        buf, pos, ms = eng.buf, eng.pos, self._m
        n = len(buf)
        if ms.search is not None:
            found = ms.search(buf, pos)
            best, which = (found.start(), found.group()) if found is not None else (-1, "")
        elif ms.markers:
            which = ms.markers[0]
            best = buf.find(which, pos)
        else:
            best, which = -1, ""
        if best != -1:
            eng.work += best + len(which) - pos
            if not eng.eof and any(
                n - best < len(x) and x.startswith(buf[best:]) for x in ms.longer[which]
            ):
                self._out(eng, buf[pos:best])
                eng.pos = best
                return NEED
            self._out(eng, buf[pos:best])
            eng.pos = best + len(which) if self.consume else best
            return self._done(which)
        eng.work += n - pos
        if eng.eof:
            self._out(eng, buf[pos:])
            eng.pos = n
            return self._done(None)
        keep = n
        for k in range(max(pos, n - ms.maxlen + 1), n):
            if buf[k] in ms.first and buf[k:] in ms.prefixes:
                keep = k
                break
        self._out(eng, buf[pos:keep])
        eng.pos = keep
        return NEED


class Peek(Op):
    """Skip whitespace (kept in ``.ws``); result: the next character, or "" at EOF."""

    __slots__ = ("_parts", "ws")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.ws = ""

    def step(self, eng: Engine) -> Any:
        buf, i = eng.buf, eng.pos
        n = len(buf)
        while i < n and buf[i] in " \t\r\n":
            i += 1
        self._parts.append(buf[eng.pos : i])
        eng.pos = i
        if i < n or eng.eof:
            self.ws = "".join(self._parts)
            return buf[i] if i < n else ""
        return NEED


class Starts(Op):
    """Result: whether the input continues with ``literal`` (consumed when it does)."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def step(self, eng: Engine) -> Any:
        rest = eng.buf[eng.pos : eng.pos + len(self.literal)]
        if rest == self.literal:
            eng.pos += len(self.literal)
            return True
        if not self.literal.startswith(rest) or eng.eof:
            return False
        return NEED


def first_char(eng: Engine) -> Generator[Op, Any, str]:
    """Leading whitespace as content; returns the next character ("" at the end of input).

    For formats whose calls may start the output bare (a JSON object, a list) at this point.
    """
    peek = Peek()
    ch = yield peek
    eng.content(peek.ws)
    return ch  # type: ignore[no-any-return]


THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


THINK: tuple[tuple[str, str], ...] = ((THINK_OPEN, THINK_CLOSE),)
"""The reasoning tags most families use; a format with its own passes them to content_until."""


def content_until(
    eng: Engine,
    markers: Iterable[str],
    *,
    think: bool = True,
    thinks: tuple[tuple[str, str], ...] = THINK,
) -> Generator[Op, Any, str | None]:
    """Content up to one of ``markers`` (returned; None at EOF), with reasoning split off.

    ``thinks`` are the (open, close) reasoning tags (``<think>``/``</think>``; Seed-OSS
    ``<seed:think>``...). A stray close (its opening tag was in the prompt) is dropped, not
    shown as content.
    """
    wanted = tuple(markers)
    pairs = thinks if think else ()
    opens = dict(pairs)
    closes = {c for _, c in pairs}
    all_markers = (*wanted, *opens, *closes)
    while True:
        m = yield Until(all_markers, "content")
        if m is None or m in wanted or (m not in opens and m not in closes):
            return m  # type: ignore[no-any-return]
        if m in opens:
            yield Until((opens[m],), "reasoning")
