"""JSON Schema ``pattern`` (ECMA-262 regex) to grammar nodes over the string's characters.

A pattern matches anywhere in the string unless anchored, so an unanchored side gets "any
characters". Supported: literals and escapes, classes (ranges, negation, ``\\d\\w\\s`` and their
negations), ``.``, groups (capturing, ``(?:``, named), alternation, every quantifier (laziness
does not change the language), and ``^``/``$`` at the ends of the top-level alternatives.
Lookarounds, backreferences, word boundaries and ``\\p{..}`` raise :class:`PatternError`: the
caller reports the pattern as not enforced rather than guessing.
"""

from __future__ import annotations

from toolwire.grammar._ir import Chars, Node, alt, chars, lit, rep, seq

__all__ = ["ANY_CHAR", "PatternError", "parse_pattern"]

ANY_CHAR = Chars(()).complement()  # every character
_LINE_ENDS = chars("\n\r\u2028\u2029")
_DOT = _LINE_ENDS.complement()
_DIGIT = chars("0-9")
_WORD = chars("a-zA-Z0-9_")
_SPACE = chars("\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_CLASS_ESCAPES = {
    "d": _DIGIT,
    "D": _DIGIT.complement(),
    "w": _WORD,
    "W": _WORD.complement(),
    "s": _SPACE,
    "S": _SPACE.complement(),
}
_CHAR_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
_MAX_REPEAT = 1000


class PatternError(ValueError):
    """The pattern uses a feature a context-free grammar cannot express (or is malformed)."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        if not ch:
            raise PatternError("unexpected end of pattern")
        self.pos += 1
        return ch

    # alternatives ::= sequence ("|" sequence)*
    def alternatives(self, top: bool) -> Node:
        branches = [self.branch(top)]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.branch(top))
        return alt(*branches)

    def branch(self, top: bool) -> Node:
        anchored_start = False
        if self.peek() == "^":
            if not top:
                raise PatternError("'^' inside a group")
            self.pos += 1
            anchored_start = True
        items: list[Node] = []
        anchored_end = False
        while self.peek() and self.peek() not in "|)":
            if self.peek() == "$":
                self.pos += 1
                if not top or (self.peek() and self.peek() not in "|"):
                    raise PatternError("'$' before the end of the pattern")
                anchored_end = True
                break
            items.append(self.quantified())
        body = seq(*items)
        if top:
            anything = rep(ANY_CHAR, 0, None)
            body = seq(
                body if anchored_start else seq(anything, body),
                *(() if anchored_end else (anything,)),
            )
        return body

    def quantified(self) -> Node:
        atom = self.atom()
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{" and self._is_braces():
            lo, hi = self.braces()
        else:
            return atom
        if self.peek() == "?":  # lazy: same language
            self.pos += 1
        if lo > _MAX_REPEAT or (hi is not None and hi > _MAX_REPEAT):
            raise PatternError(f"a repetition bound above {_MAX_REPEAT}")
        return rep(atom, lo, hi)

    def _is_braces(self) -> bool:
        end = self.text.find("}", self.pos)
        if end < 0:
            return False
        inner = self.text[self.pos + 1 : end]
        lo, _, hi = inner.partition(",")
        return lo.isdigit() and (hi == "" or hi.isdigit())

    def braces(self) -> tuple[int, int | None]:
        end = self.text.index("}", self.pos)
        inner = self.text[self.pos + 1 : end]
        self.pos = end + 1
        lo, comma, hi = inner.partition(",")
        if not comma:
            return int(lo), int(lo)
        return int(lo), int(hi) if hi else None

    def atom(self) -> Node:
        ch = self.take()
        if ch == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.text.startswith("?<", self.pos) and self.text[
                self.pos + 2 : self.pos + 3
            ] not in (
                "=",
                "!",
            ):
                self.pos = self.text.index(">", self.pos) + 1  # a named group
            elif self.peek() == "?":
                raise PatternError("lookaround or inline flags")
            inner = self.alternatives(top=False)
            if self.take() != ")":
                raise PatternError("unbalanced parenthesis")
            return inner
        if ch == "[":
            return self.char_class()
        if ch == ".":
            return _DOT
        if ch == "\\":
            return self.escape(in_class=False)
        if ch in ")*+?":
            raise PatternError(f"unexpected {ch!r}")
        if ch in "^$":
            raise PatternError(f"anchor {ch!r} inside the pattern")
        return lit(ch)

    def escape(self, in_class: bool) -> Chars | Node:
        ch = self.take()
        if ch in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[ch]
        if ch in _CHAR_ESCAPES and not (ch == "0" and self.peek().isdigit()):
            return lit(_CHAR_ESCAPES[ch])
        if ch == "x":
            return lit(chr(self._hex(2)))
        if ch == "u":
            if self.peek() == "{":
                end = self.text.index("}", self.pos)
                value = int(self.text[self.pos + 1 : end], 16)
                self.pos = end + 1
                return lit(chr(value))
            return lit(chr(self._hex(4)))
        if ch == "c":
            return lit(chr(ord(self.take()) % 32))
        if ch in "bB" and not in_class:
            raise PatternError("word boundary")
        if ch == "b":
            return lit("\b")
        if ch.isdigit() or ch == "k":
            raise PatternError("backreference")
        if ch in "pP":
            raise PatternError("Unicode property escape")
        return lit(ch)  # an escaped punctuation character stands for itself

    def _hex(self, n: int) -> int:
        digits = self.text[self.pos : self.pos + n]
        if len(digits) != n or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise PatternError("malformed hex escape")
        self.pos += n
        return int(digits, 16)

    def char_class(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        members = Chars(())
        first = True
        while True:
            ch = self.take()
            if ch == "]" and not first:
                break
            first = False
            start = self._class_atom(ch)
            if isinstance(start, Chars) and not (len(start.ranges) == 1 and start.size == 1):
                members = members.union(start)
                continue
            lo = _single(start)
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self._class_atom(self.take())
                hi = _single(end)
                if hi < lo:
                    raise PatternError("a class range out of order")
                members = members.union(Chars(((lo, hi),)))
            else:
                members = members.union(Chars(((lo, lo),)))
        return members.complement() if negated else members

    def _class_atom(self, ch: str) -> Chars | Node:
        if ch == "\\":
            return self.escape(in_class=True)
        if ch == "[" and self.peek() == ":":
            raise PatternError("POSIX class")
        return lit(ch)


def _single(node: Chars | Node) -> int:
    if isinstance(node, Chars):
        return node.ranges[0][0]
    text = getattr(node, "text", "")
    if len(text) != 1:
        raise PatternError("a class escape used as a range bound")
    return ord(text)


def parse_pattern(pattern: str) -> Node:
    """Nodes accepting the strings (as characters) that ``pattern`` matches somewhere in."""
    parser = _Parser(pattern)
    try:
        node = parser.alternatives(top=True)
    except (IndexError, ValueError) as exc:
        if isinstance(exc, PatternError):
            raise
        raise PatternError(f"malformed pattern: {exc}") from None
    if parser.pos != len(pattern):
        raise PatternError("unbalanced parenthesis")
    return node
