"""Calls written as text from a format's :class:`~toolwire.parsing._shape.CallShape`.

A text-mode model reads its own earlier turns as plain text. When a turn was made by another
model (a Router switched routes), its calls are written here in the family's format so the model
sees what it would have written; the format's parser reads them back to the same calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from toolwire._calls import ToolCall
from toolwire.parsing._shape import (
    CallShape,
    JsonArguments,
    JsonObject,
    PythonicCall,
    TaggedParameters,
)

__all__ = ["dump", "write_calls"]


def dump(value: Any) -> str:
    """JSON the way chat templates' ``tojson`` writes it: ``", "``/``": "``, non-ASCII as is."""
    return json.dumps(value, ensure_ascii=False)


def arguments_of(call: ToolCall) -> Any:
    try:  # the stdlib: integers beyond 64 bits stay exact
        return json.loads(call.arguments)
    except (ValueError, RecursionError):
        # Only well-formed calls enter the history, so this is a caller's own message:
        # refuse rather than write something the model would read as different arguments.
        raise ValueError(
            f"the arguments of call {call.id!r} ({call.name}) are not JSON: {call.arguments!r}"
        ) from None


def _object(call: ToolCall, why: str) -> dict[str, Any]:
    args = arguments_of(call)
    if not isinstance(args, dict):
        raise ValueError(
            f"call {call.id!r} ({call.name}) cannot be written {why}: its arguments are not "
            "a JSON object"
        )
    return args


def _body(shape: CallShape, call: ToolCall) -> str:
    layout = shape.layout
    if isinstance(layout, JsonObject):
        obj = {layout.name_key: call.name, layout.arguments_key: arguments_of(call)}
        return dump(obj)
    if isinstance(layout, JsonArguments):
        return dump(arguments_of(call))
    if isinstance(layout, TaggedParameters):
        args = _object(call, "as tagged parameters")
        json_open = layout.open if layout.json_open is None else layout.json_open
        return "".join(
            (layout.open if isinstance(value, str) else json_open).replace("{key}", key)
            + (_text_value(layout, value) if isinstance(value, str) else dump(value))
            + layout.close
            for key, value in args.items()
        )
    assert isinstance(layout, PythonicCall)
    args = arguments_of(call)
    if not isinstance(args, dict) or not all(isinstance(k, str) and k.isidentifier() for k in args):
        raise ValueError(
            f"call {call.id!r} ({call.name}) cannot be written as a Python call: its arguments "
            "are not an object with identifier keys"
        )
    # JSON values are valid in the pythonic format (true/false/null included).
    return f"{call.name}(" + ", ".join(f"{k}={dump(v)}" for k, v in args.items()) + ")"


def _text_value(layout: TaggedParameters, value: str) -> str:
    """A string as the layout holds it: padded where its readers trim a template newline."""
    if not layout.trimmed:
        return value
    head = "\n" if value.startswith("\n") and not layout.open.endswith("\n") else ""
    tail = "\n" if value.endswith("\n") and not layout.close.startswith("\n") else ""
    return head + value + tail


def _fill(template: str, call: ToolCall, index: int) -> str:
    return template.replace("{name}", call.name).replace("{index}", str(index))


def write_calls(shape: CallShape, calls: Sequence[ToolCall], content: str = "") -> str:
    """``content`` followed by ``calls`` written as ``shape`` says; ValueError if unwritable."""
    if not calls:
        return content
    body = shape.separator.join(
        _fill(shape.call_open, c, i) + _body(shape, c) + _fill(shape.call_close, c, i)
        for i, c in enumerate(calls)
    )
    if not content:
        return shape.begin + body + shape.end
    begin = shape.begin if shape.begin_after_text is None else shape.begin_after_text
    end = shape.end if shape.end_after_text is None else shape.end_after_text
    return content + shape.text_gap + begin + body + end
