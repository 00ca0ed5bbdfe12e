"""The grammar every syntax is written from: a few frozen node types and a rule table.

A schema or a call layout is compiled once into these nodes; :mod:`._lark` and :mod:`._gbnf`
only print them. Nodes are frozen and hashable, so identical sub-grammars (the JSON string of
every tool, the same enum twice) are defined once: :meth:`Rules.define` returns the existing
rule for a body it has already seen.

Two kinds of rule: *tokens* (one lexeme: a JSON string, a number, text up to a marker) and
*structural* rules (JSON objects, calls). Lark engines lex greedily, so where one lexeme ends
must never depend on what follows it; keeping lexemes to tokens the compilers choose is what
guarantees that (text before a marker is one token that *includes* the marker, see
:func:`until`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "EPS",
    "MAX_CHAR",
    "NOTHING",
    "Alt",
    "Chars",
    "Lit",
    "Node",
    "Ref",
    "Rep",
    "Rules",
    "Seq",
    "alt",
    "avoiding",
    "chars",
    "lit",
    "opt",
    "rep",
    "seq",
    "until",
]

MAX_CHAR = 0x10FFFF
# Code points a character class can hold (surrogates are not characters in UTF-8 text).
_UNIVERSE = ((0, 0xD7FF), (0xE000, MAX_CHAR))


@dataclass(frozen=True, slots=True)
class Lit:
    """Exactly this text."""

    text: str


@dataclass(frozen=True, slots=True)
class Chars:
    """One character from a set of code point ranges (sorted, merged, no surrogates)."""

    ranges: tuple[tuple[int, int], ...]

    def complement(self) -> Chars:
        return Chars(_subtract(_UNIVERSE, self.ranges))

    def minus(self, other: Chars) -> Chars:
        return Chars(_subtract(self.ranges, other.ranges))

    def union(self, other: Chars) -> Chars:
        return Chars(_normalize(self.ranges + other.ranges))

    def __contains__(self, char: str) -> bool:
        cp = ord(char)
        return any(lo <= cp <= hi for lo, hi in self.ranges)

    @property
    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]
    _hash: int = field(default=-1, compare=False, repr=False)

    def __hash__(self) -> int:
        # Rules dedupe by body: without the cache every lookup rehashes the whole subtree.
        if self._hash == -1:
            object.__setattr__(self, "_hash", hash((Seq, self.items)))
        return self._hash


@dataclass(frozen=True, slots=True)
class Alt:
    items: tuple[Node, ...]
    _hash: int = field(default=-1, compare=False, repr=False)

    def __hash__(self) -> int:
        # Rules dedupe by body: without the cache every lookup rehashes the whole subtree.
        if self._hash == -1:
            object.__setattr__(self, "_hash", hash((Alt, self.items)))
        return self._hash


@dataclass(frozen=True, slots=True)
class Rep:
    item: Node
    lo: int
    hi: int | None  # None: unbounded
    _hash: int = field(default=-1, compare=False, repr=False)

    def __hash__(self) -> int:
        # Rules dedupe by body: without the cache every lookup rehashes the whole subtree.
        if self._hash == -1:
            object.__setattr__(self, "_hash", hash((Rep, self.item, self.lo, self.hi)))
        return self._hash


@dataclass(frozen=True, slots=True)
class Ref:
    name: str


Node = Lit | Chars | Seq | Alt | Rep | Ref

EPS: Node = Lit("")
NOTHING: Node = Alt(())
"""The empty language: what an impossible schema compiles to (``alt``/``seq`` absorb it)."""


def lit(text: str) -> Node:
    return Lit(text)


def chars(spec: str) -> Chars:
    """A class from a compact spec: ``"a-z0-9_"`` (``-`` between two characters is a range)."""
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            ranges.append((ord(spec[i]), ord(spec[i + 2])))
            i += 3
        else:
            ranges.append((ord(spec[i]), ord(spec[i])))
            i += 1
    return Chars(_normalize(tuple(ranges)))


def seq(*items: Node) -> Node:
    out: list[Node] = []
    for item in items:
        if item is NOTHING:
            return NOTHING
        for part in item.items if type(item) is Seq else (item,):
            if type(part) is Lit:
                if not part.text:
                    continue
                if out and type(out[-1]) is Lit:
                    out[-1] = Lit(out[-1].text + part.text)
                    continue
            out.append(part)
    if not out:
        return EPS
    return out[0] if len(out) == 1 else Seq(tuple(out))


def alt(*items: Node) -> Node:
    out: list[Node] = []
    seen: set[Node] = set()
    for item in items:
        for part in item.items if type(item) is Alt else (item,):
            if part not in seen:
                seen.add(part)
                out.append(part)
    if not out:
        return NOTHING
    if len(out) == 1:
        return out[0]
    return Alt(tuple(out))


def rep(item: Node, lo: int, hi: int | None) -> Node:
    if hi is not None and hi < lo:
        return NOTHING
    if item is NOTHING:
        return EPS if lo == 0 else NOTHING
    if item is EPS or item == EPS or hi == 0:
        return EPS
    if lo == hi == 1:
        return item
    return Rep(item, lo, hi)


def opt(item: Node) -> Node:
    return rep(item, 0, 1)


def avoiding(word: str) -> Node:
    """Any text that does not contain ``word`` (a regular language, written without lookahead).

    Text is cut into blocks that each start at an occurrence of ``word[0]`` and run to just
    before the next; a block is bad exactly when it starts with the whole word. That needs
    ``word[0]`` to occur only once in ``word``, true of every call marker we know.
    """
    if not word:
        raise ValueError("cannot avoid the empty string")
    head, rest = word[0], word[1:]
    if head in rest:
        raise ValueError(f"marker {word!r} repeats its first character")
    other = chars(head).complement()  # characters inside a block, after its head
    # A block's rest (over `other`) must not start with `rest`: it is a proper prefix of
    # `rest`, or departs from it at some k. Written flat (2n alternatives), as engines limit
    # how deeply a grammar may nest.
    tails: list[Node] = [lit(rest[:k]) for k in range(len(rest))]
    tails += [
        seq(lit(rest[:k]), other.minus(chars(rest[k])), rep(other, 0, None))
        for k in range(len(rest))
    ]
    block = seq(lit(head), alt(*tails)) if rest else NOTHING
    return seq(rep(other, 0, None), rep(block, 0, None))


def until(word: str) -> Node:
    """Any text up to and including the first ``word``: one lexeme however the text goes on."""
    return seq(avoiding(word), lit(word))


class Rules:
    """Named rules; identical bodies share one name. ``tokens`` are single lexemes."""

    def __init__(self) -> None:
        self.rules: dict[str, Node] = {}
        self.tokens: set[str] = set()
        self._names: set[str] = set()
        self._by_body: dict[tuple[Node, bool], str] = {}
        #: compiled pieces shared by everything in this table (the any-JSON rules, $refs...)
        self.memo: dict[object, Node] = {}

    def define(self, hint: str, body: Node, *, token: bool = False, keep: bool = False) -> Node:
        """A reference to a rule with this body (an existing one when the body is known).

        A literal or a reference is returned as it is, unless ``keep``: a literal kept in its
        own rule stays its own lexeme instead of fusing with the text before it.
        """
        if isinstance(body, Ref) or body in (EPS, NOTHING) or (isinstance(body, Lit) and not keep):
            return body
        key = (body, token)
        name = self._by_body.get(key)
        if name is None:
            name = self.reserve(hint, token=token)
            self.rules[name] = body
            self._by_body[key] = name
        return Ref(name)

    def reserve(self, hint: str, *, token: bool = False) -> str:
        """A fresh name whose body is given later with :meth:`fill` (for recursion)."""
        base = _rule_name(hint)
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}-{n}"
        self._names.add(name)
        if token:
            self.tokens.add(name)
        return name

    def fill(self, name: str, body: Node) -> None:
        self.rules[name] = body


def _rule_name(hint: str) -> str:
    # GBNF names are [a-zA-Z0-9-]; lowercase + dashes survive llguidance's GBNF reader too.
    name = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:40].strip("-")
    if not name or not name[0].isalpha():
        name = "r-" + name if name else "r"
    if name in ("root", "start"):
        name = name + "-rule"
    return name


def _normalize(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    clipped = []
    for lo, hi in ranges:
        for ulo, uhi in _UNIVERSE:
            a, b = max(lo, ulo), min(hi, uhi)
            if a <= b:
                clipped.append((a, b))
    clipped.sort()
    out: list[tuple[int, int]] = []
    for lo, hi in clipped:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _subtract(
    base: tuple[tuple[int, int], ...], cut: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in base:
        pieces = [(lo, hi)]
        for clo, chi in cut:
            nxt = []
            for plo, phi in pieces:
                if chi < plo or clo > phi:
                    nxt.append((plo, phi))
                    continue
                if plo < clo:
                    nxt.append((plo, clo - 1))
                if chi < phi:
                    nxt.append((chi + 1, phi))
            pieces = nxt
        out.extend(pieces)
    return _normalize(tuple(out))
