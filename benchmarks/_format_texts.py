"""One long call written in every text format, for the streaming benchmark.

The formats with a :class:`~toolwire.parsing.CallShape` are written by their record; the six
that toolwire reads but does not write get a small writer here, in the syntax of their
vectors (``tests/data/formats``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from toolwire._calls import ToolCall
from toolwire.parsing import TEXT_FORMATS

__all__ = ["FAMILIES", "call_text", "tools_for"]

Args = dict[str, Any]


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _gemma_value(v: Any, quote: str) -> str:
    if isinstance(v, str):
        return f"{quote}{v}{quote}"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_gemma_value(x, quote)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_gemma_value(x, quote) for x in v) + "]"
    return json.dumps(v)


def _gemma(open_: str, close: str, quote: str) -> Callable[[str, Args], str]:
    return lambda name, args: f"{open_}call:{name}{_gemma_value(args, quote)}{close}"


def _apertus(name: str, args: Args) -> str:
    return f"<|tools_prefix|>{json.dumps([{name: args}], ensure_ascii=False)}<|tools_suffix|>"


def _kimi_k3(name: str, args: Args) -> str:
    kinds = {str: "string", bool: "boolean", int: "integer", float: "number"}
    out = ["<|open|>tools<|sep|>", f'<|open|>call tool="{name}" index="1"<|sep|>']
    for k, v in args.items():
        kind = kinds.get(type(v), "object" if isinstance(v, dict) else "array")
        out.append(f'<|open|>argument key="{k}" type="{kind}"<|sep|>{_text(v)}')
        out.append("<|close|>argument<|sep|>")
    return "".join(out) + "<|close|>call<|sep|><|close|>tools<|sep|>"


_MM = "]<]minimax[>["


def _minimax_value(v: Any) -> str:
    if isinstance(v, dict):
        return "".join(f"{_MM}<{k}>{_minimax_value(x)}{_MM}</{k}>" for k, x in v.items())
    if isinstance(v, list):
        return "".join(f"{_MM}<item>{_minimax_value(x)}{_MM}</item>" for x in v)
    return _text(v)


def _minimax_m3(name: str, args: Args) -> str:
    params = "".join(f"{_MM}<{k}>{_minimax_value(v)}{_MM}</{k}>\n" for k, v in args.items())
    return (
        f'{_MM}<tool_call>\n{_MM}<invoke name="{name}">\n{params}{_MM}</invoke>\n{_MM}</tool_call>'
    )


def _muse(name: str, args: Args) -> str:
    params = "".join(
        f'<atem:parameter name="{k}">{_text(v)}</atem:parameter>\n' for k, v in args.items()
    )
    return (
        f'<atem:function_calls>\n<atem:invoke name="{name}">\n{params}</atem:invoke>\n'
        "</atem:function_calls>"
    )


_UNWRITTEN: dict[str, Callable[[str, Args], str]] = {
    "apertus": _apertus,
    "functiongemma": _gemma("<start_function_call>", "<end_function_call>", "<escape>"),
    "gemma4": _gemma("<|tool_call>", "<tool_call|>", '<|"|>'),
    "kimi_k3": _kimi_k3,
    "minimax_m3": _minimax_m3,
    "muse": _muse,
}

FAMILIES: tuple[str, ...] = tuple(name for name in TEXT_FORMATS if name != "auto")
"""Every format's own name (each distinct record)."""


def call_text(fmt: str, name: str, args: Args) -> str:
    """One call of ``name`` with ``args``, written as ``fmt`` writes it."""
    record = TEXT_FORMATS[fmt]
    if record.call is None:
        return _UNWRITTEN[fmt](name, args)
    call = ToolCall(id="c0", name=name, arguments=json.dumps(args, ensure_ascii=False))
    return record.write_calls([call])


def tools_for(name: str, args: Args) -> dict[str, Any]:
    """The tool schema that types ``args`` back in the formats that write values as text."""
    kinds = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array"}
    props = {k: {"type": kinds.get(type(v), "object")} for k, v in args.items()}
    return {name: {"type": "object", "properties": props}}
