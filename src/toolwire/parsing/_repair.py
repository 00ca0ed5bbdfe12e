"""One-shot repair of malformed JSON, run once on the final text of a call, with a size cap.

The incremental scanner already absorbs the common slips (single quotes, Python literals,
trailing commas, unquoted keys, comments, missing closers). This is the fallback for the rest:
strip a Markdown code fence, try the scanner on the whole text, then ``json_repair``. Text over
``MAX_REPAIR_CHARS`` is not attempted: repairing is best effort, and a pathological input must
not cost unbounded time — such a call is reported as an error with its raw text instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair

from toolwire.parsing._jsonscan import JsonScanner

__all__ = ["MAX_REPAIR_CHARS", "RepairFailed", "repair", "strip_fence"]

MAX_REPAIR_CHARS = 1_000_000

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?[ \t]*(?:```\s*)?$", re.S)


class RepairFailed(ValueError):
    """The text could not be turned into JSON."""


def strip_fence(text: str) -> str:
    """``text`` without a surrounding Markdown code fence (```json ... ```), if it has one."""
    m = _FENCE.match(text)
    return m.group(1) if m is not None else text


def scan_whole(text: str) -> tuple[str, bool] | None:
    """Run the lenient scanner over a complete text: (canonical JSON, repaired) or None."""
    sink: list[str] = []
    sc = JsonScanner(sink)
    end = sc.feed(text, 0)
    if not sc.done and not sc.failed:
        sc.finish()
    if not sc.done or text[end:].strip():
        return None
    return "".join(sink), sc.repaired


def repair(text: str) -> Any:
    """Parse malformed JSON ``text`` into Python data, or raise :class:`RepairFailed`."""
    if len(text) > MAX_REPAIR_CHARS:
        raise RepairFailed(f"too large to repair ({len(text)} characters)")
    body = strip_fence(text).strip()
    if not body:
        raise RepairFailed("empty")
    scanned = scan_whole(body)
    if scanned is not None:
        return json.loads(scanned[0])  # stdlib: big integers stay exact
    try:
        value: Any = json_repair.loads(body)
    except Exception as exc:  # json_repair raises various internal errors on odd input
        raise RepairFailed(str(exc) or type(exc).__name__) from exc
    if value == "" or (value is None and body not in ("null", "None")):
        raise RepairFailed("nothing recognisable as JSON")
    return value
