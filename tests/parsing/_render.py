"""How each format writes calls: used to generate texts from arbitrary calls (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Calls = list[tuple[str, dict[str, Any]]]


def _j(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def hermes(calls: Calls) -> str:
    return "".join(
        f"<tool_call>\n{_j({'name': n, 'arguments': a})}\n</tool_call>\n" for n, a in calls
    )


RENDER: dict[str, Callable[[Calls], str]] = {
    "hermes": hermes,
}
