"""JSON in and out, fast (orjson) and faithful (non-ASCII kept as text, big ints kept exact)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from decimal import Decimal
from typing import Any

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_CANONICAL_OPTS = _OPTS | orjson.OPT_SORT_KEYS
_orjson_dumps = orjson.dumps


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Decimal):
        return str(obj)
    if hasattr(obj, "model_dump"):  # pydantic models, without importing pydantic here
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps_bytes(obj: Any, *, canonical: bool = False) -> bytes:
    """Serialize to UTF-8 JSON bytes.

    Two cases orjson refuses are handled so that nothing a model or a client sent can make an
    answer unserializable: ints beyond 64 bits go through the stdlib (kept exact), and strings
    holding lone surrogates (undecodable request bytes echoed in an error, say) are written
    with those characters shown as ``\\xff``-style text, which every JSON parser accepts.
    """
    options = _CANONICAL_OPTS if canonical else _OPTS
    try:
        return orjson.dumps(obj, default=_default, option=options)
    except TypeError as exc:
        message = str(exc)
        if "surrogates" in message:
            return dumps_bytes(_without_surrogates(obj), canonical=canonical)
        if "64-bit" not in message:
            raise
        return json.dumps(
            obj,
            default=_default,
            ensure_ascii=False,
            sort_keys=canonical,
            separators=(",", ":"),
        ).encode()


def _visible(text: str) -> str:
    try:  # bytes smuggled in by a "surrogateescape" decode: show them as the bytes they were
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a genuine lone surrogate
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _without_surrogates(obj: Any) -> Any:
    if isinstance(obj, str):
        return _visible(obj)
    if isinstance(obj, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_without_surrogates(v) for v in obj]
    if hasattr(obj, "to_dict") or dataclasses.is_dataclass(obj) or hasattr(obj, "model_dump"):
        return _without_surrogates(_default(obj))
    return obj


def dumps(obj: Any, *, canonical: bool = False) -> str:
    """Serialize to a JSON ``str`` with non-ASCII characters as text (never ``\\uXXXX``)."""
    if not canonical:
        # The hot path (every result sent back to a model): one orjson call without options
        # (they cost ~40% of a small dump); non-str keys, numpy arrays and ints beyond 64 bits
        # raise TypeError here and take the full path below.
        try:
            return _orjson_dumps(obj, default=_default).decode()
        except TypeError:
            pass
    return dumps_bytes(obj, canonical=canonical).decode()


# orjson reads integers beyond 64 bits as floats, and refuses those beyond a double's range
# with this message; both are valid JSON, so such texts are read again by the stdlib.
_OUT_OF_RANGE = "number is infinity when parsed as double"
# Every digit -> "0", every other byte -> " ": a run of 19 digits is then a substring search,
# several times faster than a regular expression (this runs on every parse).
_DIGITS_ONLY = bytes(48 if 48 <= b < 58 else 32 for b in range(256))
_RUN = b"0" * 19


class NumberOutOfRange(ValueError):
    """A JSON number this process cannot hold as written (see :func:`loads`)."""


def exact_int(text: str) -> int:
    """``parse_int`` for the stdlib parser: exact, with Python's own digit limit named."""
    limit = sys.get_int_max_str_digits()
    digits = len(text) - (text[:1] == "-")
    if limit and digits > limit:
        raise NumberOutOfRange(
            f"an integer of {digits} digits is longer than {limit} digits, Python's limit for "
            "converting text to int (sys.set_int_max_str_digits); send it as a string"
        )
    return int(text)


def finite_float(text: str) -> float:
    """``parse_float`` for the stdlib parser: a number beyond a double's range is refused
    (the stdlib would quietly make it ``inf``)."""
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 24 else f"{text[:20]}..."
        raise NumberOutOfRange(
            f"the number {shown} is outside the range of a double (about ±1.8e308)"
        )
    return value


def _reject_constant(name: str) -> Any:
    raise NumberOutOfRange(f"{name} is not a valid JSON number")


def exact_loads(text: str | bytes | bytearray | memoryview, **options: Any) -> Any:
    """The stdlib parser, for what orjson cannot read exactly: integers of any size up to
    Python's digit limit, finite floats only, no NaN/Infinity. Nesting past the recursion
    limit raises ``ValueError`` (callers bound the text's size)."""
    if isinstance(text, memoryview | bytearray):
        text = bytes(text)
    try:
        return json.loads(
            text,
            parse_int=exact_int,
            parse_float=finite_float,
            parse_constant=_reject_constant,
            **options,
        )
    except RecursionError:
        raise ValueError("the JSON text nests too deeply to read") from None


def out_of_range(exc: orjson.JSONDecodeError) -> bool:
    """True when orjson refused the text only for a number beyond a double's range."""
    return _OUT_OF_RANGE in str(exc)


def has_long_digits(text: str | bytes | bytearray | memoryview) -> bool:
    """True when the text holds a run of 19+ digits (an integer orjson may have rounded)."""
    if len(text) < 19:
        return False
    if type(text) is bytes:
        return _RUN in text.translate(_DIGITS_ONLY)
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    return _RUN in raw.translate(_DIGITS_ONLY)


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text; raises ``ValueError`` when malformed.

    Integers are exact whatever their size (up to Python's 4300-digit int conversion limit,
    which the error names): orjson reads the text, and the rare text it cannot read exactly
    (an integer beyond 64 bits) is read again by the stdlib.

    Example::

        loads('{"n": 1%s}' % ("0" * 400))["n"] == 10**400   # True
    """
    try:
        value = _orjson_loads(text)
    except orjson.JSONDecodeError as exc:
        if not out_of_range(exc):
            raise
        return exact_loads(text)
    if type(value) in _MAY_HOLD_FLOATS and has_long_digits(text):
        return exact_loads(text)
    return value


_orjson_loads = orjson.loads
_MAY_HOLD_FLOATS = frozenset({dict, list, float})
