"""JSON numbers within bounds, as regular languages over their decimal digits.

``integer_range(lo, hi)`` and ``decimal_range(lo, hi, ...)`` accept exactly the JSON number
texts whose value lies in the range. Bounded numbers are written without an exponent (a model
never needs ``1e2`` for a bounded argument, and digit-wise comparison needs plain digits);
unbounded ones accept every JSON number.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from toolwire.grammar._ir import EPS, NOTHING, Node, alt, chars, lit, opt, rep, seq

__all__ = ["ANY_INTEGER", "ANY_NUMBER", "decimal_range", "integer_range"]

DIGIT = chars("0-9")
_INT_PART = alt(lit("0"), seq(chars("1-9"), rep(DIGIT, 0, None)))
ANY_INTEGER: Node = seq(opt(lit("-")), _INT_PART)
ANY_NUMBER: Node = seq(
    ANY_INTEGER,
    opt(seq(lit("."), rep(DIGIT, 1, None))),
    opt(seq(chars("eE"), opt(chars("+-")), rep(DIGIT, 1, None))),
)


def _digit(lo: int, hi: int) -> Node:
    return lit(str(lo)) if lo == hi else chars(f"{lo}-{hi}")


def _same_length(lo: str, hi: str) -> Node:
    """Digit strings of one length between ``lo`` and ``hi`` (inclusive, as strings)."""
    if not lo:
        return EPS
    a, b = int(lo[0]), int(hi[0])
    n = len(lo) - 1
    if a == b:
        return seq(lit(lo[0]), _same_length(lo[1:], hi[1:]))
    if lo[1:] == "0" * n and hi[1:] == "9" * n:
        return seq(_digit(a, b), rep(DIGIT, n, n))
    parts = [seq(lit(lo[0]), _same_length(lo[1:], "9" * n))]
    if b - a > 1:
        parts.append(seq(_digit(a + 1, b - 1), rep(DIGIT, n, n)))
    parts.append(seq(lit(hi[0]), _same_length("0" * n, hi[1:])))
    return alt(*parts)


def _naturals(lo: int, hi: int | None) -> Node:
    """Canonical decimal texts (no leading zero) of the integers in [lo, hi], lo >= 0."""
    if hi is not None and hi < lo:
        return NOTHING
    parts: list[Node] = []
    width = len(str(lo))
    while hi is None or width <= len(str(hi)):
        first = max(lo, 10 ** (width - 1) if width > 1 else 0)
        last = 10**width - 1 if hi is None else min(hi, 10**width - 1)
        if first <= last:
            parts.append(_same_length(str(first).zfill(width), str(last)))
        width += 1
        if hi is None:
            # every longer width: a non-zero digit then any digits
            parts.append(seq(chars("1-9"), rep(DIGIT, width - 1, None)))
            break
    return alt(*parts) if parts else NOTHING


def integer_range(lo: int | None, hi: int | None) -> Node:
    """JSON integers in [lo, hi] (None: unbounded on that side)."""
    if lo is None and hi is None:
        return ANY_INTEGER
    parts: list[Node] = []
    if hi is None or hi >= 0:
        parts.append(_naturals(max(lo or 0, 0) if lo is not None else 0, hi))
    if lo is None or lo < 0:
        mag_lo = 1 if hi is None or hi >= 0 else -hi
        parts.append(seq(lit("-"), _naturals(mag_lo, None if lo is None else -lo)))
    return alt(*parts)


# -- decimals --------------------------------------------------------------------------------

_Bound = tuple[str, bool] | None  # fraction digits (no trailing zeros) and strictness


@lru_cache(maxsize=4096)
def _fraction(low: _Bound, high: _Bound) -> tuple[bool, Node]:
    """Digit strings f (after the point) with low <= 0.f <= high: (f may be empty, the rest)."""
    if low is not None and low[0] == "" and not low[1]:
        low = None  # 0.f >= 0 always holds
    if low is None and high is None:
        return True, rep(DIGIT, 1, None)
    if high is not None and high[0] == "":
        if high[1] or low is not None:  # 0.f < 0, or 0 < 0.f <= 0: impossible
            return False, NOTHING
        return True, rep(lit("0"), 1, None)  # 0.f <= 0: only zeros
    if low is not None and low[0] == "" and high is None:  # 0.f > 0
        return False, seq(rep(lit("0"), 0, None), chars("1-9"), rep(DIGIT, 0, None))
    empty_ok = low is None  # 0 >= low needs low == 0 (handled above), so only if unbounded
    groups: dict[tuple[_Bound, _Bound], list[int]] = {}
    for c in range(10):
        if low is not None:
            l0 = int(low[0][0]) if low[0] else 0  # "" strict: 0.f > 0, zeros may lead
            if c < l0:
                continue
            sub_low: _Bound = (low[0][1:], low[1]) if c == l0 else None
        else:
            sub_low = None
        if high is not None:
            h0 = int(high[0][0])
            if c > h0:
                continue
            sub_high: _Bound = (high[0][1:], high[1]) if c == h0 else None
        else:
            sub_high = None
        groups.setdefault((sub_low, sub_high), []).append(c)
    parts: list[Node] = []
    for (sub_low, sub_high), digits in groups.items():
        sub_empty, sub_rest = _fraction(sub_low, sub_high)
        tail = alt(EPS, sub_rest) if sub_empty else sub_rest
        if tail == NOTHING:
            continue
        parts.append(seq(_digit_class(digits), tail))
    return empty_ok, alt(*parts) if parts else NOTHING


def _digit_class(digits: list[int]) -> Node:
    if len(digits) == 1:
        return lit(str(digits[0]))
    if digits == list(range(digits[0], digits[-1] + 1)):
        return _digit(digits[0], digits[-1])
    return alt(*(lit(str(d)) for d in digits))


def _split(value: Decimal) -> tuple[int, str]:
    """Integer part and fraction digits (trailing zeros dropped) of a value >= 0."""
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    return int(whole), frac.rstrip("0")


def _with_fraction(int_part: Node, frac: tuple[bool, Node]) -> Node:
    empty_ok, rest = frac
    dotted = seq(lit("."), rest)
    return seq(int_part, alt(EPS, dotted) if empty_ok else dotted)


def _nonnegative(low: tuple[Decimal, bool], high: tuple[Decimal, bool] | None) -> Node:
    """Texts of values x >= 0 with low <= x (strict if low[1]) and x <= high."""
    ia, fa = _split(low[0])
    low_frac: _Bound = (fa, low[1])
    if high is None:
        return alt(
            _with_fraction(lit(str(ia)), _fraction(low_frac, None)),
            _with_fraction(_naturals(ia + 1, None), _fraction(None, None)),
        )
    ib, fb = _split(high[0])
    high_frac: _Bound = (fb, high[1])
    if ia == ib:
        return _with_fraction(lit(str(ia)), _fraction(low_frac, high_frac))
    return alt(
        _with_fraction(lit(str(ia)), _fraction(low_frac, None)),
        _with_fraction(_naturals(ia + 1, ib - 1), _fraction(None, None)),
        _with_fraction(lit(str(ib)), _fraction(None, high_frac)),
    )


def decimal_range(
    lo: Decimal | None, hi: Decimal | None, *, lo_strict: bool = False, hi_strict: bool = False
) -> Node:
    """JSON numbers (no exponent when bounded) with lo <= x <= hi (< when strict)."""
    if lo is None and hi is None:
        return ANY_NUMBER
    if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_strict or hi_strict))):
        return NOTHING
    parts: list[Node] = []
    if hi is None or hi > 0 or (hi == 0 and not hi_strict):
        low = (lo, lo_strict) if lo is not None and lo >= 0 else (Decimal(0), False)
        parts.append(_nonnegative(low, None if hi is None else (hi, hi_strict)))
    if lo is None or lo < 0:
        # -m with m in (max(0, -hi), -lo]: the magnitude's bounds swap sides
        if hi is not None and hi < 0:
            m_low = (-hi, hi_strict)
        else:
            m_low = (Decimal(0), True)  # 0 itself is written without a sign
        parts.append(seq(lit("-"), _nonnegative(m_low, None if lo is None else (-lo, lo_strict))))
    return alt(*parts) if parts else NOTHING
