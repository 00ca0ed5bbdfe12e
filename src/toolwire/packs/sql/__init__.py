"""Natural language to SQL, safely: read-only query tools over SQLite or PostgreSQL.

Example::

    from toolwire.packs import sql
    box = tw.Toolbox(sql.tools(f"sqlite:///{sql.sample_database()}"))
"""

from toolwire.packs.sql._db import (
    Limits,
    PostgresDatabase,
    SQLiteDatabase,
    close_pools,
    connect,
)
from toolwire.packs.sql._guard import check_read_only
from toolwire.packs.sql._sample import build_postgres, sample_database
from toolwire.packs.sql._tools import tools

__all__ = [
    "Limits",
    "PostgresDatabase",
    "SQLiteDatabase",
    "build_postgres",
    "check_read_only",
    "close_pools",
    "connect",
    "sample_database",
    "tools",
]
