"""The first of two read-only locks: only one plain query passes the parser.

The second lock is the connection itself (SQLite ``mode=ro`` + an authorizer, PostgreSQL
``READ ONLY`` transactions with ``statement_timeout``), so a statement the parser misjudges
still cannot write. This check exists to give the model a clear reason early, and to stop
what a read-only connection still allows: sleeping, signalling other backends, reading
server files, calling out through ``dblink``, taking locks.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from toolwire._errors import ToolFailure

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    from toolwire._errors import MissingExtra

    raise MissingExtra("sqlglot", "sql") from _exc

Dialect = Literal["sqlite", "postgres"]

# EXPLAIN is not in sqlglot's grammar for these dialects; it is peeled off and the rest
# checked. ANALYZE (which runs the statement) and option lists are not accepted.
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+QUERY\s+PLAN)?\s+(?=\S)", re.IGNORECASE)

_ROOTS: tuple[type[exp.Expression], ...] = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)
_WRITE_NODES: tuple[type[exp.Expression], ...] = tuple(
    t
    for t in (
        getattr(exp, name, None)
        for name in (
            "Insert",
            "Update",
            "Delete",
            "Merge",
            "Create",
            "Drop",
            "Alter",
            "AlterTable",
            "TruncateTable",
            "Command",
            "Into",
            "Lock",
            "Copy",
            "Pragma",
            "Attach",
            "Detach",
            "Set",
            "Transaction",
            "Commit",
            "Rollback",
            "Use",
            "LoadData",
            "Grant",
            "Revoke",
        )
    )
    if isinstance(t, type)
)
# Functions a read-only transaction still lets run but that act outside the query: sleeping,
# settings, sequences, large objects, server files, other backends, other servers, SQL text
# executed by a function, SQLite extensions.
_DENIED_FUNCTIONS = frozenset(
    {
        "set_config",
        "nextval",
        "setval",
        "currval",
        "lastval",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        "database_to_xml",
        "schema_to_xml",
        "table_to_xml",
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "txid_current",
        "current_query",
        "sqlite_compileoption_get",
    }
)
_DENIED_PREFIXES = ("pg_", "lo_", "dblink", "xact_", "binary_upgrade_", "sqlite_")
_ALLOWED_PG = frozenset(
    {
        "pg_typeof",
        "pg_column_size",
        "pg_size_pretty",
        "pg_size_bytes",
        "pg_get_expr",
        "pg_get_constraintdef",
        "pg_get_indexdef",
    }
)

logging.getLogger("sqlglot").setLevel(logging.ERROR)


def _refuse(sql: str, reason: str) -> ToolFailure:
    return ToolFailure(
        "forbidden",
        f"This query was refused: {reason}. Only a single read-only SELECT, WITH (without "
        "INSERT/UPDATE/DELETE), VALUES or EXPLAIN statement is allowed.",
        details={"reason": reason, "sql": sql[:500]},
    )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        this = node.this
        return (this.name if isinstance(this, exp.Expression) else str(this)).lower()
    return node.sql_name().lower()


def check_read_only(sql: str, dialect: Dialect) -> str:
    """Return ``sql`` unchanged when it is one read-only query; raise ``forbidden`` otherwise.

    Example::

        check_read_only("SELECT name FROM customers WHERE id = ?", "sqlite")   # passes
        check_read_only("SELECT 1; DROP TABLE customers", "sqlite")           # ToolFailure
    """
    if not sql.strip():
        raise _refuse(sql, "the query is empty")
    if "\x00" in sql:
        raise _refuse(sql, "the query contains a NUL character")
    body = _EXPLAIN.sub("", sql, count=1)
    try:
        statements = [s for s in sqlglot.parse(body, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise _refuse(sql, f"it could not be parsed as {dialect} SQL ({exc})") from exc
    except RecursionError as exc:
        raise _refuse(sql, "it is nested too deeply") from exc
    if len(statements) != 1:
        raise _refuse(sql, f"it contains {len(statements)} statements, not exactly one")
    statement = statements[0]
    if not isinstance(statement, _ROOTS):
        raise _refuse(sql, f"it is a {statement.key.upper()} statement")
    for node in statement.walk():
        if isinstance(node, _WRITE_NODES):
            raise _refuse(sql, f"it contains {node.key.upper()}")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in _DENIED_FUNCTIONS or (
                name.startswith(_DENIED_PREFIXES) and name not in _ALLOWED_PG
            ):
                raise _refuse(sql, f"it calls the function {name}()")
    return sql
