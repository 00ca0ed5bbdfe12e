"""JSON in and out, fast (orjson) and faithful (non-ASCII kept as text, big ints kept exact)."""

from __future__ import annotations

import dataclasses
import json
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


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text; raises ``ValueError`` (``orjson.JSONDecodeError``) when malformed."""
    return orjson.loads(text)
