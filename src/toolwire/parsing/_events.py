"""A faster constructor for the one event created per streamed delta.

A frozen dataclass's ``__init__`` stores every field through ``object.__setattr__`` (the
class's own ``__setattr__`` refuses); for :class:`~toolwire._calls.ArgumentsDelta`, created once
per delta of every streamed call, that is a quarter of the parsers' per-delta cost. Writing the
slots through their descriptors builds the same object in half the time. The shortcut is only
taken while the class has exactly the slotted fields it was written for; otherwise the class
itself is called. ``tests/parsing/test_guarantees.py`` pins that both build equal objects.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable

from toolwire._calls import ArgumentsDelta

__all__ = ["arguments_delta"]


def _plain(index: int, text: str) -> ArgumentsDelta:
    return ArgumentsDelta(index=index, text=text)


def _factory() -> Callable[[int, str], ArgumentsDelta]:
    names = ("kind", "index", "text")
    slots = [vars(ArgumentsDelta).get(name) for name in names]
    if tuple(f.name for f in dataclasses.fields(ArgumentsDelta)) != names or not all(
        isinstance(slot, types.MemberDescriptorType) for slot in slots
    ):
        return _plain
    new = object.__new__
    set_kind, set_index, set_text = (slot.__set__ for slot in slots)  # type: ignore[union-attr]

    def fast(index: int, text: str) -> ArgumentsDelta:
        event = new(ArgumentsDelta)
        set_kind(event, "arguments_delta")
        set_index(event, index)
        set_text(event, text)
        return event

    return fast


arguments_delta = _factory()
