"""llguidance as the engine that runs our grammars, byte by byte, and JSON renderings to feed it.

``Engine.of(grammar, syntax)`` compiles a grammar the way a server would (Lark directly, GBNF
through llguidance's own GBNF reader); ``accepts(text)`` walks it one byte per token with the
byte tokenizer and says whether the whole text is a complete, valid output.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from service_checks import need

try:
    import llguidance as llg
except ImportError:  # pragma: no cover - the dev extra installs it
    llg = None

_TOKENIZER: Any = None


def tokenizer() -> Any:
    global _TOKENIZER
    need(llg is not None, "llguidance is not installed (pip install -e '.[dev]')")
    if _TOKENIZER is None:
        _TOKENIZER = llg.LLTokenizer("byte")
    return _TOKENIZER


class Engine:
    """One compiled grammar; ``accepts`` starts from a fresh copy every time."""

    def __init__(self, matcher: Any) -> None:
        self._matcher = matcher

    @classmethod
    def of(cls, grammar: str, syntax: str = "lark") -> Engine:
        tok = tokenizer()
        # "llguidance": already compiled (grammar_from's output)
        compiled = grammar if syntax == "llguidance" else llg.grammar_from(syntax, grammar)
        matcher = llg.LLMatcher(tok, compiled, log_level=0)
        if matcher.is_error():
            pytest.fail(
                f"llguidance refused the {syntax} grammar: {matcher.get_error()}\n{grammar}"
            )
        return cls(matcher)

    def why_not(self, text: str) -> str | None:
        """None when ``text`` is accepted whole; else where it fails."""
        m = self._matcher.deep_copy()
        data = text.encode()
        for i, byte in enumerate(data):
            if not m.consume_token(byte):
                return f"byte {i} ({data[max(0, i - 30) : i + 1]!r})"
        if not m.is_accepting():
            return "the text ends before the grammar does"
        return None

    def accepts(self, text: str) -> bool:
        return self.why_not(text) is None


def engines(grammars: dict[str, str]) -> dict[str, Engine]:
    return {syntax: Engine.of(text, syntax) for syntax, text in grammars.items()}


# -- rendering -------------------------------------------------------------------------------

_WS = ["", " ", "  ", "\n", "\t", "\r\n", " \n  "]


def render(value: Any, rnd: random.Random | None = None) -> str:
    """``value`` as JSON with (when ``rnd`` is given) random whitespace between tokens."""

    def w() -> str:
        return rnd.choice(_WS) if rnd is not None else ""

    if isinstance(value, dict):
        if not value:
            return "{" + w() + "}"
        items = [f"{w()}{json.dumps(k, ensure_ascii=False)}{w()}:{w()}{render(v, rnd)}{w()}"
                 for k, v in value.items()]  # fmt: skip
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        if not value:
            return "[" + w() + "]"
        return "[" + ",".join(f"{w()}{render(v, rnd)}{w()}" for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def call_text(name: str, arguments: Any, rnd: random.Random | None = None) -> str:
    """The ``json`` format's single call."""
    return render({"name": name, "arguments": arguments}, rnd)
