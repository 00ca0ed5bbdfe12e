"""Read-only database backends: SQLite (stdlib, in a thread) and PostgreSQL (asyncpg).

Each backend enforces read-only on the connection, independently of the parser check in
:mod:`._guard`: SQLite opens ``mode=ro`` with ``query_only`` and an authorizer that allows
only reads; PostgreSQL runs every query in a ``READ ONLY`` transaction with a
``statement_timeout``. Parameters are always bound by the driver.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import decimal
import sqlite3
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from toolwire._errors import MissingExtra, ToolFailure
from toolwire._json import dumps
from toolwire.packs.sql._guard import Dialect, check_read_only

SAMPLE_ROWS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on one query: rows returned, JSON size of the rows, and wall time."""

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


def _collect(
    columns: list[str], batches: Sequence[Sequence[Any]], limits: Limits
) -> dict[str, Any]:
    out: list[list[Any]] = []
    size = 0
    truncated: Literal["rows", "bytes"] | None = None
    for raw in batches:
        if len(out) >= limits.max_rows:
            truncated = "rows"
            break
        row = [jsonable(v) for v in raw]
        size += len(dumps(row)) + 1
        if size > limits.max_bytes:
            truncated = "bytes"
            break
        out.append(row)
    result: dict[str, Any] = {
        "columns": columns,
        "rows": out,
        "row_count": len(out),
        "truncated": truncated is not None,
    }
    if truncated == "rows":
        result["note"] = f"Only the first {limits.max_rows} rows are shown; add LIMIT or filters."
    elif truncated == "bytes":
        result["note"] = (
            f"The result was cut at {limits.max_bytes} bytes; select fewer columns or rows."
        )
    return result


# --- SQLite ------------------------------------------------------------------------------

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
            raise _unknown_table(table, names)

        def work() -> dict[str, Any]:
            quoted = '"' + table.replace('"', '""') + '"'
            with self._connect() as conn:
                cols = conn.execute(f"PRAGMA table_info({quoted})").fetchall()
                fks = conn.execute(f"PRAGMA foreign_key_list({quoted})").fetchall()
                cur = conn.execute(f"SELECT * FROM {quoted} LIMIT {SAMPLE_ROWS}")
                sample = [[jsonable(v) for v in r] for r in cur.fetchall()]
            return {
                "table": table,
                "columns": [
                    {"name": c[1], "type": c[2], "nullable": not c[3], "primary_key": bool(c[5])}
                    for c in cols
                ],
                "primary_key": [c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5]],
                "foreign_keys": [{"column": f[3], "references": f"{f[2]}({f[4]})"} for f in fks],
                "sample_rows": sample,
            }

        return await asyncio.to_thread(work)

    async def run_query(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        check_read_only(sql, "sqlite")
        deadline = time.monotonic() + self.limits.timeout_s

        def work() -> dict[str, Any]:
            conn = self._connect()
            try:
                conn.set_authorizer(_authorize)
                conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
                cur = conn.execute(sql, list(params))
                columns = [d[0] for d in cur.description or ()]
                rows = cur.fetchmany(self.limits.max_rows + 1)
                return _collect(columns, rows, self.limits)
            finally:
                conn.close()

        try:
            return await asyncio.to_thread(work)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise ToolFailure(
                    "timeout",
                    f"The query ran longer than {self.limits.timeout_s} s and was stopped.",
                ) from exc
            if "not authorized" in str(exc) or "readonly" in str(exc):
                raise ToolFailure("forbidden", f"The database refused the query: {exc}") from exc
            raise _sql_error(exc) from exc
        except (sqlite3.Error, OverflowError) as exc:
            raise _sql_error(exc) from exc


# --- PostgreSQL --------------------------------------------------------------------------

# Every pool opened on an event loop, so the CLI can close them all before its loop ends
# (the tools hold their database privately; a pool left open at loop end leaks its
# connections and warns).
_OPEN_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[Any]] = (
    weakref.WeakKeyDictionary()
)


async def close_pools() -> None:
    """Close every PostgreSQL pool the SQL pack opened on this event loop."""
    for pool in _OPEN_POOLS.pop(asyncio.get_running_loop(), set()):
        await pool.close()


class PostgresDatabase:
    """PostgreSQL through an asyncpg pool per event loop; every query in a READ ONLY txn."""

    dialect: Dialect = "postgres"
    placeholder = "$1, $2, ..."

    def __init__(self, dsn: str, *, limits: Limits, schema: str | None = None) -> None:
        try:
            import asyncpg  # noqa: F401  (checked here so a missing extra fails early)
        except ImportError as exc:  # pragma: no cover
            raise MissingExtra("asyncpg", "postgres") from exc
        self.dsn = dsn
        self.limits = limits
        self.schema = schema
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    async def _pool(self) -> Any:
        import asyncpg

        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None or pool.is_closing():  # close_pools() may have closed it
            settings = {"default_transaction_read_only": "on", "application_name": "toolwire-sql"}
            if self.schema:
                settings["search_path"] = _quote_ident(self.schema)
            pool = await asyncpg.create_pool(
                self.dsn, min_size=0, max_size=8, server_settings=settings
            )
            self._pools[loop] = pool
            _OPEN_POOLS.setdefault(loop, set()).add(pool)
        return pool

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            _OPEN_POOLS.get(loop, set()).discard(pool)
            await pool.close()

    async def _run(self, sql: str, params: Sequence[Any], max_rows: int) -> tuple[list[str], Any]:
        import asyncpg

        pool = await self._pool()
        ms = max(1, int(self.limits.timeout_s * 1000))
        try:
            async with pool.acquire() as conn, conn.transaction(readonly=True):
                await conn.execute(
                    f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; "
                    f"SET LOCAL idle_in_transaction_session_timeout = {ms * 2}"
                )
                stmt = await conn.prepare(sql)
                columns = [a.name for a in stmt.get_attributes()]
                types = [t.name for t in stmt.get_parameters()]
                cursor = await stmt.cursor(*_coerce(params, types))
                rows = await cursor.fetch(max_rows + 1)
                return columns, rows
        except asyncpg.QueryCanceledError as exc:
            raise ToolFailure(
                "timeout", f"The query ran longer than {self.limits.timeout_s} s and was stopped."
            ) from exc
        except (asyncpg.ReadOnlySQLTransactionError, asyncpg.InsufficientPrivilegeError) as exc:
            raise ToolFailure("forbidden", f"The database refused the query: {exc}") from exc
        except (asyncpg.PostgresError, asyncpg.DataError) as exc:
            raise _sql_error(exc) from exc
        except (TypeError, ValueError, OverflowError) as exc:
            raise _sql_error(exc) from exc

    async def list_tables(self) -> list[dict[str, Any]]:
        _, rows = await self._run(
            "SELECT table_name, lower(table_type) FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name",
            [],
            10_000,
        )
        return [{"name": n, "type": "view" if "view" in t else "table"} for n, t in rows]

    async def describe_table(self, table: str) -> dict[str, Any]:
        names = {t["name"] for t in await self.list_tables()}
        if table not in names:
            raise _unknown_table(table, names)
        _, cols = await self._run(
            "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            [table],
            10_000,
        )
        _, keys = await self._run(
            "SELECT kcu.column_name, tc.constraint_type, ccu.table_name, ccu.column_name "
            "FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu "
            "  ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
            "LEFT JOIN information_schema.constraint_column_usage ccu "
            "  ON tc.constraint_type = 'FOREIGN KEY' AND ccu.constraint_name = tc.constraint_name "
            "WHERE tc.table_schema = current_schema() AND tc.table_name = $1 "
            "AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') "
            "ORDER BY kcu.ordinal_position",
            [table],
            10_000,
        )
        primary = [k[0] for k in keys if k[1] == "PRIMARY KEY"]
        _, sample = await self._run(f"SELECT * FROM {_quote_ident(table)}", [], SAMPLE_ROWS - 1)
        return {
            "table": table,
            "columns": [
                {"name": n, "type": t, "nullable": bool(nb), "primary_key": n in primary}
                for n, t, nb in cols
            ],
            "primary_key": primary,
            "foreign_keys": [
                {"column": k[0], "references": f"{k[2]}({k[3]})"}
                for k in keys
                if k[1] == "FOREIGN KEY"
            ],
            "sample_rows": [[jsonable(v) for v in r] for r in sample[:SAMPLE_ROWS]],
        }

    async def run_query(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        check_read_only(sql, "postgres")
        columns, rows = await self._run(sql, params, self.limits.max_rows)
        return _collect(columns, [tuple(r) for r in rows], self.limits)


def _coerce_one(value: Any, pg_type: str) -> Any:
    """A JSON value as the Python type asyncpg wants for ``pg_type`` (JSON has no dates)."""
    if value is None:
        return None
    if pg_type in ("int2", "int4", "int8", "oid") and isinstance(value, str | float):
        return int(value)
    if pg_type in ("float4", "float8") and isinstance(value, str | int):
        return float(value)
    if pg_type == "numeric" and isinstance(value, str | int | float):
        return decimal.Decimal(str(value))
    if pg_type == "bool" and isinstance(value, str):
        return {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}[
            value.strip().lower()
        ]
    if pg_type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if pg_type in ("timestamp", "timestamptz") and isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if pg_type == "timestamptz" and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment
    if pg_type == "time" and isinstance(value, str):
        return dt.time.fromisoformat(value)
    if pg_type == "uuid" and isinstance(value, str):
        return uuid.UUID(value)
    if pg_type in ("json", "jsonb") and not isinstance(value, str):
        return dumps(value)
    if pg_type in ("text", "varchar", "bpchar", "name") and not isinstance(value, str):
        return dumps(value) if isinstance(value, dict | list) else str(value)
    return value


def _coerce(params: Sequence[Any], types: Sequence[str]) -> list[Any]:
    if len(params) != len(types):
        raise ToolFailure(
            "execution_error",
            f"The query has {len(types)} placeholder(s) ($1, $2, ...) but {len(params)} "
            "parameter(s) were given.",
        )
    try:
        return [_coerce_one(v, t) for v, t in zip(params, types, strict=True)]
    except (ValueError, KeyError, ArithmeticError) as exc:
        raise ToolFailure(
            "execution_error",
            f"A parameter does not fit its column type ({exc}); pass numbers as numbers and "
            "dates as YYYY-MM-DD.",
        ) from exc


Database = SQLiteDatabase | PostgresDatabase


def connect(url: str, *, limits: Limits | None = None, schema: str | None = None) -> Database:
    """Open a backend from a URL: ``sqlite:///relative.db``, ``sqlite:////abs.db``,
    ``postgresql://user@host:5432/db`` (``schema`` sets the PostgreSQL search path)."""
    limits = limits or Limits()
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"expected sqlite:///path.db, got {url!r}")
        return SQLiteDatabase(path, limits=limits)
    if parts.scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url, limits=limits, schema=schema)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unknown_table(table: str, names: set[str]) -> ToolFailure:
    return ToolFailure(
        "execution_error",
        f"There is no table named {table!r}. Tables: {', '.join(sorted(names)) or '(none)'}.",
        details={"table": table, "tables": sorted(names)},
    )


def _sql_error(exc: BaseException) -> ToolFailure:
    return ToolFailure(
        "execution_error",
        f"The database rejected the query: {exc}. Fix the SQL and try again.",
        details={"error": exc.__class__.__name__},
    )
