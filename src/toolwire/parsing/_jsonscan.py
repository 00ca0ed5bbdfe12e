"""An incremental, lenient JSON scanner that emits compact canonical JSON text as it goes.

Characters are pushed in any split; the scanner keeps O(depth) state and does bounded work per
character (string, whitespace and number runs are taken with one regex match each), so the
total work is linear in the input and nothing already scanned is ever looked at again.

Output ("canonical" text): insignificant whitespace and comments removed, strings re-encoded
the way :func:`canon` encodes them (escapes decoded, then only ``"``, ``\\`` and control
characters escaped; surrogate pairs joined; a lone surrogate kept as a ``\\uXXXX`` escape),
numbers and key order as written. Because output for a token is only appended once the token
can no longer change (a comma is held until the next key or value starts, a number or literal
until it ends), the text emitted so far is always a prefix of the final canonical text, whatever
the splits — which is what lets parsers stream ``ArgumentsDelta`` and still repair.

Leniency (each sets ``repaired``): single-quoted strings, ``True/False/None``, unquoted keys,
trailing commas, a missing comma between members, ``//`` and ``/* */`` comments, raw control
characters inside strings, unknown escapes (kept as a literal backslash), numbers such as ``01``,
``+1`` or ``1.``; at end of input :meth:`JsonScanner.finish` closes open strings and containers.
Anything else marks the scanner ``failed`` and it stops consuming.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["JsonScanner", "canon", "encode_str"]

# States.
_VALUE = 0  # a value is expected
_VALUE_OR_CLOSE = 1  # after "[" or after "," in an array: a value, or "]"
_KEY_OR_CLOSE = 2  # after "{" or after "," in an object: a key, or "}"
_COLON = 3
_AFTER = 4  # after a value: "," or a closer
_STR = 5
_ESC = 6
_UHEX = 7
_NUM = 8
_WORD = 9
_SLASH = 10  # saw "/" where whitespace may be
_LINE_COMMENT = 11
_BLOCK_COMMENT = 12
_BLOCK_STAR = 13
_DONE = 14
_FAILED = 15

_WS = " \t\r\n"
_WS_RUN = re.compile(r"[ \t\r\n]+")
_DQ_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_SQ_RUN = re.compile(r"[^'\"\\\x00-\x1f]+")
_NUM_RUN = re.compile(r"[-+0-9.eE]+")
_WORD_RUN = re.compile(r"[A-Za-z0-9_$]+")
_NUM_OK = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESC = {'"': '\\"', "\\": "\\\\", "/": "/", "b": "\\b", "f": "\\f", "n": "\\n"}
_SIMPLE_ESC.update({"r": "\\r", "t": "\\t", "'": "'"})
_WORDS = {"true": "true", "false": "false", "null": "null"}
_LENIENT_WORDS = {"True": "true", "False": "false", "None": "null"}
_CTRL = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')


def _esc_char(c: str) -> str:
    if c == '"':
        return '\\"'
    if c == "\\":
        return "\\\\"
    o = ord(c)
    if o < 0x20:
        return _CTRL.get(c) or f"\\u{o:04x}"
    if 0xD800 <= o <= 0xDFFF:  # a lone surrogate cannot be UTF-8: keep it as an escape
        return f"\\u{o:04x}"
    return c


def encode_str(s: str) -> str:
    """Encode ``s`` as a JSON string literal, the canonical way the scanner emits strings."""
    if _NEEDS_ESCAPE.search(s) is None:
        return f'"{s}"'
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _esc_char(m.group()), s) + '"'


def canon(value: Any) -> str:
    """Compact canonical JSON for a Python value (same string encoding as the scanner)."""
    if isinstance(value, str):
        return encode_str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, dict):
        return "{" + ",".join(f"{encode_str(str(k))}:{canon(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ",".join(canon(v) for v in value) + "]"
    return encode_str(str(value))


Hook = Callable[[int, str], None]


class JsonScanner:
    """Scan one JSON value pushed in pieces; see the module docstring.

    ``feed(text, start)`` consumes from ``text[start:]`` and returns the index where it stopped:
    the end of the text, or just past the value once it is complete (``done``), or the offending
    character (``failed``). Canonical output is appended to the list ``sink`` (which callers may
    swap at any hook). Hooks fire only for containers at depth <= ``watch``:
    ``on_start(depth, first_char)`` before a value's first output, ``on_end(depth, "")`` after
    its last, ``on_key(depth, key)`` once a key is read (``depth`` = the parent's depth).
    ``steps`` counts work units (characters or runs handled), for linearity tests.
    """

    __slots__ = (
        "_hexbuf",
        "_hi",
        "_key",
        "_keybuf",
        "_quote",
        "_resume",
        "_tok",
        "comma",
        "on_end",
        "on_key",
        "on_start",
        "repaired",
        "sink",
        "st",
        "stack",
        "steps",
        "watch",
    )

    def __init__(
        self,
        sink: list[str] | None = None,
        *,
        watch: int = -1,
        on_start: Hook | None = None,
        on_end: Hook | None = None,
        on_key: Hook | None = None,
    ) -> None:
        self.sink: list[str] = [] if sink is None else sink
        self.stack: list[str] = []
        self.st = _VALUE
        self.comma = False
        self.repaired = False
        self.steps = 0
        self.watch = watch
        self.on_start = on_start
        self.on_end = on_end
        self.on_key = on_key
        self._quote = '"'
        self._key = False  # the string being read is a key
        self._keybuf: list[str] | None = None
        self._hexbuf = ""
        self._hi = 0  # a pending high surrogate
        self._tok: list[str] = []
        self._resume = _VALUE

    @property
    def done(self) -> bool:
        return self.st == _DONE

    @property
    def failed(self) -> bool:
        return self.st == _FAILED

    @property
    def started(self) -> bool:
        st = self.st
        if _SLASH <= st <= _BLOCK_STAR:
            st = self._resume  # a comment before the first value has not started one
        return bool(self.stack) or st not in (_VALUE, _DONE, _FAILED)

    # -- helpers ----------------------------------------------------------------------------

    def _begin_value(self, ch: str) -> None:
        if self.comma:
            self.sink.append(",")
            self.comma = False
        d = len(self.stack)
        if d <= self.watch and self.on_start is not None:
            self.on_start(d, ch)

    def _end_value(self) -> None:
        d = len(self.stack)
        if d <= self.watch and self.on_end is not None:
            self.on_end(d, "")
        self.st = _AFTER if self.stack else _DONE

    def _emit_str_char(self, c: str) -> None:
        out = _esc_char(c)
        self.sink.append(out)
        if self._keybuf is not None:
            self._keybuf.append(c)

    def _flush_hi(self) -> None:
        if self._hi:
            self._emit_str_char(chr(self._hi))
            self._hi = 0

    def _end_string(self) -> None:
        self._flush_hi()
        self.sink.append('"')
        if self._key:
            self._key = False
            if self._keybuf is not None:
                d = len(self.stack)
                if self.on_key is not None:
                    self.on_key(d - 1, "".join(self._keybuf))
                self._keybuf = None
            self.sink.append(":")
            self.st = _COLON
        else:
            self._end_value()

    def _start_key(self, quote: str) -> None:
        if self.comma:
            self.sink.append(",")
            self.comma = False
        self._key = True
        self._keybuf = [] if len(self.stack) - 1 <= self.watch else None
        self._quote = quote
        self.sink.append('"')
        self.st = _STR

    def _end_token(self) -> bool:
        """Finish a number or word token; False when it cannot be made valid."""
        tok = "".join(self._tok)
        self._tok = []
        if self.st == _NUM:
            if _NUM_OK.fullmatch(tok) is None:
                try:
                    num = float(tok)
                except ValueError:
                    return False
                if not math.isfinite(num):
                    return False
                tok = str(int(num)) if num.is_integer() and "." not in tok else repr(num)
                self.repaired = True
            self.sink.append(tok)
            self._end_value()
            return True
        if self._key:  # an unquoted key
            self._key = False
            self.repaired = True
            if self._keybuf is not None:
                self._keybuf = None
                if self.on_key is not None:
                    self.on_key(len(self.stack) - 1, tok)
            self.sink.append(encode_str(tok) + ":")
            self.st = _COLON
            return True
        word = _WORDS.get(tok)
        if word is None:
            word = _LENIENT_WORDS.get(tok)
            if word is None:
                return False
            self.repaired = True
        self.sink.append(word)
        self._end_value()
        return True

    def _close(self, ch: str) -> bool:
        want = "{" if ch == "}" else "["
        if not self.stack or self.stack[-1] != want:
            return False
        if self.comma:  # a trailing comma: dropped
            self.comma = False
            self.repaired = True
        self.stack.pop()
        self.sink.append(ch)
        self._end_value()
        return True

    # -- the scanner ------------------------------------------------------------------------

    def feed(self, s: str, i: int = 0) -> int:
        steps = 0
        if self.st == _STR and self._quote == '"' and not self._hi and self._keybuf is None:
            # Most deltas of a long argument continue a plain string: this is the loop's first
            # turn, taken without its setup, and often the whole delta.
            m = _DQ_RUN.match(s, i)
            if m is not None:
                self.sink.append(m.group())
                i = m.end()
                if i == len(s):
                    self.steps += 1
                    return i
                steps = 1
        try:
            n = len(s)
            sink = self.sink
            while i < n:
                steps += 1
                st = self.st
                if st in (_DONE, _FAILED):
                    return i
                if self.sink is not sink:
                    sink = self.sink
                if st == _STR:
                    if self._hi and s[i] != "\\":
                        self._flush_hi()
                    m = (_DQ_RUN if self._quote == '"' else _SQ_RUN).match(s, i)
                    if m is not None:
                        run = m.group()
                        sink.append(run)
                        if self._keybuf is not None:
                            self._keybuf.append(run)
                        i = m.end()
                        continue
                    c = s[i]
                    i += 1
                    if c == self._quote:
                        self._end_string()
                    elif c == "\\":
                        self.st = _ESC
                    elif c == '"':  # inside a single-quoted string
                        self._emit_str_char(c)
                    else:  # a raw control character
                        self.repaired = True
                        self._emit_str_char(c)
                    continue
                c = s[i]
                if st == _ESC:
                    i += 1
                    if c == "u":
                        self.st = _UHEX
                        self._hexbuf = ""
                        continue
                    self._flush_hi()
                    out = _SIMPLE_ESC.get(c)
                    if out is None:  # unknown escape: keep the backslash literally
                        self.repaired = True
                        self._emit_str_char("\\")
                        self._emit_str_char(c)
                    else:
                        if c == "'":
                            self.repaired = True
                        sink.append(out)
                        if self._keybuf is not None:
                            self._keybuf.append(_unescape_simple(c))
                    self.st = _STR
                    continue
                if st == _UHEX:
                    if c not in _HEX:
                        self.repaired = True
                        self._flush_hi()
                        self._emit_str_char("\\")
                        for h in "u" + self._hexbuf:
                            self._emit_str_char(h)
                        self.st = _STR
                        continue
                    i += 1
                    self._hexbuf += c
                    if len(self._hexbuf) == 4:
                        code = int(self._hexbuf, 16)
                        self.st = _STR
                        if 0xDC00 <= code <= 0xDFFF and self._hi:
                            joined = 0x10000 + ((self._hi - 0xD800) << 10) + (code - 0xDC00)
                            self._hi = 0
                            self._emit_str_char(chr(joined))
                        else:
                            self._flush_hi()
                            if 0xD800 <= code <= 0xDBFF:
                                self._hi = code
                            else:
                                self._emit_str_char(chr(code))
                    continue
                if st in (_NUM, _WORD):
                    m = (_NUM_RUN if st == _NUM else _WORD_RUN).match(s, i)
                    if m is not None:
                        self._tok.append(m.group())
                        i = m.end()
                        continue
                    if not self._end_token():
                        self.st = _FAILED
                        return i
                    continue
                if c in _WS:
                    m = _WS_RUN.match(s, i)
                    j = m.end() if m is not None else i + 1
                    ws, i = s[i:j], j
                    if st >= _SLASH:
                        if st == _LINE_COMMENT and "\n" in ws:
                            self.st = self._resume
                        elif st == _SLASH:
                            self.st = _FAILED
                            return i
                        elif st == _BLOCK_STAR:
                            self.st = _BLOCK_COMMENT
                    continue
                if st >= _SLASH:
                    i += 1
                    if st == _SLASH:
                        if c == "/":
                            self.st = _LINE_COMMENT
                        elif c == "*":
                            self.st = _BLOCK_COMMENT
                        else:
                            self.st = _FAILED
                            return i - 1
                    elif st == _LINE_COMMENT:
                        pass
                    elif st == _BLOCK_COMMENT:
                        if c == "*":
                            self.st = _BLOCK_STAR
                    elif st == _BLOCK_STAR:
                        if c == "/":
                            self.st = self._resume
                        elif c != "*":
                            self.st = _BLOCK_COMMENT
                    continue
                if c == "/":
                    self._resume = st
                    self.st = _SLASH
                    self.repaired = True
                    i += 1
                    continue
                if st == _AFTER:
                    if c == ",":
                        self.comma = True
                        self.st = _KEY_OR_CLOSE if self.stack[-1] == "{" else _VALUE_OR_CLOSE
                        i += 1
                        continue
                    if c == "}" or c == "]":
                        if not self._close(c):
                            self.st = _FAILED
                            return i
                        i += 1
                        if self.st == _DONE:
                            return i
                        continue
                    # a missing comma: insert it when what follows can start the next member
                    top = self.stack[-1]
                    if (top == "{" and (c in "\"'" or c.isalpha() or c == "_")) or (
                        top == "[" and (c in "\"'{[-" or c.isalnum())
                    ):
                        self.repaired = True
                        self.comma = True
                        self.st = _KEY_OR_CLOSE if top == "{" else _VALUE_OR_CLOSE
                        continue
                    self.st = _FAILED
                    return i
                if st == _COLON:
                    if c == ":":
                        self.st = _VALUE
                        i += 1
                        continue
                    self.st = _FAILED
                    return i
                if st == _KEY_OR_CLOSE:
                    if c == "}":
                        if not self._close(c):
                            self.st = _FAILED
                            return i
                        i += 1
                        if self.st == _DONE:
                            return i
                        continue
                    if c == '"' or c == "'":
                        if c == "'":
                            self.repaired = True
                        self._start_key(c)
                        i += 1
                        continue
                    if c.isalpha() or c == "_" or c == "$":
                        self._start_key('"')
                        self.sink.pop()  # the word path writes the whole quoted key
                        self.st = _WORD
                        continue
                    self.st = _FAILED
                    return i
                # _VALUE or _VALUE_OR_CLOSE
                if c == "]" and st == _VALUE_OR_CLOSE:
                    if not self._close(c):
                        self.st = _FAILED
                        return i
                    i += 1
                    if self.st == _DONE:
                        return i
                    continue
                if c == "{" or c == "[":
                    self._begin_value(c)
                    self.stack.append(c)
                    self.sink.append(c)
                    self.st = _KEY_OR_CLOSE if c == "{" else _VALUE_OR_CLOSE
                    i += 1
                    continue
                if c == '"' or c == "'":
                    if c == "'":
                        self.repaired = True
                    self._begin_value(c)
                    self._key = False
                    self._keybuf = None
                    self._quote = c
                    self.sink.append('"')
                    self.st = _STR
                    i += 1
                    continue
                if c == "-" or c == "+" or c == "." or c.isdigit():
                    self._begin_value(c)
                    self.st = _NUM
                    continue
                if c.isalpha():
                    self._begin_value(c)
                    self._key = False
                    self.st = _WORD
                    continue
                self.st = _FAILED
                return i
            return i
        finally:
            self.steps += steps

    def closers(self) -> str:
        """What completes the output emitted so far into valid JSON, in O(depth).

        For partial snapshots (a UI rendering arguments as they stream): parse
        ``"".join(sink) + closers()``. A value still being read counts as ``null`` (a string
        as what has arrived of it).
        """
        st = self.st
        if st in (_DONE, _FAILED) or not self.started:
            return ""
        if st >= _SLASH:
            st = self._resume
        out = []
        if st in (_STR, _ESC, _UHEX):
            out.append('":null' if self._key else '"')
        elif st == _COLON or (st in (_VALUE, _NUM, _WORD) and self.stack[-1:] == ["{"]):
            out.append("null")
        elif st in (_NUM, _WORD) and self.stack and self._key:
            out.append('"":null')
        elif st in (_NUM, _WORD) and self.sink and self.sink[-1].endswith(","):
            out.append("null")
        out.extend("}" if c == "{" else "]" for c in reversed(self.stack))
        return "".join(out)

    def finish(self) -> bool:
        """End of input: complete what can be completed; True when the value is whole now."""
        if self.st in (_NUM, _WORD) and not self._end_token():
            self.st = _FAILED
        if self.st == _DONE:
            return True
        if self.st == _FAILED or not self.started:
            return False
        self.repaired = True
        st = self.st
        if st == _UHEX:
            for h in "\\u" + self._hexbuf:
                self._emit_str_char(h)
            st = _STR
        if st == _ESC:
            st = _STR
        if st == _STR:
            self._end_string()
            st = self.st
        if st >= _SLASH:
            st = self._resume
        self.comma = False
        if st == _COLON or (st == _VALUE and self.stack and self.stack[-1] == "{"):
            self.sink.append("null")
        while self.stack:
            self._close("}" if self.stack[-1] == "{" else "]")
        self.st = _DONE
        return True


def _unescape_simple(c: str) -> str:
    return {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}.get(c, c)
