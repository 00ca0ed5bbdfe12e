"""Arguments written one parameter at a time as text (XML-like formats), streamed as JSON.

Each completed parameter is appended to the call's arguments as ``{"k":v`` (the first) or
``,"k":v``; :func:`close_args` adds the ``}``. Values are typed by the tool's schema
(:mod:`toolwire.parsing._values`) unless the format says what they are.
"""

from __future__ import annotations

from typing import Any

from toolwire.parsing._base import Call, Engine
from toolwire.parsing._jsonscan import canon, encode_str
from toolwire.parsing._values import coerce, param_schema

__all__ = ["close_args", "emit_param", "emit_value", "trim_newlines"]


def emit_value(eng: Engine, call: Call, key: str, value: Any) -> None:
    """Stream one parameter whose value is already known."""
    eng.args(call, ("," if call.parts else "{") + encode_str(key) + ":" + canon(value))


def emit_param(eng: Engine, call: Call, key: str, text: str) -> None:
    """Stream one parameter written as text, typed by the tool's schema."""
    emit_value(eng, call, key, coerce(text, param_schema(eng.schemas, call.name, key)))


def close_args(eng: Engine, call: Call) -> None:
    eng.args(call, "}" if call.parts else "{}")


def trim_newlines(v: str) -> str:
    """Without the one newline templates put after an opening and before a closing tag."""
    if v.startswith("\n"):
        v = v[1:]
    if v.endswith("\n"):
        v = v[:-1]
    return v
