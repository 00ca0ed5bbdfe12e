"""Gemma's call syntax, ``call:name{key:value,...}``, shared by Gemma 4 and FunctionGemma.

Keys are bare words; a string is wrapped in the family's delimiter (Gemma 4 ``<|"|>``,
FunctionGemma ``<escape>``) and is otherwise raw text (no escapes); objects ``{...}`` and
arrays ``[...]`` nest; any other value is a bare word: ``true``/``false``/``null``, a number,
or else text. The whole call is read up to the family's end token, then turned into JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from toolwire.parsing._base import Engine, Run, Until
from toolwire.parsing._jsonscan import canon
from toolwire.parsing._values import coerce, param_schema

__all__ = ["GemmaSyntax", "gemma_call", "parse_gemma_args"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GemmaSyntax:
    open: str
    close: str
    delim: str
    #: top-level strings are typed like text values (FunctionGemma writes 42 as a string)
    typed_strings: bool = False


class _Bad(ValueError):
    pass


class _Reader:
    def __init__(self, text: str, delim: str) -> None:
        self.s, self.i, self.d = text, 0, delim

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def string(self) -> str:
        end = self.s.find(self.d, self.i + len(self.d))
        if end == -1:
            raise _Bad("a string without its closing delimiter")
        out = self.s[self.i + len(self.d) : end]
        self.i = end + len(self.d)
        return out

    def value(self) -> tuple[Any, bool]:
        """(value, was a delimited string)."""
        self.ws()
        if self.s.startswith(self.d, self.i):
            return self.string(), True
        if self.s.startswith("{", self.i):
            return self.obj(), False
        if self.s.startswith("[", self.i):
            return self.arr(), False
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in ",}]":
            self.i += 1
        word = self.s[start : self.i].strip()
        if not word:
            raise _Bad("a missing value")
        try:
            return json.loads(word), False
        except ValueError:
            return word, False

    def obj(self) -> dict[str, Any]:
        self.i += 1  # "{"
        out: dict[str, Any] = {}
        self.ws()
        if self.s.startswith("}", self.i):
            self.i += 1
            return out
        while True:
            self.ws()
            if self.s.startswith(self.d, self.i):
                key = self.string()
            else:
                colon = self.s.find(":", self.i)
                if colon == -1:
                    raise _Bad("a key without ':'")
                key = self.s[self.i : colon].strip()
                self.i = colon
            self.ws()
            if not self.s.startswith(":", self.i):
                raise _Bad("a key without ':'")
            self.i += 1
            out[key] = self.value()[0]
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("}", self.i):
                self.i += 1
                return out
            raise _Bad("an object without its '}'")

    def arr(self) -> list[Any]:
        self.i += 1  # "["
        out: list[Any] = []
        self.ws()
        if self.s.startswith("]", self.i):
            self.i += 1
            return out
        while True:
            out.append(self.value()[0])
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("]", self.i):
                self.i += 1
                return out
            raise _Bad("an array without its ']'")


def parse_gemma_args(
    text: str, syntax: GemmaSyntax, eng: Engine | None = None, name: str = ""
) -> dict[str, Any]:
    """``{key:value,...}`` as a dict; ValueError when it cannot be read."""
    r = _Reader(text, syntax.delim)
    r.ws()
    if not r.s.startswith("{", r.i):
        raise _Bad("arguments that do not open with '{'")
    parsed = r.obj()
    if text[r.i :].strip():
        raise _Bad("text after the arguments")
    out: dict[str, Any] = {}
    # top-level strings: typed by the tool's schema (and, for FunctionGemma, like text values)
    for key, value in parsed.items():
        out[key] = value
        if isinstance(value, str) and eng is not None:
            schema = param_schema(eng.schemas, name, key)
            if schema is not None or syntax.typed_strings:
                out[key] = coerce(value, schema)
    return out


def gemma_call(eng: Engine, syntax: GemmaSyntax, marker: str = "") -> Run:
    """After the family's open token: ``call:name{...}`` up to its close token."""
    head = Until(("{", syntax.close, syntax.open), "collect", consume=False)
    m = yield head
    text = head.text.strip()
    if m != "{" or not text.startswith("call:") or not text[5:].strip():
        rest = Until((syntax.close, syntax.open), "collect")
        if (yield rest) == syntax.open:
            eng.unread(syntax.open)
        eng.fail_call(None, "not a call:name{...} call", head.text + rest.text)
        return
    name = text[5:].strip()
    call = eng.start_call(name)
    body = Until((syntax.close, syntax.open), "collect")
    end = yield body
    if end == syntax.open:
        eng.unread(syntax.open)
    try:
        args = parse_gemma_args(body.text, syntax, eng, name)
    except ValueError as exc:
        eng.fail_call(call, f"malformed arguments: {exc}", head.text + body.text)
        return
    eng.args(call, canon(args))
    eng.finish_call(call, repaired=end != syntax.close)
