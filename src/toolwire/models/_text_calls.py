"""Calls written back as text, the way each text format's prompt asks the model to write them.

A text-mode model reads its own earlier turns as plain text. When a turn was made by another
model (a :class:`~toolwire.Router` switched routes), its calls are rendered here in the family's
format so the text-mode model sees what it would have written; :mod:`toolwire.parsing` reads
them back to the same names and arguments. One writer per family in
:data:`toolwire.models._prompts.PROMPT_FORMATS` (a test keeps the two registries in step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall

CallWriter = Callable[[Sequence[ToolCall], str], str]


def _arguments(call: ToolCall) -> Any:
    try:
        return _json.loads(call.arguments)
    except ValueError:
        # Only well-formed calls enter the history, so this is a caller's own message:
        # refuse rather than write something the model would read as different arguments.
        raise ValueError(
            f"the arguments of call {call.id!r} ({call.name}) are not JSON: {call.arguments!r}"
        ) from None


def _joined(content: str, calls: str) -> str:
    return f"{content}\n{calls}" if content else calls


def _hermes(calls: Sequence[ToolCall], content: str) -> str:
    blocks = "\n".join(
        "<tool_call>\n"
        + _json.dumps({"name": c.name, "arguments": _arguments(c)})
        + "\n</tool_call>"
        for c in calls
    )
    return _joined(content, blocks)


def _llama3_json(calls: Sequence[ToolCall], content: str) -> str:
    body = "; ".join(_json.dumps({"name": c.name, "parameters": _arguments(c)}) for c in calls)
    # The prompt asks for a bare object; after words it needs the tag to count as a call.
    return f"{content}<|python_tag|>{body}" if content else body


def _mistral(calls: Sequence[ToolCall], content: str) -> str:
    body = _json.dumps([{"name": c.name, "arguments": _arguments(c)} for c in calls])
    return _joined(content, f"[TOOL_CALLS] {body}")


def _pythonic(calls: Sequence[ToolCall], content: str) -> str:
    body = "[" + ", ".join(_pythonic_call(c) for c in calls) + "]"
    # A bare list counts only at the start of the output; after words it needs the markers.
    return f"{content}<|python_start|>{body}<|python_end|>" if content else body


def _pythonic_call(call: ToolCall) -> str:
    args = _arguments(call)
    if not isinstance(args, dict) or not all(isinstance(k, str) and k.isidentifier() for k in args):
        raise ValueError(
            f"call {call.id!r} ({call.name}) cannot be written as a Python call: its arguments "
            "are not an object with identifier keys"
        )
    # JSON values are valid in the pythonic format (true/false/null included).
    inner = ", ".join(f"{k}={_json.dumps(v)}" for k, v in args.items())
    return f"{call.name}({inner})"


CALL_WRITERS: dict[str, CallWriter] = {
    "hermes": _hermes,
    "qwen": _hermes,
    "qwen25": _hermes,
    "llama3_json": _llama3_json,
    "mistral": _mistral,
    "pythonic": _pythonic,
}


def write_calls(calls: Sequence[ToolCall], content: str, text_format: str) -> str:
    """``content`` followed by ``calls`` in ``text_format``; ValueError when not writable."""
    try:
        writer = CALL_WRITERS[text_format]
    except KeyError:
        raise ValueError(
            f"no call writer for text format {text_format!r}; known: {', '.join(CALL_WRITERS)}"
        ) from None
    return writer(calls, content) if calls else content
