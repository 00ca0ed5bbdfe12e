"""Build frozen slotted dataclasses on the hot path without their generated ``__init__``.

Every call makes a :class:`~toolwire.ToolResult` (and a context, a prepared call...). A frozen
dataclass's ``__init__`` parses keywords and sets each field through ``object.__setattr__``;
setting the slots through their descriptors is faster but still a C call per field (~7,000
instructions for the 8 fields of a ``ToolResult``, as much as validating the arguments).

:func:`builder` makes a function that fills a plain slotted twin of the class (same slots, in
the same order, so the instance layout is identical) with ordinary attribute stores, then
turns it into the dataclass by assigning ``__class__``, which CPython allows exactly when the
two layouts match: the object *is* an instance of the dataclass, frozen like any other
(~2,500 instructions). The function is generated once per class, as dataclasses generate
their own ``__init__``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


_TWINS: dict[type, type] = {}


def twin(cls: type) -> type:
    """The plain slotted twin of the frozen slotted dataclass ``cls``: an instance of it, its
    slots all set, becomes a ``cls`` by ``obj.__class__ = cls`` (what :func:`builder`'s
    functions do; the executor does the same inline on its commonest call)."""
    made = _TWINS.get(cls)
    if made is None:
        names = [f.name for f in dataclasses.fields(cls)]
        slots = getattr(cls, "__slots__", None)
        if slots is None or tuple(slots) != tuple(names):
            raise TypeError(f"{cls.__name__} is not a slotted dataclass with one slot per field")
        made = type(f"_{cls.__name__}Fields", (), {"__slots__": tuple(slots)})
        probe: Any = object.__new__(made)
        probe.__class__ = cls  # TypeError here: the layouts differ
        _TWINS[cls] = made
    return made


def builder(cls: type[T]) -> Callable[..., T]:
    """A function taking every field of ``cls`` positionally, in field order (``init=False``
    fields included), and returning the instance ``cls(**fields)`` would be.

    Example::

        new_error = builder(ToolError)
        new_error("timeout", "too slow", {}, None)
    """
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    params = ", ".join(names)
    stores = "".join(f"    obj.{n} = {n}\n" for n in names)
    source = (
        f"def build({params}):\n    obj = _new(_twin)\n{stores}"
        "    obj.__class__ = _cls\n    return obj\n"
    )
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin(cls), "_cls": cls}
    exec(source, namespace)  # generated once, from the class's own field names
    build: Callable[..., T] = namespace["build"]
    build.__qualname__ = build.__name__ = f"new_{cls.__name__}"
    build.__doc__ = f"``{cls.__name__}(...)`` from every field, positionally (see _fast)."
    return build
