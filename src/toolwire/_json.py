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
    """Serialize to UTF-8 JSON bytes; ints beyond 64 bits fall back to the stdlib, exactly."""
    try:
        return orjson.dumps(obj, default=_default, option=_CANONICAL_OPTS if canonical else _OPTS)
    except TypeError as exc:
        if "Integer exceeds 64-bit range" not in str(exc) and "64-bit" not in str(exc):
            raise
        return json.dumps(
            obj,
            default=_default,
            ensure_ascii=False,
            sort_keys=canonical,
            separators=(",", ":"),
        ).encode()


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
