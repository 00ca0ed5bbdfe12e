"""The SQL pack's PostgreSQL pools are closed by the CLI's cleanup, like remote clients."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from toolwire._context import Context
from toolwire._tools import Tool
from toolwire.cli._chat import close_connections
from toolwire.packs import sql


async def _query(t: Tool, text: str) -> Any:
    ctx = Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate({"sql": text}), ctx))


@pytest.mark.postgres
@pytest.mark.anyio
async def test_close_connections_closes_the_pools(postgres_dsn: str) -> None:
    pytest.importorskip("asyncpg")
    db = sql.connect(postgres_dsn)
    assert isinstance(db, sql.PostgresDatabase)
    run_query = {t.name: t for t in sql.tools(db)}["run_query"]
    assert (await _query(run_query, "SELECT 1 AS one"))["rows"] == [[1]]
    pools = list(db._pools.values())
    assert pools and not any(p.is_closing() for p in pools)
    await close_connections()
    assert all(p.is_closing() for p in pools)
    # the tools still work afterwards: the next call opens a new pool
    assert (await _query(run_query, "SELECT 2 AS two"))["rows"] == [[2]]
    fresh = list(db._pools.values())
    assert fresh and fresh[0] not in pools
    await sql.close_pools()
    assert fresh[0].is_closing()


@pytest.mark.postgres
def test_call_through_the_sql_pack_leaves_no_connection_open(postgres_dsn: str) -> None:
    pytest.importorskip("asyncpg")
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",  # unclosed connections and transports are reported on stderr
            "-m",
            "toolwire",
            "call",
            "run_query",
            "sql=SELECT 40 + 2 AS answer",
            "--tools",
            f"sql:{postgres_dsn}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"]["rows"] == [[42]]
    assert "unclosed" not in done.stderr.lower(), done.stderr
