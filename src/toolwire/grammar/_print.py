"""Print a rule table as Lark (llguidance's dialect) or GBNF (llama.cpp).

Both printers walk the same nodes; they differ in how a literal, a character class and a rule
name are spelt. In Lark, tokens become terminals (UPPERCASE, one lexeme each) and the rest
rules; GBNF has no such distinction (llama.cpp matches character by character).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from toolwire.grammar._ir import Alt, Chars, Lit, Node, Ref, Rep, Rules, Seq

__all__ = ["to_gbnf", "to_lark"]

_ALT, _SEQ, _ATOM = 0, 1, 2


def _walk(
    node: Node,
    lit: Callable[[str], str],
    cls: Callable[[Chars], str],
    ref: Callable[[str], str],
) -> tuple[str, int]:
    if isinstance(node, Lit):
        return lit(node.text), _ATOM
    if isinstance(node, Chars):
        return cls(node), _ATOM
    if isinstance(node, Ref):
        return ref(node.name), _ATOM
    if isinstance(node, Seq):
        parts = [_walk(n, lit, cls, ref) for n in node.items]
        return " ".join(t if p > _ALT else f"({t})" for t, p in parts), _SEQ
    if isinstance(node, Alt):
        if not node.items:
            raise ValueError("the empty language cannot be printed")
        return " | ".join(_walk(n, lit, cls, ref)[0] for n in node.items), _ALT
    assert isinstance(node, Rep)
    text, prec = _walk(node.item, lit, cls, ref)
    if prec < _ATOM:
        text = f"({text})"
    lo, hi = node.lo, node.hi
    if (lo, hi) == (0, None):
        return text + "*", _ATOM
    if (lo, hi) == (1, None):
        return text + "+", _ATOM
    if (lo, hi) == (0, 1):
        return text + "?", _ATOM
    if lo == hi:
        return f"{text}{{{lo}}}", _ATOM
    return f"{text}{{{lo},{'' if hi is None else hi}}}", _ATOM


# -- Lark ------------------------------------------------------------------------------------

_RX_CLASS_SPECIAL = set("\\]-[^&~/")


def _rx_char(cp: int) -> str:
    ch = chr(cp)
    if ch in _RX_CLASS_SPECIAL:
        return "\\" + ch
    if cp < 0x20 or cp == 0x7F:
        return f"\\x{{{cp:x}}}"
    return ch


def _shorter(node: Chars) -> tuple[Chars, str]:
    # [^...] when that lists fewer ranges; never an empty [^] (not valid in either syntax)
    negate = node.complement()
    if not negate.ranges or len(node.ranges) <= len(negate.ranges):
        return node, ""
    return negate, "^"


def _lark_class(node: Chars) -> str:
    body, neg = _shorter(node)
    inner = "".join(
        _rx_char(lo) if lo == hi else f"{_rx_char(lo)}-{_rx_char(hi)}" for lo, hi in body.ranges
    )
    return f"/[{neg}{inner}]/"


def _lark_lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _reachable(rules: Rules, start: Node) -> list[str]:
    """Rule names used from ``start``, in definition order (dedupe leaves some unused)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            if node.name not in seen:
                seen.add(node.name)
                stack.append(rules.rules[node.name])
        elif isinstance(node, (Seq, Alt)):
            stack.extend(node.items)
        elif isinstance(node, Rep):
            stack.append(node.item)
    return [name for name in rules.rules if name in seen]


def to_lark(rules: Rules, start: Node) -> str:
    """Lark text for llguidance (vLLM/SGLang ``guidance`` backend, llama.cpp with llguidance)."""

    def ref(name: str) -> str:
        return name.upper() if name in rules.tokens else name

    lines = ["%llguidance {}", "", "start: " + _walk(start, _lark_lit, _lark_class, ref)[0]]
    for name in _reachable(rules, start):
        lines.append(f"{ref(name)}: {_walk(rules.rules[name], _lark_lit, _lark_class, ref)[0]}")
    return "\n".join(lines) + "\n"


# -- GBNF ------------------------------------------------------------------------------------

_GBNF_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _gbnf_escape(cp: int, in_class: bool) -> str:
    ch = chr(cp)
    if ch in _GBNF_SHORT:
        return _GBNF_SHORT[ch]
    if in_class and ch in "[]":
        return "\\" + ch
    # llguidance's GBNF reader turns a class into a Rust regex class: keep its operators out
    if cp < 0x20 or cp == 0x7F or (in_class and ch in "-^&~/"):
        return f"\\x{cp:02X}"
    return ch  # everything else as UTF-8 text, which both readers take as it is


def _gbnf_class(node: Chars) -> str:
    body, neg = _shorter(node)

    def one(cp: int) -> str:
        return _gbnf_escape(cp, True)

    inner = "".join(one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in body.ranges)
    return f"[{neg}{inner}]"


def _gbnf_lit(text: str) -> str:
    return '"' + "".join(_gbnf_escape(ord(c), False) for c in text) + '"'


def to_gbnf(rules: Rules, start: Node) -> str:
    """GBNF text: llama.cpp's ``grammar``, xgrammar's EBNF (vLLM ``grammar``, SGLang ``ebnf``)."""
    lines = ["root ::= " + _walk(start, _gbnf_lit, _gbnf_class, str)[0]]
    for name in _reachable(rules, start):
        lines.append(f"{name} ::= {_walk(rules.rules[name], _gbnf_lit, _gbnf_class, str)[0]}")
    return "\n".join(lines) + "\n"
