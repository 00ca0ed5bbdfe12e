"""SQLite, read-only and bounded while it reads (the stdlib driver, in a thread).

Read-only: the file opens ``mode=ro`` with ``query_only`` and an authorizer that allows only
reads. Bounded: SQLite's own length limit (``SQLITE_LIMIT_LENGTH``) is set to the result's
byte cap, so no string or blob longer than the cap is ever built, computed (``randomblob``,
``zeroblob``, ``replace``, ``group_concat``) or read from the file; result rows have at most
:data:`MAX_COLUMNS` columns, so one row holds at most ``MAX_COLUMNS * max_bytes``; rows are
read one at a time and reading stops at the caps; the deadline is checked every few thousand
VM steps (a progress handler) and, as a backstop for one long step, the event loop interrupts
the connection when the deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolwire._errors import ToolFailure
from toolwire.packs.sql._guard import Dialect, check_read_only
from toolwire.packs.sql._results import (
    SAMPLE_ROWS,
    Collector,
    Limits,
    jsonable,
    sql_error,
    timed_out,
    unknown_table,
    value_too_large,
)

MAX_COLUMNS = 128
"""The most columns a query's result may have (SQLite's default is 2000): with a value of up to
``max_bytes`` each, it bounds one row's memory (2000 columns of 250 KB took ~1 GB)."""

_SQLITE_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: RECURSIVE
)
_SQLITE_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit"})


def _authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, src: Any) -> int:
    if action not in _SQLITE_ALLOWED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class SQLiteDatabase:
    """A SQLite file opened read-only for every call (connections are cheap, threads safe)."""

    dialect: Dialect = "sqlite"
    placeholder = "?"

    def __init__(self, path: str | Path, *, limits: Limits) -> None:
        self.path = Path(path)
        self.limits = limits
        if not self.path.is_file():
            raise ValueError(f"SQLite database not found: {self.path}")
        self._uri = f"{self.path.resolve().as_uri()}?mode=ro"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        # a value longer than the whole result may carry can never be returned: never build it
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(1, self.limits.max_bytes))
        return conn

    async def aclose(self) -> None:
        return None

    async def list_tables(self) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            with self._connect() as conn:
                rows = conn.execute(
                    "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                ).fetchall()
            return [{"name": n, "type": t} for n, t in rows]

        return await asyncio.to_thread(work)

    async def describe_table(self, table: str) -> dict[str, Any]:
        names = {t["name"] for t in await self.list_tables()}
        if table not in names:
            raise unknown_table(table, names)

        def work() -> dict[str, Any]:
            quoted = '"' + table.replace('"', '""') + '"'
            out: dict[str, Any] = {"table": table}
            with self._connect() as conn:
                cols = conn.execute(f"PRAGMA table_info({quoted})").fetchall()
                fks = conn.execute(f"PRAGMA foreign_key_list({quoted})").fetchall()
                try:
                    cur = conn.execute(f"SELECT * FROM {quoted} LIMIT {SAMPLE_ROWS}")
                    sample = [[jsonable(v) for v in r] for r in cur.fetchall()]
                except sqlite3.DataError:  # a stored value longer than the cap
                    sample = []
                    out["sample_note"] = (
                        f"No sample rows: a value in the first rows is longer than "
                        f"{self.limits.max_bytes} bytes."
                    )
            out.update(
                columns=[
                    {"name": c[1], "type": c[2], "nullable": not c[3], "primary_key": bool(c[5])}
                    for c in cols
                ],
                primary_key=[c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5]],
                foreign_keys=[{"column": f[3], "references": f"{f[2]}({f[4]})"} for f in fks],
                sample_rows=sample,
            )
            return out

        return await asyncio.to_thread(work)

    async def run_query(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        check_read_only(sql, "sqlite")
        limits = self.limits
        deadline = time.monotonic() + limits.timeout_s
        opened: list[sqlite3.Connection] = []

        def work() -> dict[str, Any]:
            conn = self._connect()
            opened.append(conn)
            try:
                # The column limit also applies when the schema is parsed (a wider table would
                # make the file unreadable), so lower it once the schema is loaded.
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
                conn.set_authorizer(_authorize)
                conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
                cur = conn.execute(sql, list(params))
                rows = Collector([d[0] for d in cur.description or ()], limits)
                for raw in cur:  # one row at a time
                    if not rows.add(raw):
                        break
                return rows.result()
            finally:
                opened.remove(conn)
                conn.close()

        def interrupt() -> None:  # one long step the progress handler cannot see
            for conn in list(opened):
                with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                    conn.interrupt()

        backstop = asyncio.get_running_loop().call_later(limits.timeout_s, interrupt)
        try:
            return await asyncio.to_thread(work)
        except sqlite3.DataError as exc:
            if "too big" in str(exc):
                raise value_too_large(limits) from exc
            raise sql_error(exc) from exc
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "interrupted" in text:
                raise timed_out(limits) from exc
            if "too many columns in result set" in text:
                raise ToolFailure(
                    "too_large",
                    f"The result would have more than {MAX_COLUMNS} columns; name the columns "
                    "you need instead of selecting them all.",
                    details={"limit": MAX_COLUMNS},
                ) from exc
            if "not authorized" in text or "readonly" in text:
                raise ToolFailure("forbidden", f"The database refused the query: {exc}") from exc
            raise sql_error(exc) from exc
        except (sqlite3.Error, OverflowError) as exc:
            raise sql_error(exc) from exc
        finally:
            backstop.cancel()
