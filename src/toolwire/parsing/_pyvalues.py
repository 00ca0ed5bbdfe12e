"""Python (or JSON) literals as written in pythonic calls, turned into JSON-able values.

``py_value`` reads ``'x'``, ``"x"``, numbers, ``True/False/None`` and ``true/false/null``, lists,
tuples, dicts and sets (in the order written: a set becomes a list, as JSON has no sets), with
an optional sign on numbers. It walks the syntax tree itself instead of ``ast.literal_eval`` so
that a set keeps its written order and nothing but literals is accepted. What Python cannot
read is tried once more with the lenient JSON scanner (raw newlines or NUL bytes inside strings,
``07``-style numbers); values with no JSON form (bytes, complex numbers, ``1e999``) are refused.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from toolwire.parsing._repair import scan_whole

__all__ = ["py_value"]

_MAX_LITERAL = 100_000
_NAMES = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}


class _NotLiteral(ValueError):
    pass


def _convert(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, (bool, str, int)):
            return v
        if isinstance(v, float) and math.isfinite(v):
            return v
        raise _NotLiteral(f"no JSON form for {type(v).__name__} {v!r}")
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_convert(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for knode, vnode in zip(node.keys, node.values, strict=True):
            if knode is None:
                raise _NotLiteral("** in a dict literal")
            key = _convert(knode)
            out[key if isinstance(key, str) else json.dumps(key)] = _convert(vnode)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        num = _convert(node.operand)
        if isinstance(num, bool) or not isinstance(num, (int, float)):
            raise _NotLiteral("a sign on something that is not a number")
        return -num if isinstance(node.op, ast.USub) else num
    raise _NotLiteral(f"not a literal: {type(node).__name__}")


def _finite(value: Any) -> bool:
    """No infinity or NaN anywhere (the stdlib reads ``1e999`` as ``inf``, which JSON lacks)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def py_value(raw: str) -> tuple[bool, Any]:
    """A Python or JSON literal as Python data: (ok, value)."""
    text = raw.strip()
    try:  # the stdlib: integers beyond 64 bits stay exact
        value = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        return (True, value) if _finite(value) else (False, None)
    if len(text) <= _MAX_LITERAL:
        try:
            return True, _convert(ast.parse(text, mode="eval").body)
        except _NotLiteral:
            return False, None
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            pass
    scanned = scan_whole(text)
    if scanned is not None:
        return True, json.loads(scanned[0])
    return False, None
