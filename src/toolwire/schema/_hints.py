"""Reading a handler's type hints without pydantic: which parameters take a ``Context``.

Kept apart from ``_from_types`` so that defining a tool from a JSON schema (and ``import
toolwire``) never pays for importing pydantic.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

from toolwire._context import Context

__all__ = ["is_context_type", "type_hints"]


def is_context_type(tp: Any) -> bool:
    """True for ``Context``, ``Context | None`` and ``Annotated[Context, ...]``."""
    if tp is Context:
        return True
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return is_context_type(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return len(args) == 1 and args[0] is Context
    return False


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """Resolved type hints (with ``Annotated`` extras) of a function, method, partial or
    callable object; raises ``TypeError`` naming the parameter whose hint cannot be resolved."""
    target: Any = func
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        inner = getattr(target, "func", None)  # functools.partial
        target = inner if inner is not None else getattr(target, "__call__", target)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        culprit = _unresolvable_hint(target)
        where = f"the type hint of {culprit!r}" if culprit else "the type hints"
        raise TypeError(f"cannot resolve {where} of {func!r}: {exc}") from exc


def _unresolvable_hint(target: Any) -> str | None:
    try:
        raw = inspect.get_annotations(target)
    except Exception:
        return None
    namespace = getattr(target, "__globals__", {})
    for pname, hint in raw.items():
        if isinstance(hint, str):
            try:
                eval(hint, dict(namespace))  # the same evaluation typing does, one hint at a time
            except Exception:
                return str(pname)
    return None
