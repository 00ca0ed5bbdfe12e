"""Where a text format's call layout comes from: its record in :mod:`toolwire.parsing`.

Each text format describes how its chat template writes calls in one ``CallShape`` (begin /
end around a turn's calls, per-call open / close holding ``{name}`` and ``{index}``, the
separator, and the name/arguments layout), and both the call writer and the grammar read it,
so the two cannot disagree. Until every format carries its record, the shapes of the four
formats the grammar issue quotes are given here with the same fields; a format's record,
when present, always wins.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ShapeLike", "call_shape", "known_formats"]


class ShapeLike(Protocol):
    """The fields of ``toolwire.parsing``'s ``CallShape`` that a grammar reads."""

    @property
    def layout(self) -> Any: ...
    @property
    def begin(self) -> str: ...
    @property
    def end(self) -> str: ...
    @property
    def call_open(self) -> str: ...
    @property
    def call_close(self) -> str: ...
    @property
    def separator(self) -> str: ...
    @property
    def begin_after_text(self) -> str | None: ...
    @property
    def end_after_text(self) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layout:
    kind: str
    name_key: str = "name"
    arguments_key: str = "arguments"
    open: str = ""
    close: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shape:
    layout: _Layout
    begin: str = ""
    end: str = ""
    call_open: str = ""
    call_close: str = ""
    separator: str = ""
    begin_after_text: str | None = None
    end_after_text: str | None = None
    text_gap: str = "\n"


_HERMES = _Shape(
    layout=_Layout(kind="json_object"),
    call_open="<tool_call>\n",
    call_close="\n</tool_call>",
    separator="\n",
)
_BRIDGE: dict[str, _Shape] = {
    "hermes": _HERMES,
    "qwen": _HERMES,
    "qwen25": _HERMES,
    "llama3_json": _Shape(
        layout=_Layout(kind="json_object", arguments_key="parameters"),
        separator="; ",
        begin_after_text="<|python_tag|>",
        text_gap="",
    ),
    "mistral": _Shape(layout=_Layout(kind="json_arguments"), call_open="[TOOL_CALLS]{name}[ARGS]"),
    "qwen3_coder": _Shape(
        layout=_Layout(
            kind="tagged_parameters", open="<parameter={key}>\n", close="\n</parameter>\n"
        ),
        call_open="<tool_call>\n<function={name}>\n",
        call_close="</function>\n</tool_call>",
        separator="\n",
    ),
}


def _records() -> dict[str, Any]:
    # The parsing layer's registry of format records, once it has one (read, not imported by
    # name, so this module works on either side of that change).
    parsing = importlib.import_module("toolwire.parsing")
    records = getattr(parsing, "TEXT_FORMATS", None)
    return dict(records) if records is not None else {}


def call_shape(format: str) -> ShapeLike | None:
    """The call layout of text format ``format`` (None: the format writes no calls we know)."""
    record = _records().get(format)
    shape = getattr(record, "call", None)
    if shape is not None:
        return shape  # type: ignore[no-any-return]
    return _BRIDGE.get(format)


def known_formats() -> list[str]:
    """Text formats a grammar can be built for."""
    names = {n for n, r in _records().items() if getattr(r, "call", None) is not None}
    return sorted(names | set(_BRIDGE))
