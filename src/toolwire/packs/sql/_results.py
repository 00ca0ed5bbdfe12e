"""What every backend shares: the limits of one query, JSON-safe values, and reading rows up
to the caps one row at a time (never the whole result first, then the cut)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolwire._errors import ToolFailure
from toolwire._json import dumps

SAMPLE_ROWS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on one query: rows returned, JSON size of the rows, and wall time.

    They hold while the rows are read: no value longer than ``max_bytes`` is built (SQLite's
    length limit; PostgreSQL refuses oversized rows on the server), rows are read one at a
    time (SQLite) or in small batches (PostgreSQL) and reading stops at the caps.
    """

    max_rows: int = 1000
    max_bytes: int = 256_000
    timeout_s: float = 10.0


def jsonable(value: Any) -> Any:
    """A database value as something JSON can carry without losing its meaning."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return (
            float(value) if value == value.to_integral_value() or abs(value) < 1e15 else str(value)
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


class Collector:
    """Rows as they are read, until ``max_rows`` or ``max_bytes`` (of JSON) is reached.

    Example::

        rows = Collector(columns, limits)
        for raw in cursor:
            if not rows.add(raw):
                break  # full: stop reading
        return rows.result()
    """

    def __init__(self, columns: list[str], limits: Limits) -> None:
        self.columns = columns
        self.limits = limits
        self.rows: list[list[Any]] = []
        self.size = 0
        self.truncated: Literal["rows", "bytes"] | None = None

    def add(self, raw: Sequence[Any]) -> bool:
        """Keep one row; False when the result is full (this row was not kept)."""
        if len(self.rows) >= self.limits.max_rows:
            self.truncated = "rows"
            return False
        # A row whose text and binary values alone pass the cap cannot fit: stop before
        # building its JSON (base64 and the dump would each copy it again).
        floor = sum(len(v) for v in raw if isinstance(v, str | bytes | bytearray | memoryview))
        if self.size + floor > self.limits.max_bytes:
            self.truncated = "bytes"
            return False
        row = [jsonable(v) for v in raw]
        self.size += len(dumps(row)) + 1
        if self.size > self.limits.max_bytes:
            self.truncated = "bytes"
            return False
        self.rows.append(row)
        return True

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated is not None,
        }
        if self.truncated == "rows":
            out["note"] = (
                f"Only the first {self.limits.max_rows} rows are shown; add LIMIT or filters."
            )
        elif self.truncated == "bytes":
            out["note"] = (
                f"The result was cut at {self.limits.max_bytes} bytes; select fewer columns "
                "or rows."
            )
        return out


def value_too_large(limits: Limits) -> ToolFailure:
    return ToolFailure(
        "too_large",
        f"A value in the result, or one computed on the way, is longer than "
        f"{limits.max_bytes} bytes (the result size cap), so the query was stopped before "
        "building it. Select a part of it (substr(), length()) or an aggregate instead.",
        details={"limit": limits.max_bytes},
    )


def unknown_table(table: str, names: set[str]) -> ToolFailure:
    return ToolFailure(
        "execution_error",
        f"There is no table named {table!r}. Tables: {', '.join(sorted(names)) or '(none)'}.",
        details={"table": table, "tables": sorted(names)},
    )


def sql_error(exc: BaseException) -> ToolFailure:
    return ToolFailure(
        "execution_error",
        f"The database rejected the query: {exc}. Fix the SQL and try again.",
        details={"error": exc.__class__.__name__},
    )


def timed_out(limits: Limits) -> ToolFailure:
    return ToolFailure(
        "timeout", f"The query ran longer than {limits.timeout_s} s and was stopped."
    )
