"""The JSON pieces every schema is built of: whitespace, strings, numbers, literal values.

Strings are single tokens whose characters are *JSON-encoded*: a pattern or a length is
stated over the decoded characters, so each character class becomes the raw characters JSON
allows plus the escapes of the rest (``"`` as ``\\"``, a newline as ``\\n``...). A constrained
string accepts the canonical escape of each character (what every JSON encoder writes); an
unconstrained one accepts every escape JSON allows.
"""

from __future__ import annotations

import json
from typing import Any

from toolwire.grammar._ir import (
    NOTHING,
    Alt,
    Chars,
    Lit,
    Node,
    Ref,
    Rep,
    Rules,
    Seq,
    alt,
    chars,
    lit,
    opt,
    rep,
    seq,
)
from toolwire.grammar._numbers import ANY_NUMBER, integer_range

__all__ = [
    "FORMATS",
    "JSON_CHAR",
    "any_value",
    "encode_chars",
    "json_literal",
    "string_of_length",
    "string_token",
    "ws",
]

_HEX = chars("0-9a-fA-F")
_SPECIAL = chars('"\\\x00-\x1f')
_RAW = _SPECIAL.complement()
_ESCAPED = seq(lit("\\"), alt(chars('"\\/bfnrt'), seq(lit("u"), rep(_HEX, 4, 4))))
JSON_CHAR: Node = alt(_RAW, _ESCAPED)
"""One character of a JSON string, as any encoder may write it."""


def ws(rules: Rules) -> Node:
    """JSON whitespace, free between any two JSON tokens."""
    return rules.define("ws", rep(chars(" \t\n\r"), 0, None), token=True)


def _escape(ch: str) -> str:
    return json.dumps(ch)[1:-1]


def encode_chars(node: Node) -> Node:
    """``node`` over decoded characters -> the same language over JSON-encoded text."""
    if isinstance(node, Lit):
        return lit(json.dumps(node.text, ensure_ascii=False)[1:-1])
    if isinstance(node, Chars):
        raw = node.minus(_SPECIAL)
        escaped = [
            lit(_escape(chr(cp)))
            for lo, hi in node.ranges
            for cp in range(lo, hi + 1)
            if cp < 0x20 or chr(cp) in '"\\'
        ]
        parts: list[Node] = [raw] if raw.ranges else []
        return alt(*parts, *escaped)
    if isinstance(node, Seq):
        return seq(*(encode_chars(n) for n in node.items))
    if isinstance(node, Alt):
        return alt(*(encode_chars(n) for n in node.items))
    if isinstance(node, Rep):
        return rep(encode_chars(node.item), node.lo, node.hi)
    raise TypeError(f"not a character-level node: {node!r}")


def string_token(rules: Rules, body: Node | None = None, *, hint: str = "string") -> Node:
    """A JSON string token: ``body`` is its content, already JSON-encoded (None: anything)."""
    content = rep(JSON_CHAR, 0, None) if body is None else body
    if content == NOTHING:
        return NOTHING
    return rules.define(hint, seq(lit('"'), content, lit('"')), token=True)


def string_of_length(lo: int, hi: int | None) -> Node:
    return rep(JSON_CHAR, lo, hi)


def json_literal(rules: Rules, value: Any) -> Node:
    """Exactly ``value`` (whitespace free inside objects and arrays, as in any JSON)."""
    if isinstance(value, dict):
        if not value:
            return seq(lit("{"), ws(rules), lit("}"))
        members = [
            seq(json_literal(rules, str(k)), ws(rules), lit(":"), ws(rules), json_literal(rules, v))
            for k, v in value.items()
        ]
        return _joined(rules, "{", members, "}")
    if isinstance(value, list):
        if not value:
            return seq(lit("["), ws(rules), lit("]"))
        return _joined(rules, "[", [json_literal(rules, v) for v in value], "]")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return lit(json.dumps(value, ensure_ascii=False))
    if isinstance(value, float) and value.is_integer():
        return alt(lit(str(int(value))), lit(json.dumps(value)))
    return lit(json.dumps(value))


def _joined(rules: Rules, open_: str, items: list[Node], close: str) -> Node:
    sep = seq(ws(rules), lit(","), ws(rules))
    body: list[Node] = [lit(open_), ws(rules), items[0]]
    for item in items[1:]:
        body += [sep, item]
    return seq(*body, ws(rules), lit(close))


def any_value(rules: Rules) -> Node:
    """Any JSON value (recursive rules, defined once per table)."""
    cached = rules.memo.get("any-value")
    if cached is not None:
        return cached
    value_name = rules.reserve("any-value")
    value = Ref(value_name)
    rules.memo["any-value"] = value
    w = ws(rules)
    sep = seq(w, lit(","), w)
    key = string_token(rules)
    member = seq(key, w, lit(":"), w, value)
    obj = rules.define(
        "any-object",
        seq(lit("{"), w, opt(seq(member, rep(seq(sep, member), 0, None), w)), lit("}")),
    )
    arr = rules.define(
        "any-array", seq(lit("["), w, opt(seq(value, rep(seq(sep, value), 0, None), w)), lit("]"))
    )
    number = rules.define("number", ANY_NUMBER, token=True)
    rules.fill(value_name, alt(obj, arr, key, number, lit("true"), lit("false"), lit("null")))
    return value


# -- formats ---------------------------------------------------------------------------------

_D = chars("0-9")


def _two(lo_first: str, rest: str) -> Node:
    return seq(chars(lo_first), chars(rest))


_DATE = seq(
    rep(_D, 4, 4),
    lit("-"),
    alt(seq(lit("0"), chars("1-9")), seq(lit("1"), chars("0-2"))),
    lit("-"),
    alt(seq(lit("0"), chars("1-9")), seq(chars("12"), _D), seq(lit("3"), chars("01"))),
)
_TIME = seq(
    alt(seq(chars("01"), _D), seq(lit("2"), chars("0-3"))),
    lit(":"),
    _two("0-5", "0-9"),
    lit(":"),
    alt(_two("0-5", "0-9"), lit("60")),
    opt(seq(lit("."), rep(_D, 1, None))),
    alt(
        chars("zZ"),
        seq(
            chars("+-"),
            alt(seq(chars("01"), _D), seq(lit("2"), chars("0-3"))),
            lit(":"),
            _two("0-5", "0-9"),
        ),
    ),
)
_H = _HEX
_OCTET = integer_range(0, 255)
FORMATS: dict[str, Node] = {
    "date": _DATE,
    "time": _TIME,
    "date-time": seq(_DATE, chars("Tt"), _TIME),
    "uuid": seq(
        rep(_H, 8, 8),
        lit("-"),
        rep(_H, 4, 4),
        lit("-"),
        rep(_H, 4, 4),
        lit("-"),
        rep(_H, 4, 4),
        lit("-"),
        rep(_H, 12, 12),
    ),
    "ipv4": seq(_OCTET, lit("."), _OCTET, lit("."), _OCTET, lit("."), _OCTET),
}
"""String formats written as grammars (their text needs no JSON escaping)."""
