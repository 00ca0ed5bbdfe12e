"""Pythonic calls (Llama 4, LFM2, Olmo): ``[f(a=1, b="x"), g()]``.

Optionally inside ``<|python_start|>...<|python_end|>`` (where the brackets may be missing). Values
are Python literals — nested lists, dicts and tuples, ``True/False/None`` — or JSON
(``true/false/null``). The list is read incrementally: a call starts as soon as ``name(`` is
seen and each keyword argument is emitted once its value ends (a ``,`` or ``)`` outside any
string or bracket). A bare list counts only at the start of the output; one that turns out not
to be calls (``[1] see note``) stays content.
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Sequence
from typing import Any

from toolwire import _json
from toolwire._spec import ToolSpec
from toolwire.parsing._base import (
    NEED,
    Call,
    Engine,
    Format,
    Op,
    Run,
    Until,
    content_until,
    first_char,
)
from toolwire.parsing._jsonscan import canon, encode_str
from toolwire.parsing._prompting import function_of, plain_results
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._repair import scan_whole
from toolwire.parsing._shape import CallShape, PythonicCall

__all__ = ["FORMAT", "IDENT_START", "PyCalls", "Pythonic"]

START = "<|python_start|>"
END = "<|python_end|>"

_IDENT = re.compile(r"[A-Za-z0-9_.\-]+")
_STR_RUN = {"'": re.compile(r"[^'\\]+"), '"': re.compile(r'[^"\\]+')}
_PLAIN_RUN = re.compile(r"[^\"'()\[\]{},]+")
_MAX_LITERAL = 100_000
IDENT_START = string.ascii_letters + "_"
_KEYWORDS = frozenset({"True", "False", "None", "true", "false", "null"})

# states
_OPEN, _NAME, _PAREN, _ARG, _EQ, _VALUE, _AFTER, _DONE, _FAILED = range(9)


def py_value(raw: str) -> tuple[bool, Any]:
    """A Python or JSON literal as Python data: (ok, value)."""
    text = raw.strip()
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        pass
    if len(text) <= _MAX_LITERAL:
        try:
            return True, ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    scanned = scan_whole(text)
    if scanned is not None:
        return True, json.loads(scanned[0])
    return False, None


class PyCalls(Op):
    """A list of Python-style calls. Result: the number of calls started."""

    def __init__(self, ends: tuple[str, ...] = (), *, brackets: bool | None = True) -> None:
        self.ends = ends
        self.brackets = brackets  # None: optional
        self.st = _OPEN
        self.tok: list[str] = []
        self.raw: list[str] = []
        self.call: Call | None = None
        self.key = ""
        self.depth = 0
        self.quote = ""
        self.esc = False
        self.started = 0
        self.tail: Until | None = None

    def _fail(self, eng: Engine) -> Any:
        self.st = _FAILED
        if self.started == 0:  # not calls after all: what was read is content
            eng.content("".join(self.raw) + "".join(self.tok))
            return 0
        self.tail = Until(self.ends, "collect", consume=False)
        return self.step(eng)

    def step(self, eng: Engine) -> Any:
        if self.tail is not None:
            if self.tail.step(eng) is NEED:
                return NEED
            raw = "".join(self.raw) + self.tail.text
            if self.call is not None:
                eng.fail_call(self.call, "malformed pythonic call", raw)
            elif self.started == 0:
                eng.content(raw)
            elif raw.strip():
                eng.fail_call(None, "malformed pythonic call list", raw)
            return self.started
        buf, i, n = eng.buf, eng.pos, len(eng.buf)
        while i < n and self.st != _DONE:
            c = buf[i]
            st = self.st
            if st == _VALUE:
                if self.quote:
                    m = _STR_RUN[self.quote].match(buf, i)
                    if m is not None and not self.esc:
                        self.tok.append(m.group())
                        i = m.end()
                        continue
                    self.tok.append(c)
                    i += 1
                    if self.esc:
                        self.esc = False
                    elif c == "\\":
                        self.esc = True
                    elif c == self.quote:
                        self.quote = ""
                    continue
                if self.depth == 0 and c in ",)":
                    if not self._arg_done(eng):
                        break
                    self.st = _ARG if c == "," else _AFTER
                    if c == ")":
                        self._call_done(eng)
                    i += 1
                    continue
                m = _PLAIN_RUN.match(buf, i)
                if m is not None:
                    self.tok.append(m.group())
                    i = m.end()
                    continue
                self.tok.append(c)
                i += 1
                if c in "'\"":
                    self.quote = c
                elif c in "([{":
                    self.depth += 1
                elif c in ")]}":
                    self.depth -= 1
                    if self.depth < 0:
                        break
                continue
            if c in " \t\r\n" and st != _NAME:
                i += 1
                continue
            if st == _OPEN:
                if c == "[" and self.brackets is not False:
                    self.brackets = True
                    self.st = _NAME
                    i += 1
                    continue
                if self.brackets is None and (c.isalpha() or c == "_"):
                    self.brackets = False
                    self.st = _NAME
                    continue
                break
            if st == _NAME:
                m = _IDENT.match(buf, i)
                if m is not None:
                    self.tok.append(m.group())
                    i = m.end()
                    continue
                if not self.tok and c in " \t\r\n":
                    i += 1
                    continue
                self.st = _PAREN
                continue
            if st == _PAREN:
                name = "".join(self.tok)
                self.tok = []
                if c != "(" or not name or not (name[0].isalpha() or name[0] == "_"):
                    break
                self.call = eng.start_call(name)
                self.started += 1
                self.st = _ARG
                i += 1
                continue
            if st == _ARG:
                if c == ")":
                    self._call_done(eng)
                    self.st = _AFTER
                    i += 1
                    continue
                m = _IDENT.match(buf, i)
                if m is None or not (c.isalpha() or c == "_"):
                    break
                self.tok.append(m.group())
                i = m.end()
                self.st = _EQ
                continue
            if st == _EQ:
                m = _IDENT.match(buf, i)
                if m is not None:  # the key continues past a delta boundary
                    self.tok.append(m.group())
                    i = m.end()
                    continue
                if c != "=":
                    break
                self.key = "".join(self.tok)
                self.tok = []
                self.st = _VALUE
                i += 1
                continue
            if st == _AFTER:
                if c == ",":
                    self.st = _NAME
                    i += 1
                    continue
                if c == "]" and self.brackets:
                    self.st = _DONE
                    i += 1
                    continue
                if not self.brackets:
                    self.st = _DONE
                    continue
                break
        else:
            self.raw.append(buf[eng.pos : i])
            eng.pos = i
            if self.st == _DONE:
                return self.started
            if not eng.eof:
                return NEED
            if self.st == _AFTER:  # a list cut before its "]": the calls are whole
                return self.started
            if self._finish_cut(eng):
                return self.started
            return self._fail(eng)
        self.raw.append(buf[eng.pos : i])
        eng.pos = i
        return self._fail(eng)

    def _arg_done(self, eng: Engine) -> bool:
        raw = "".join(self.tok)
        self.tok = []
        ok, value = py_value(raw)
        if not ok or self.call is None:
            self.tok = [raw]
            return False
        prefix = "," if self.call.parts else "{"
        eng.args(self.call, prefix + encode_str(self.key) + ":" + canon(value))
        return True

    def _call_done(self, eng: Engine, *, repaired: bool = False) -> None:
        if self.call is not None:
            eng.args(self.call, "}" if self.call.parts else "{}")
            eng.finish_call(self.call, repaired=repaired)
            self.call = None

    def _finish_cut(self, eng: Engine) -> bool:
        """The output ended inside a call: finish it (``repaired``) if no argument was cut.

        After ``(`` or ``,`` every argument read is whole; a last value counts as whole only when
        its end shows it (a closing quote or bracket, a keyword) — ``b=12`` may have been
        ``b=123``, so it fails like any cut call.
        """
        if self.call is None:
            return False
        if self.st == _VALUE:
            raw = "".join(self.tok).strip()
            whole = raw[-1:] in ("'", '"', ")", "]", "}") or raw in _KEYWORDS
            if self.quote or self.depth != 0 or not whole or not self._arg_done(eng):
                return False
        elif self.st != _ARG:
            return False
        self._call_done(eng, repaired=True)
        return True


class Pythonic(Format):
    name = "pythonic"
    markers = (START,)

    def run(self, eng: Engine) -> Run:
        ch = yield from first_char(eng)
        if ch == "[":
            yield PyCalls()
        while True:
            m = yield from content_until(eng, (START,))
            if m is None:
                return
            yield PyCalls((END,), brackets=None)
            yield Until((END,), "drop")


def pythonic_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([function_of(s) for s in specs])
    return (
        "You can call these functions (JSON Schema signatures):\n"
        + functions
        + "\n\nTo call functions, reply with only a Python list of calls with keyword "
        "arguments, for example [func_a(x=1, name='b'), func_b()]." + rules
    )


def _marked(eng: Engine, marker: str) -> Run:
    yield PyCalls((END,), brackets=None)
    yield Until((END,), "drop")


def _bare(eng: Engine, marker: str) -> Run:
    yield PyCalls()  # auto put the "[" back


FORMAT = TextFormat(
    name="pythonic",
    parser=Pythonic,
    family="Llama 3.2 / 4 (pythonic), ToolACE",
    markers=(START, END),
    peers={"vllm": ("pythonic",), "sglang": ("pythonic",)},
    # A bare list counts only at the start of the output; after words it needs the markers.
    call=CallShape(
        layout=PythonicCall(),
        begin="[",
        separator=", ",
        end="]",
        begin_after_text=START + "[",
        end_after_text="]" + END,
        text_gap="",
    ),
    prompt=pythonic_tools,
    results=plain_results,
    cues=(
        Cue(marker=START, read=_marked),
        Cue(marker="[", first=IDENT_START, at_start=True, read=_bare),
    ),
    quirks="a bare list counts only at the start of the output; Python or JSON literals",
)
