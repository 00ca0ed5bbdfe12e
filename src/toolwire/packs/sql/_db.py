"""Read-only database backends behind one URL: SQLite (:mod:`._sqlite`) and PostgreSQL
(:mod:`._postgres`).

Each backend enforces read-only on the connection, independently of the parser check in
:mod:`._guard`, and bounds size and time while it reads (see each module). Parameters are
always bound by the driver.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from toolwire.packs.sql._postgres import PostgresDatabase, close_pools
from toolwire.packs.sql._results import Limits
from toolwire.packs.sql._sqlite import SQLiteDatabase

__all__ = ["Database", "Limits", "PostgresDatabase", "SQLiteDatabase", "close_pools", "connect"]

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
