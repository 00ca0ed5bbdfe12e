"""The SQL pack bounds size and time while it reads, and writes never get through.

The result-size cap used to apply after rows were in memory: ``SELECT randomblob(300000000)``
grew RSS by 1.4 GB, ``randomblob(1e9)`` ran 18 s past a 3 s timeout, PostgreSQL
``repeat('x', 2e8)`` took 820 MB; and ``lo_from_bytea`` wrote through a READ ONLY
transaction. Real SQLite files and the real PostgreSQL server; memory is measured with
tracemalloc (Python objects the drivers build), never time.
"""

from __future__ import annotations

import logging
import sqlite3
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from toolwire._errors import ToolFailure
from toolwire.packs.sql import check_read_only
from toolwire.packs.sql._db import Limits, PostgresDatabase, SQLiteDatabase

T = TypeVar("T")
MB = 1024 * 1024


async def _peak(work: Callable[[], Awaitable[T]]) -> tuple[T | ToolFailure, int]:
    """``work()``'s result (or its ToolFailure) and the peak of Python allocations meanwhile."""
    tracemalloc.start()
    try:
        try:
            out: T | ToolFailure = await work()
        except ToolFailure as exc:
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _too_large(out: object, *words: str) -> ToolFailure:
    assert isinstance(out, ToolFailure), f"not refused: {str(out)[:200]}"
    assert out.kind == "too_large", out
    for word in words:
        assert word in out.message, out.message
    return out


# --- SQLite ---------------------------------------------------------------------------------


@pytest.fixture
def lite(tmp_path: Path) -> Path:
    path = tmp_path / "big.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, raw BLOB)")
        conn.execute("INSERT INTO docs VALUES (1, 'short', x'00')")
        conn.execute("INSERT INTO docs VALUES (2, ?, ?)", ("y" * 3_000_000, b"\0" * 3_000_000))
        conn.execute("CREATE TABLE wide (" + ", ".join(f"c{i} INTEGER" for i in range(300)) + ")")
        conn.execute("INSERT INTO wide (c0, c299) VALUES (1, 2)")
    conn.close()
    return path


@pytest.mark.anyio
async def test_sqlite_a_huge_computed_value_is_refused_before_it_is_built(lite: Path) -> None:
    db = SQLiteDatabase(lite, limits=Limits(timeout_s=3))
    out, peak = await _peak(lambda: db.run_query("SELECT randomblob(50000000)", []))
    _too_large(out, "256000 bytes")
    assert peak < 5 * MB  # main: the 50 MB blob, then its base64 text
    # a single step that would run for many seconds past the deadline is refused at once
    out, _ = await _peak(lambda: db.run_query("SELECT length(randomblob(1e9))", []))
    _too_large(out)
    for sql in ("SELECT zeroblob(1e9)", "SELECT replace(hex(zeroblob(100000)), '0', 'xxxxxxxx')"):
        _too_large((await _peak(lambda sql=sql: db.run_query(sql, [])))[0])  # type: ignore[misc]


@pytest.mark.anyio
async def test_sqlite_rows_are_read_one_at_a_time_up_to_the_cap(lite: Path) -> None:
    db = SQLiteDatabase(lite, limits=Limits())
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) "
        "SELECT x, randomblob(100000) FROM c"
    )
    out, peak = await _peak(lambda: db.run_query(sql, []))
    assert isinstance(out, dict) and out["truncated"] and out["row_count"] == 1
    assert "256000 bytes" in out["note"]
    assert peak < 10 * MB  # main read 1,001 rows of 100 KB (100 MB) before cutting


@pytest.mark.anyio
async def test_sqlite_a_row_of_many_big_columns_is_bounded(lite: Path) -> None:
    db = SQLiteDatabase(lite, limits=Limits())
    many = ", ".join(["x"] * 400)
    out, _ = await _peak(
        lambda: db.run_query(f"WITH v(x) AS (SELECT randomblob(250000)) SELECT {many} FROM v", [])
    )
    assert isinstance(out, ToolFailure) and out.kind == "too_large", out
    assert "128 columns" in out.message
    # a wide table stays usable: name the columns (SELECT * names all 300)
    assert (await db.run_query("SELECT c0, c299 FROM wide", []))["rows"] == [[1, 2]]
    with pytest.raises(ToolFailure, match="128 columns"):
        await db.run_query("SELECT * FROM wide", [])


@pytest.mark.anyio
async def test_sqlite_stored_values_over_the_cap(lite: Path) -> None:
    db = SQLiteDatabase(lite, limits=Limits())
    with pytest.raises(ToolFailure) as info:
        await db.run_query("SELECT body FROM docs WHERE id = 2", [])
    _too_large(info.value, "substr")
    out = await db.run_query("SELECT id, length(raw) FROM docs ORDER BY id", [])
    assert out["rows"] == [[1, 1], [2, 3_000_000]]  # a blob's length needs no content
    # the length limit is one knob for values read and values computed: a stored text over
    # the cap cannot be processed either (documented; raise max_bytes for such data)
    with pytest.raises(ToolFailure) as scan:
        await db.run_query("SELECT id FROM docs WHERE body LIKE 'y%'", [])
    assert scan.value.kind == "too_large"
    roomy = SQLiteDatabase(lite, limits=Limits(max_bytes=4_000_000))
    assert (await roomy.run_query("SELECT id FROM docs WHERE body LIKE 'y%'", []))["rows"] == [[2]]
    described = await db.describe_table("docs")
    assert described["columns"][1]["name"] == "body"
    assert "256000 bytes" in described["sample_note"]


@pytest.mark.anyio
async def test_sqlite_the_deadline_interrupts_a_long_statement(lite: Path) -> None:
    db = SQLiteDatabase(lite, limits=Limits(timeout_s=0.3))
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 30000000) "
        "SELECT count(*) FROM (SELECT x FROM c ORDER BY random())"
    )
    with pytest.raises(ToolFailure) as info:
        await db.run_query(sql, [])
    assert info.value.kind == "timeout"


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
async def pg(postgres_dsn: str) -> AsyncIterator[tuple[PostgresDatabase, Any, str]]:
    asyncpg = pytest.importorskip("asyncpg")
    schema = f"tw_bounds_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    await admin.execute(f"CREATE TABLE {schema}.items (id int PRIMARY KEY, name text)")
    await admin.execute(
        f"INSERT INTO {schema}.items SELECT g, 'item ' || g FROM generate_series(1, 50) g"
    )
    db = PostgresDatabase(postgres_dsn, limits=Limits(timeout_s=5), schema=schema)
    try:
        yield db, admin, schema
    finally:
        await db.aclose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_an_oversized_row_is_refused_by_the_server(
    pg: tuple[PostgresDatabase, Any, str],
) -> None:
    db, _, _ = pg
    out, peak = await _peak(lambda: db.run_query("SELECT repeat('x', 20000000) AS v", []))
    _too_large(out, "256000 bytes")
    assert peak < 5 * MB  # main: the 20 MB string crossed the wire into Python
    sql = "SELECT g, repeat('y', 200000) FROM generate_series(1, 1000) g"
    out, peak = await _peak(lambda: db.run_query(sql, []))
    assert isinstance(out, dict) and out["truncated"] and out["row_count"] == 1
    assert peak < 12 * MB  # main fetched 1,001 rows of 200 KB before cutting


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_queries_keep_their_shape_through_the_size_check(
    pg: tuple[PostgresDatabase, Any, str],
) -> None:
    db, _, _ = pg
    cases: dict[str, tuple[list[str], list[list[Any]]]] = {
        "SELECT 1 AS a, 2 AS a": (["a", "a"], [[1, 2]]),
        "SELECT id FROM items ORDER BY id DESC LIMIT 3 -- newest": (["id"], [[50], [49], [48]]),
        "VALUES (1, 'a'), (2, 'b')": (["column1", "column2"], [[1, "a"], [2, "b"]]),
        "WITH x AS (SELECT 7 AS n) SELECT n FROM x": (["n"], [[7]]),
        "(SELECT 1 AS n) UNION (SELECT 2) ORDER BY 1 DESC": (["n"], [[2], [1]]),
        "SELECT 'it''s ) -- not a comment' AS t": (["t"], [["it's ) -- not a comment"]]),
        "SELECT $$a;b)$$ AS t;;": (["t"], [["a;b)"]]),
    }
    for sql, (columns, rows) in cases.items():
        out = await db.run_query(sql, [])
        assert (out["columns"], out["rows"]) == (columns, rows), sql
    assert (await db.run_query("SELECT name FROM items WHERE id = $1", [3]))["rows"] == [["item 3"]]
    assert (await db.run_query("EXPLAIN SELECT * FROM items", []))["row_count"] >= 1


async def _large_objects(admin: Any, marker: bytes) -> list[int]:
    rows = await admin.fetch("SELECT DISTINCT loid FROM pg_largeobject WHERE data = $1", marker)
    return [r["loid"] for r in rows]


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_large_object_writes_are_refused_at_the_connection(
    pg: tuple[PostgresDatabase, Any, str],
) -> None:
    """Without the parser: the connection alone must stop a write a READ ONLY transaction
    lets through."""
    db, admin, _ = pg
    marker = f"tw-lo-{uuid.uuid4().hex}".encode()
    try:
        with pytest.raises(ToolFailure) as info:
            await db._run(f"SELECT lo_from_bytea(0, '{marker.decode()}'::bytea)", [], 10)
        assert info.value.kind == "forbidden" and "wrote" in info.value.message
        assert await _large_objects(admin, marker) == []
    finally:
        for oid in await _large_objects(admin, marker):  # main left it behind
            await admin.execute("SELECT lo_unlink($1)", oid)


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_other_statements_cannot_run_at_the_connection(
    pg: tuple[PostgresDatabase, Any, str], tmp_path: Path
) -> None:
    db, _, _ = pg
    flag = tmp_path / "ran"
    for sql in (
        f"COPY (SELECT 1) TO PROGRAM 'touch {flag}'",
        "DO $$ BEGIN PERFORM 1; END $$",
        "SELECT 1; SELECT 2",
    ):
        with pytest.raises(ToolFailure) as info:
            await db._run(sql, [], 10)
        assert info.value.kind in ("forbidden", "execution_error"), sql
    assert not flag.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT lo_from_bytea(0, 'x')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_put(1, 0, 'x')",
        "SELECT lo_create(0)",
        "SELECT lowrite(0, 'x')",
        "SELECT pg_catalog.lo_from_bytea(0, 'x')",
        "SELECT dblink_exec('dbname=test', 'DELETE FROM t')",
        "SELECT * FROM dblink('dbname=test', 'SELECT 1') AS t(x int)",
        "SELECT pg_file_write('f', 'x', false)",
        "SELECT pg_logical_emit_message(false, 'p', 'x')",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "COPY items TO '/tmp/x'",
    ],
)
def test_the_guard_refuses_server_side_writers(sql: str) -> None:
    with pytest.raises(ToolFailure) as info:
        check_read_only(sql, "postgres")
    assert info.value.kind == "forbidden"


@pytest.fixture
async def role(
    pg: tuple[PostgresDatabase, Any, str], postgres_dsn: str
) -> AsyncIterator[Callable[[str], Awaitable[PostgresDatabase]]]:
    """A login role of its own (dropped afterwards) and a database handle connecting as it."""
    _, admin, schema = pg
    name = f"tw_role_{uuid.uuid4().hex[:10]}"
    await admin.execute(f"CREATE ROLE {name} LOGIN")
    await admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
    opened: list[PostgresDatabase] = []

    async def connect(grant: str) -> PostgresDatabase:
        if grant:
            await admin.execute(grant.format(role=name, schema=schema))
        dsn = postgres_dsn.replace("postgres@", f"{name}@", 1)
        db = PostgresDatabase(dsn, limits=Limits(timeout_s=5), schema=schema)
        opened.append(db)
        return db

    try:
        yield connect
    finally:
        for db in opened:
            await db.aclose()
        await admin.execute(f"DROP OWNED BY {name}")
        await admin.execute(f"DROP ROLE {name}")


def _warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name == "toolwire.packs.sql" and r.levelno >= logging.WARNING
    )


@pytest.mark.postgres
@pytest.mark.anyio
async def test_connecting_warns_when_the_role_can_write(
    pg: tuple[PostgresDatabase, Any, str],
    role: Callable[[str], Awaitable[PostgresDatabase]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    db, _, _ = pg
    caplog.set_level(logging.WARNING, logger="toolwire.packs.sql")
    await db.run_query("SELECT 1", [])  # the fixture's role: postgres, a superuser
    assert "superuser" in _warnings(caplog)
    caplog.clear()
    reader = await role("GRANT SELECT ON {schema}.items TO {role}")
    assert (await reader.run_query("SELECT count(*) FROM items", []))["rows"] == [[50]]
    assert _warnings(caplog) == ""
    writer = await role("GRANT INSERT, DELETE ON {schema}.items TO {role}")
    await writer.run_query("SELECT 1", [])
    said = _warnings(caplog)
    assert "items" in said and "INSERT" in said and "DELETE" in said
    caplog.clear()
    creator = await role("GRANT CREATE ON SCHEMA {schema} TO {role}")
    await creator.run_query("SELECT 1", [])
    assert "CREATE" in _warnings(caplog)
