"""PostgreSQL through asyncpg, read-only and bounded while it reads.

Every query runs in a ``READ ONLY`` transaction with ``statement_timeout``, which is **always
rolled back**, and is refused (``forbidden``) if it got a transaction id anyway: a READ ONLY
transaction still lets some server-side writers through (``lo_from_bytea`` creates a large
object), and any such write assigns one. The query runs wrapped as a subquery, so only
something that can be a subquery runs at all (never ``COPY ... TO PROGRAM``, ``DO``,
``CALL``), and the server refuses any row larger than twice the result's byte cap before
sending it (``pg_column_size`` of the whole row); rows are fetched in small batches and
reading stops at the caps. When a pool opens, the role is checked once: a superuser, or a role
that can write, create or run server programs, is logged as a warning on the
``toolwire.packs.sql`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import logging
import re
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from toolwire._errors import MissingExtra, ToolFailure
from toolwire._json import dumps
from toolwire.packs.sql._guard import Dialect, check_read_only, statement_text
from toolwire.packs.sql._results import (
    SAMPLE_ROWS,
    Collector,
    Limits,
    jsonable,
    sql_error,
    timed_out,
    unknown_table,
)

log = logging.getLogger("toolwire.packs.sql")

BATCH_BYTES = 8 * 1024 * 1024
"""Rows are fetched in batches of at most this many bytes (each row at most 2 x max_bytes)."""
_GRACE_S = 5.0  # the client's own deadline, past statement_timeout (a server that hangs)
_ROW_MARK = "toolwire row size "
_ROW_SIZE = re.compile(re.escape(_ROW_MARK) + r"(\d+)")
# A whole-row size check the server evaluates per row. OFFSET 0 keeps the planner from pulling
# the inner query up (it would then compute each output expression once per reference); the
# failing branch is a cast that cannot succeed, PostgreSQL's SQL having no RAISE.
_WRAPPED = (
    "SELECT * FROM (SELECT * FROM (\n{sql}\n) AS _tw_query OFFSET 0) AS _tw_row "
    "WHERE CASE WHEN pg_column_size(_tw_row.*) <= {limit} THEN true "
    "ELSE ('" + _ROW_MARK + "' || pg_column_size(_tw_row.*))::int > 0 END"
)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\b", re.IGNORECASE)

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
                settings["search_path"] = quote_ident(self.schema)
            pool = await asyncpg.create_pool(
                self.dsn, min_size=0, max_size=8, server_settings=settings
            )
            self._pools[loop] = pool
            _OPEN_POOLS.setdefault(loop, set()).add(pool)
            await _warn_if_privileged(pool)
        return pool

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            _OPEN_POOLS.get(loop, set()).discard(pool)
            await pool.close()

    async def _run(self, sql: str, params: Sequence[Any], max_rows: int) -> tuple[list[str], Any]:
        """Up to ``max_rows + 1`` rows as ``(columns, rows)``, read in batches (no caps but
        the row size; :meth:`run_query` caps bytes too)."""
        rows: list[Any] = []

        def keep(columns: list[str], row: Any) -> bool:
            rows.append(row)
            return len(rows) <= max_rows

        columns = await self._read(sql, params, keep)
        return columns, rows

    async def _read(self, sql: str, params: Sequence[Any], keep: Any) -> list[str]:
        import asyncpg

        limits = self.limits
        pool = await self._pool()
        ms = max(1, int(limits.timeout_s * 1000))
        row_limit = 2 * limits.max_bytes
        text = sql if _EXPLAIN.match(sql) else _WRAPPED.format(sql=sql, limit=row_limit)
        batch = max(1, BATCH_BYTES // max(1, row_limit))
        try:
            async with asyncio.timeout(limits.timeout_s + _GRACE_S), pool.acquire() as conn:
                txn = conn.transaction(readonly=True)
                await txn.start()
                try:
                    await conn.execute(
                        f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; "
                        f"SET LOCAL idle_in_transaction_session_timeout = {ms * 2}"
                    )
                    stmt = await conn.prepare(text)
                    columns = [a.name for a in stmt.get_attributes()]
                    types = [t.name for t in stmt.get_parameters()]
                    cursor = await stmt.cursor(*_coerce(params, types))
                    going = True
                    while going:
                        got = await cursor.fetch(batch)
                        going = len(got) == batch
                        for row in got:
                            if not keep(columns, row):
                                going = False
                                break
                    if await conn.fetchval("SELECT txid_current_if_assigned()") is not None:
                        raise ToolFailure(
                            "forbidden",
                            "The query wrote to the database although its transaction is READ "
                            "ONLY (a large-object or another server-side writer); it was rolled "
                            "back.",
                        )
                    return columns
                finally:
                    # a read never needs to commit: undo whatever got written. If the rollback
                    # itself fails (a cancelled query), the pool resets or drops the
                    # connection on release, which aborts the transaction all the same.
                    with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError):
                        await txn.rollback()
        except TimeoutError as exc:
            raise timed_out(limits) from exc
        except asyncpg.QueryCanceledError as exc:
            raise timed_out(limits) from exc
        except (asyncpg.ReadOnlySQLTransactionError, asyncpg.InsufficientPrivilegeError) as exc:
            raise ToolFailure("forbidden", f"The database refused the query: {exc}") from exc
        except asyncpg.InvalidTextRepresentationError as exc:
            size = _ROW_SIZE.search(str(exc))
            if size is not None:
                raise ToolFailure(
                    "too_large",
                    f"A row of the result is {size.group(1)} bytes, far over the result size "
                    f"cap of {limits.max_bytes} bytes, so the server stopped the query before "
                    "sending it. Select fewer or shorter values (substr(), length(), "
                    "aggregates).",
                    details={"limit": limits.max_bytes, "row_bytes": int(size.group(1))},
                ) from exc
            raise sql_error(exc) from exc
        except (asyncpg.PostgresError, asyncpg.DataError) as exc:
            raise sql_error(exc) from exc
        except (TypeError, ValueError, OverflowError) as exc:
            raise sql_error(exc) from exc

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
            raise unknown_table(table, names)
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
        out: dict[str, Any] = {"table": table}
        try:
            _, sample = await self._run(f"SELECT * FROM {quote_ident(table)}", [], SAMPLE_ROWS - 1)
        except ToolFailure as exc:
            if exc.kind != "too_large":
                raise
            sample = []
            out["sample_note"] = f"No sample rows: {exc.message}"
        out.update(
            columns=[
                {"name": n, "type": t, "nullable": bool(nb), "primary_key": n in primary}
                for n, t, nb in cols
            ],
            primary_key=primary,
            foreign_keys=[
                {"column": k[0], "references": f"{k[2]}({k[3]})"}
                for k in keys
                if k[1] == "FOREIGN KEY"
            ],
            sample_rows=[[jsonable(v) for v in r] for r in sample[:SAMPLE_ROWS]],
        )
        return out

    async def run_query(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        check_read_only(sql, "postgres")
        collector: Collector | None = None

        def keep(columns: list[str], row: Any) -> bool:
            nonlocal collector
            if collector is None:
                collector = Collector(columns, self.limits)
            return collector.add(tuple(row))

        columns = await self._read(statement_text(sql, "postgres"), params, keep)
        return (collector or Collector(columns, self.limits)).result()


# --- the role's privileges, checked once per pool ----------------------------------------------

_PRIVILEGES = """
WITH tables AS (
    SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'f', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      AND has_schema_privilege(n.oid, 'USAGE')
), writes AS (
    SELECT t.name, p.priv
    FROM tables t CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p(priv)
    WHERE has_table_privilege(t.oid, p.priv)
)
SELECT
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
    ARRAY(SELECT DISTINCT priv FROM writes ORDER BY priv) AS privileges,
    ARRAY(SELECT DISTINCT name FROM writes ORDER BY name LIMIT 5) AS tables,
    (SELECT count(DISTINCT name) FROM writes) AS table_count,
    ARRAY(SELECT nspname::text FROM pg_namespace
          WHERE has_schema_privilege(oid, 'CREATE')
            AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
          ORDER BY nspname) AS create_schemas,
    has_database_privilege(current_database(), 'CREATE') AS create_database,
    ARRAY(SELECT r FROM unnest(ARRAY['pg_write_server_files', 'pg_execute_server_program',
                                     'pg_read_server_files']) AS r
          WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
            AND pg_has_role(current_user, r, 'USAGE')) AS server_roles,
    ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
          WHERE p.proname IN ('dblink_exec', 'dblink', 'dblink_connect', 'pg_file_write',
                              'pg_file_rename', 'pg_file_unlink')
            AND has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1) AS writers,
    current_user AS role
"""


async def _warn_if_privileged(pool: Any) -> None:
    """Log a warning when the pool's role could write (reads are refused nothing by it)."""
    import asyncpg

    try:
        async with pool.acquire() as conn:
            found = await conn.fetchrow(_PRIVILEGES)
    except (asyncpg.PostgresError, OSError) as exc:  # the queries themselves report it
        log.debug("could not check the PostgreSQL role's privileges: %s", exc)
        return
    if found is None:
        return
    reasons = privileged_reasons(dict(found))
    if reasons:
        log.warning(
            "The SQL pack's PostgreSQL role %r %s. Queries run in READ ONLY transactions and "
            "pass the SQL guard, but connect with a role that has only SELECT on the tables "
            "meant to be queried.",
            found["role"],
            "; ".join(reasons),
        )


def privileged_reasons(found: dict[str, Any]) -> list[str]:
    """What the role may do beyond reading, from the row :data:`_PRIVILEGES` returns."""
    if found.get("superuser"):
        return ["is a superuser (it can write anything, read server files and run programs)"]
    reasons: list[str] = []
    if found.get("privileges"):
        tables = ", ".join(found["tables"])
        more = found["table_count"] - len(found["tables"])
        listed = f"{tables} (and {more} more)" if more > 0 else tables
        reasons.append(f"can {', '.join(found['privileges'])} on {listed}")
    if found.get("create_schemas"):
        reasons.append(f"can CREATE in the schemas {', '.join(found['create_schemas'])}")
    if found.get("create_database"):
        reasons.append("can CREATE schemas in the database")
    if found.get("server_roles"):
        reasons.append(f"is a member of {', '.join(found['server_roles'])}")
    if found.get("writers"):
        reasons.append(f"can execute {', '.join(found['writers'])}")
    return reasons


# --- parameters --------------------------------------------------------------------------------


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


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
