"""Reading Python-style calls, ``[f(a=1, b="x"), g()]``, incrementally.

A call starts as soon as ``name(`` is seen and each keyword argument is emitted once its value
ends (a ``,`` or ``)`` outside any string or bracket). The brackets may be required, optional
or absent; without brackets calls are separated by ``,`` or by a line break (Olmo 3 writes one
call per line). A call that cannot be read (a positional argument, a value with no JSON form)
is reported with its own raw text and reading goes on with the next call, so one bad call
never takes its siblings with it. A list that turns out not to hold calls at all (``[1] see
note``) is content.
"""

from __future__ import annotations

import re
from typing import Any

from toolwire.parsing._base import NEED, Call, Engine, Op, Until
from toolwire.parsing._jsonscan import canon, encode_str
from toolwire.parsing._pyvalues import py_value

__all__ = ["PyCalls"]

# names and keywords are Python identifiers, Unicode letters included (a key such as 城市)
_IDENT = re.compile(r"[\w.\-]+")
_STR_RUN = {"'": re.compile(r"[^'\\]+"), '"': re.compile(r'[^"\\]+')}
_PLAIN_RUN = re.compile(r"[^\"'()\[\]{},<]+")
_SKIP_RUN = re.compile(r"[^\"'()\[\]{}<\\]+")
_KEYWORDS = frozenset({"True", "False", "None", "true", "false", "null"})

# states
_OPEN, _NAME, _PAREN, _ARG, _EQ, _VALUE, _AFTER, _DONE, _FAILED, _SKIP = range(10)


class PyCalls(Op):
    """A list of Python-style calls up to one of ``ends`` (left in the input).

    ``brackets``: True, the list is ``[...]``; None, optional; False, none. Result: the number
    of calls started.
    """

    def __init__(self, ends: tuple[str, ...] = (), *, brackets: bool | None = True) -> None:
        self.ends = ends
        self.brackets = brackets
        self.st = _OPEN
        self.tok: list[str] = []
        self.raw: list[str] = []
        self.call: Call | None = None
        self.call_raw: list[str] = []  # the current call's text, for its error if it fails
        self.key = ""
        self.depth = 0
        self.quote = ""
        self.esc = False
        self.newline = False  # a line break since the last call (separates unbracketed calls)
        self.started = 0
        self.tail: Until | None = None

    # -- failures ---------------------------------------------------------------------------

    def _fail(self, eng: Engine) -> Any:
        self.st = _FAILED
        if self.started == 0:  # not calls after all: what was read is content
            eng.content("".join(self.raw))  # holds the token read so far too
            return 0
        self.tail = Until(self.ends, "collect", consume=False)
        return self.step(eng)

    def _skip_call(self) -> None:
        """The current call cannot be read: skip to its closing parenthesis."""
        self.depth = self.depth + 1 if self.st == _VALUE else 1
        self.tok = []
        self.st = _SKIP

    def _skipped(self, eng: Engine, text: str) -> None:
        assert self.call is not None
        raw = "".join(self.call_raw) + text
        eng.fail_call(self.call, "malformed pythonic call", raw)
        self.call = None
        self.call_raw = []
        self.quote = ""
        self.esc = False
        self.depth = 0
        self.st = _AFTER
        self.newline = False

    def _at_end_marker(self, buf: str, i: int, eof: bool) -> bool | None:
        """Whether an end marker starts at ``i`` (None: cannot tell yet)."""
        for end in self.ends:
            rest = buf[i : i + len(end)]
            if rest == end:
                return True
            if not eof and len(rest) < len(end) and end.startswith(rest):
                return None
        return False

    # -- the operation ----------------------------------------------------------------------

    def step(self, eng: Engine) -> Any:
        if self.tail is not None:
            if self.tail.step(eng) is NEED:
                return NEED
            raw = "".join(self.raw) + self.tail.text
            if self.call is not None:  # cut inside a call: the list's text so far is kept
                eng.fail_call(self.call, "malformed pythonic call", raw)
            elif self.started == 0:
                eng.content(raw)
            elif raw.strip():
                eng.fail_call(None, "malformed pythonic call list", raw)
            return self.started
        buf, i, n = eng.buf, eng.pos, len(eng.buf)
        mark = i  # where the current call's raw text resumes in this buffer
        broke = False
        while i < n and self.st != _DONE:
            c = buf[i]
            st = self.st
            if st == _SKIP:
                if self.quote:
                    i += 1
                    if self.esc:
                        self.esc = False
                    elif c == "\\":
                        self.esc = True
                    elif c == self.quote:
                        self.quote = ""
                    continue
                m = _SKIP_RUN.match(buf, i)
                if m is not None:
                    i = m.end()
                    continue
                if c == "<" and self.ends:
                    at = self._at_end_marker(buf, i, eng.eof)
                    if at is None:
                        break  # wait for more input
                    if at:  # the block ended inside the call
                        self._skipped(eng, buf[mark:i])
                        mark = i
                        self.st = _DONE
                        break
                i += 1
                if c in "'\"":
                    self.quote = c
                elif c in "([{":
                    self.depth += 1
                elif c in ")]}":
                    self.depth -= 1
                    if self.depth == 0:
                        self._skipped(eng, buf[mark:i])
                        mark = i
                continue
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
                        self._skip_call()
                        continue
                    self.st = _ARG if c == "," else _AFTER
                    i += 1
                    if c == ")":
                        self._call_done(eng)
                        mark = i
                    continue
                m = _PLAIN_RUN.match(buf, i)
                if m is not None:
                    self.tok.append(m.group())
                    i = m.end()
                    continue
                if c == "<" and self.ends:
                    at = self._at_end_marker(buf, i, eng.eof)
                    if at is None:
                        break
                    if at:  # the block ended inside a value
                        broke = True
                        break
                self.tok.append(c)
                i += 1
                if c in "'\"":
                    self.quote = c
                elif c in "([{":
                    self.depth += 1
                elif c in ")]}":
                    self.depth -= 1
                    if self.depth < 0:  # a closer that was never opened: skip to the ")"
                        self.depth = 0
                        self._skip_call()
                continue
            if c in " \t\r\n" and st != _NAME:
                if c == "\n" and st == _AFTER:
                    self.newline = True
                i += 1
                continue
            if st == _OPEN:
                if c == "[" and self.brackets is not False:
                    self.brackets = True
                    self.st = _NAME
                    i += 1
                    continue
                if self.brackets is not True and (c.isalpha() or c == "_"):
                    self.brackets = False
                    self.st = _NAME
                    continue
                broke = True
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
                    broke = True
                    break
                self.call = eng.start_call(name)
                self.call_raw = [name + "("]
                self.started += 1
                self.st = _ARG
                i += 1
                mark = i
                continue
            if st == _ARG:
                if c == ")":
                    i += 1
                    self._call_done(eng)
                    mark = i
                    self.st = _AFTER
                    continue
                m = _IDENT.match(buf, i)
                if m is None or not (c.isalpha() or c == "_"):
                    self._skip_call()  # a positional argument or worse
                    continue
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
                    self._skip_call()
                    continue
                self.key = "".join(self.tok)
                self.tok = []
                self.st = _VALUE
                i += 1
                continue
            if st == _AFTER:
                if c == ",":
                    self.st = _NAME
                    self.newline = False
                    i += 1
                    continue
                if c == "]" and self.brackets:
                    self.st = _DONE
                    i += 1
                    continue
                if not self.brackets:
                    if self.newline and (c.isalpha() or c == "_"):
                        self.st = _NAME  # the next call, on its own line
                        self.newline = False
                        continue
                    self.st = _DONE
                    continue
                broke = True
                break
        self.raw.append(buf[eng.pos : i])
        if self.call is not None:
            self.call_raw.append(buf[mark:i])
        eng.pos = i
        if broke:
            return self._fail(eng)
        if self.st == _DONE:
            return self.started
        if not eng.eof:
            return NEED
        if self.st == _AFTER:  # a list cut before its "]": the calls are whole
            return self.started
        if self._finish_cut(eng):
            return self.started
        if self.st == _SKIP and self.call is not None:
            self._skipped(eng, "")
            return self.started
        return self._fail(eng)

    def _arg_done(self, eng: Engine) -> bool:
        raw = "".join(self.tok)
        ok, value = py_value(raw)
        if not ok or self.call is None:
            return False
        self.tok = []
        prefix = "," if self.call.parts else "{"
        eng.args(self.call, prefix + encode_str(self.key) + ":" + canon(value))
        return True

    def _call_done(self, eng: Engine, *, repaired: bool = False) -> None:
        if self.call is not None:
            eng.args(self.call, "}" if self.call.parts else "{}")
            eng.finish_call(self.call, repaired=repaired)
            self.call = None
            self.call_raw = []
            self.newline = False

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
