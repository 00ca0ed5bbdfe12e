"""``format="auto"``: find the format by its markers, then read each call with that format.

The detector is built from the formats' :class:`~toolwire.parsing._record.Cue` records, so a
new format teaches ``auto`` in its own module. Detection happens per call, at the marker, so the
decision depends only on the text (never on where deltas were cut). Where formats share a marker,
the character after it (and any whitespace) decides: after ``<tool_call>`` a ``{`` or ``[`` is
Hermes, ``<`` Qwen3-Coder, anything else the fallback (GLM-4.5, which checks the body looks
like a call). At the very start of the output the ``at_start`` cues apply too (a bare ``{``
for Llama 3 JSON, ``[{`` for xLAM, ``[name(`` pythonic); the longest marker wins. A cue that
``takes_over`` (Harmony) reads the rest of the stream.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any

from toolwire.parsing._base import (
    NEED,
    THINK,
    Engine,
    Format,
    Op,
    Peek,
    Run,
    content_until,
    first_char,
)
from toolwire.parsing._record import Cue

__all__ = ["Auto", "Opens"]


class Opens(Op):
    """Result: the longest of ``literals`` the input starts with (consumed), or "" for none."""

    __slots__ = ("_maxlen", "literals")

    def __init__(self, literals: Iterable[str]) -> None:
        self.literals = tuple(sorted(set(literals), key=len, reverse=True))
        self._maxlen = max((len(x) for x in self.literals), default=0)

    def step(self, eng: Engine) -> Any:
        head = eng.buf[eng.pos : eng.pos + self._maxlen]
        if (
            not eng.eof
            and len(head) < self._maxlen
            and any(len(head) < len(x) and x.startswith(head) for x in self.literals)
        ):
            return NEED  # a longer literal is still possible
        for x in self.literals:
            if head.startswith(x):
                eng.pos += len(x)
                return x
        return ""


def _by_marker(cues: Iterable[Cue]) -> dict[str, list[Cue]]:
    out: dict[str, list[Cue]] = {}
    for cue in cues:
        out.setdefault(cue.marker, []).append(cue)
    return out


class Auto(Format):
    """Every format at once, told apart by the cues of the formats' records."""

    name = "auto"

    def __init__(self, cues: Sequence[Cue], thinks: tuple[tuple[str, str], ...] = ()) -> None:
        self.reasoning_tags = thinks
        self.anywhere = _by_marker(c for c in cues if not c.at_start)
        self.at_start = _by_marker(c for c in cues if c.at_start)
        self.opens = tuple(self.anywhere)

    def run(self, eng: Engine) -> Run:
        yield from first_char(eng)
        m = yield Opens((*self.anywhere, *self.at_start))
        if m in self.anywhere:
            if (yield from self._dispatch(eng, m, self.anywhere[m])):
                return
        elif m:
            yield from self._dispatch(eng, m, self.at_start[m], at_start=True)
        while True:
            m = yield from content_until(eng, self.opens, thinks=self.reasoning_tags or THINK)
            if m is None:
                return
            if (yield from self._dispatch(eng, m, self.anywhere[m])):
                return

    def _dispatch(
        self, eng: Engine, marker: str, cues: list[Cue], *, at_start: bool = False
    ) -> Generator[Op, Any, bool]:
        """Read what ``marker`` opens with the cue that claims it; True: the stream is taken."""
        ws = ""
        if len(cues) == 1 and not cues[0].first:
            cue: Cue | None = cues[0]
        else:
            peek = Peek()
            ch = yield peek
            ws = peek.ws
            cue = next((c for c in cues if c.first and ch and ch in c.first), None)
            if cue is None:
                cue = next((c for c in cues if not c.first), None)
        if cue is None:  # no format claims this: the marker was only text
            eng.unread(marker + ws if at_start else ws)
            if not at_start:
                eng.content(marker)
            return False
        eng.unread(marker + ws if at_start or cue.takes_over else ws)
        yield from cue.read(eng, marker)
        return cue.takes_over
