"""The SQL pack's tools: ``list_tables``, ``describe_table`` and ``run_query``."""

from __future__ import annotations

from typing import Any

from toolwire._tools import Tool, tool
from toolwire.packs.sql._db import Database, Limits, connect

_DIALECT_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def tools(
    database: str | Database,
    *,
    max_rows: int = 1000,
    max_bytes: int = 256_000,
    timeout_s: float = 10.0,
    schema: str | None = None,
    prefix: str = "",
) -> list[Tool]:
    """Read-only query tools over a database URL (or an opened backend).

    ``sqlite:///shop.db`` (relative), ``sqlite:////abs/shop.db`` or ``postgresql://...``
    (``schema`` picks the PostgreSQL search path). Every query is parsed and refused unless it
    is one read-only statement, then runs on a read-only connection with a row limit, a result
    size cap (``truncated`` is set when either cuts) and a timeout, all enforced while rows
    are read (a value or row far over ``max_bytes`` is refused with ``too_large`` before it
    is built or sent); parameters are always bound.

    Example::

        from toolwire.packs import sql
        box = tw.Toolbox(sql.tools(f"sqlite:///{sql.sample_database()}", max_rows=200))
    """
    db = (
        connect(
            database,
            limits=Limits(max_rows=max_rows, max_bytes=max_bytes, timeout_s=timeout_s),
            schema=schema,
        )
        if isinstance(database, str)
        else database
    )
    dialect = _DIALECT_NAMES[db.dialect]
    limits = db.limits

    @tool(
        name=f"{prefix}list_tables",
        description=f"List the tables and views of the {dialect} database. Call this first, "
        "then describe_table for the tables you need.",
        read_only=True,
        tags={"sql"},
    )
    async def list_tables() -> list[dict[str, Any]]:
        return await db.list_tables()

    @tool(
        name=f"{prefix}describe_table",
        description=f"Show a table of the {dialect} database: columns with types and "
        "nullability, the primary key, foreign keys and a few sample rows.",
        read_only=True,
        tags={"sql"},
    )
    async def describe_table(table: str) -> dict[str, Any]:
        """Describe a table.

        Args:
            table: The exact table name, as listed by list_tables.
        """
        return await db.describe_table(table)

    @tool(
        name=f"{prefix}run_query",
        description=f"Run one read-only {dialect} query and return columns and rows. Only a single "
        "SELECT, WITH ... SELECT, VALUES or EXPLAIN statement is accepted; writes, DDL, "
        "PRAGMA/SET and several statements are refused. Put values in params and refer to "
        f"them with {db.placeholder} placeholders; never paste values into the SQL text. At most "
        f"{limits.max_rows} rows and {limits.max_bytes} bytes come back ('truncated' says when "
        f"results were cut: use LIMIT, aggregates or filters; a single value or row far over "
        f"the size is refused: select substr() or length()); queries stop after "
        f"{limits.timeout_s:g} s.",
        read_only=True,
        tags={"sql"},
    )
    async def run_query(sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        """Run a query.

        Args:
            sql: One read-only SQL statement.
            params: Values for the placeholders in sql, in order.
        """
        return await db.run_query(sql, params or [])

    return [list_tables, describe_table, run_query]
