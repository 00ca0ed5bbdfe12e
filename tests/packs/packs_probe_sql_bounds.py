"""Measure the SQL pack's hostile-query probes: RSS growth, wall time and outcome of each.

Not a test (the tests assert behaviour, never timings): the figures in RELIABILITY.md come
from this script. Each probe runs in a fresh process, so its peak RSS is its own::

    python tests/packs/packs_probe_sql_bounds.py                    # every probe
    PYTHONPATH=/path/to/other/src python tests/packs/packs_probe_sql_bounds.py randomblob_3e8

PostgreSQL probes need the server at 127.0.0.1:5432 (db ``test``, user ``postgres``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PG = os.environ.get("TOOLWIRE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
MANY = ", ".join(["x"] * 400)
WIDEST = ", ".join(["x"] * 128)  # the most columns a result may have
PROBES: dict[str, tuple[str, str]] = {
    "randomblob_3e8": ("sqlite", "SELECT randomblob(300000000)"),
    "randomblob_1e9": ("sqlite", "SELECT randomblob(1e9)"),
    "sqlite_1000_rows_of_200kb": (
        "sqlite",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) "
        "SELECT x, randomblob(200000) FROM c",
    ),
    "sqlite_400_columns_of_250kb": (
        "sqlite",
        f"WITH v(x) AS (SELECT randomblob(250000)) SELECT {MANY} FROM v",
    ),
    "sqlite_128_columns_of_250kb": (
        "sqlite",
        f"WITH v(x) AS (SELECT randomblob(250000)) SELECT {WIDEST} FROM v",
    ),
    "pg_repeat_2e8": ("postgres", "SELECT repeat('x', 200000000)"),
    "pg_1000_rows_of_200kb": (
        "postgres",
        "SELECT g, repeat('y', 200000) FROM generate_series(1, 1000) g",
    ),
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _one(name: str) -> dict[str, Any]:
    from toolwire._errors import ToolFailure
    from toolwire.packs.sql._db import Limits, PostgresDatabase, SQLiteDatabase

    kind, sql = PROBES[name]
    limits = Limits(timeout_s=3.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.db"
        sqlite3.connect(path).close()
        db: Any = (
            SQLiteDatabase(path, limits=limits)
            if kind == "sqlite"
            else PostgresDatabase(PG, limits=limits)
        )
        await db.run_query("SELECT 1", [])  # imports, pool and connection before measuring
        before = _rss_mb()
        start = time.perf_counter()
        try:
            out = await db.run_query(sql, [])
            outcome = f"rows={out['row_count']} truncated={out['truncated']}"
        except ToolFailure as exc:
            outcome = f"{exc.kind}: {exc.message[:90]}"
        elapsed = time.perf_counter() - start
        await db.aclose()
    return {
        "probe": name,
        "rss_growth_mb": round(_rss_mb() - before, 1),
        "seconds": round(elapsed, 2),
        "outcome": outcome,
    }


def main(names: list[str]) -> None:
    if len(names) == 2 and names[0] == "--one":
        print(json.dumps(asyncio.run(_one(names[1])), ensure_ascii=False))
        return
    for name in names or list(PROBES):
        done = subprocess.run(
            [sys.executable, __file__, "--one", name],
            capture_output=True,
            text=True,
            timeout=300,
        )
        print(done.stdout.strip() or f'{{"probe": "{name}", "error": {done.stderr[-300:]!r}}}')


if __name__ == "__main__":
    main(sys.argv[1:])
