"""``[tasks]`` of ``toolwire.toml``: how long results are kept, limits, and which tools run as
tasks.

    [tasks]
    result_ttl = 86400        # seconds a finished task (and its result) is kept
    max_per_caller = 100      # working tasks per caller (more: 429 / rate_limited)
    workers = 16              # tasks this process runs at once
    lease = 30                # seconds a runner holds a task between renewals
    timeout = 3600            # seconds from creation after which a run is stopped (optional)
    max_runs = 3              # starts of a repeatable task whose runners keep disappearing
    shutdown_grace = 10       # seconds running tasks get to finish when the server stops

    [tasks.support]           # task_support by tool-name glob (last match wins)
    "report_*" = "optional"
    "etl.load" = "required"
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from toolwire._spec import TASK_SUPPORT
from toolwire._tables import check_keys

# option -> (type, may be absent/none)
_NUMBERS: dict[str, type] = {
    "result_ttl": float,
    "max_per_caller": int,
    "workers": int,
    "lease": float,
    "timeout": float,
    "max_runs": int,
    "shutdown_grace": float,
}
TASK_KEYS = frozenset({*_NUMBERS, "support"})


def check_tasks(table: Mapping[str, Any], where: str, error: type[ValueError]) -> None:
    """Refuse unknown keys, non-numbers and task_support values that are not one of three."""
    check_keys(table, TASK_KEYS, f"{where} [tasks]", error=error)
    for key, kind in _NUMBERS.items():
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise error(f"{where} [tasks]: {key} must be a positive number, got {value!r}")
            if kind is int and not isinstance(value, int):
                raise error(f"{where} [tasks]: {key} must be a whole number, got {value!r}")
    support = table.get("support", {})
    if not isinstance(support, Mapping):
        raise error(f"{where} [tasks.support] must be a table of tool glob -> task_support")
    for pattern, value in support.items():
        if value not in TASK_SUPPORT:
            raise error(
                f"{where} [tasks.support] {pattern!r}: must be one of {', '.join(TASK_SUPPORT)}, "
                f"got {value!r}"
            )


def tasks_options(table: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword options of :class:`~toolwire.runtime.Tasks` in a checked ``[tasks]``."""
    return {key: kind(table[key]) for key, kind in _NUMBERS.items() if key in table}


def apply_task_support(tools: Iterable[Any], table: Mapping[str, Any]) -> None:
    """Set each tool's ``task_support`` from ``[tasks.support]`` (the last matching glob)."""
    support = table.get("support", {})
    if not support:
        return
    for tool in tools:
        chosen = None
        for pattern, value in support.items():
            if fnmatch.fnmatchcase(tool.name, pattern):
                chosen = value
        if chosen is not None and chosen != tool.spec.task_support:
            tool.spec = dataclasses.replace(tool.spec, task_support=chosen)
