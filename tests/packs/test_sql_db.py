"""The SQL pack's backends and guard: real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolwire._errors import ToolFailure
from toolwire.packs.sql._db import Limits, PostgresDatabase, SQLiteDatabase, connect
from toolwire.packs.sql._guard import check_read_only
from toolwire.packs.sql._sample import build, build_postgres, rows, sample_database
from toolwire.packs.sql._sqlite import _authorize

TABLES = ("customers", "products", "orders", "order_items")

COMMON_ATTACKS = [
    "SELECT 1; DELETE FROM customers",
    "SELECT 1; -- just a comment\nDROP TABLE orders",
    "SELECT 1 /* ; */; UPDATE products SET price = 0",
    "SELECT 1 UNION ALL SELECT 2; DELETE FROM customers",
    "DELETE FROM customers",
    "UPDATE products SET price = 0",
    "INSERT INTO customers VALUES (999, 'x', 'x@x', 'x', 'x', '2024-01-01')",
    "DROP TABLE order_items",
    "CREATE TABLE stolen AS SELECT * FROM customers",
    "ALTER TABLE customers ADD COLUMN x INTEGER",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE products SET price = 0 RETURNING id) SELECT count(*) FROM u",
    "WITH x AS (SELECT 1) INSERT INTO products SELECT * FROM products",
    "SELECT * FROM customers FOR UPDATE",
    "SELECT * FROM customers FOR SHARE",
    "SELECT * INTO stolen FROM customers",
    "ＤＥＬＥＴＥ FROM customers",
    "DELETE\u00a0FROM customers",
    "SELECT 1;\u037e DELETE FROM customers",
    "SELECT 1\uff1b DELETE FROM customers",
    "EXPLAIN ANALYZE DELETE FROM customers",
    "EXPLAIN DELETE FROM customers",
    "BEGIN; DELETE FROM customers; COMMIT",
    "",
    "   ",
    "SELECT 1\x00; DELETE FROM customers",
]
SQLITE_ATTACKS = [
    "ATTACH DATABASE '/tmp/toolwire-evil.db' AS evil",
    "DETACH DATABASE main",
    "PRAGMA writable_schema = 1",
    "PRAGMA query_only = OFF",
    "SELECT load_extension('/tmp/nothing')",
    "VACUUM INTO '/tmp/toolwire-copy.db'",
    "REPLACE INTO products VALUES (1, 'x', 'y', 1)",
    "SELECT writefile('/tmp/x', 'y')",
    "SELECT * FROM pragma_writable_schema",
]
PG_ATTACKS = [
    "COPY customers TO '/tmp/toolwire-x'",
    "COPY customers FROM PROGRAM 'id'",
    "SELECT pg_sleep(30)",
    "SELECT PG_SLEEP(30)",
    'SELECT "pg_sleep"(30)',
    "SELECT pg_catalog.pg_sleep(30)",
    "SELECT 1 WHERE EXISTS (SELECT pg_sleep(30))",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_cancel_backend(1)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT * FROM dblink('dbname=test', 'DELETE FROM customers') AS t(x int)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT query_to_xml('DELETE FROM customers', true, true, '')",
    "SELECT nextval('customers_id_seq')",
    "SELECT pg_advisory_lock(1)",
    "SET default_transaction_read_only = off",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "DO $$ BEGIN DELETE FROM customers; END $$",
    "LOCK TABLE customers",
    "CALL something()",
    "NOTIFY chan, 'x'",
    "SELECT pg_notify('chan', 'x')",
    "TRUNCATE customers",
    "SELECT * FROM customers FOR NO KEY UPDATE SKIP LOCKED",
    "PREPARE p AS DELETE FROM customers",
]


def _sqlite_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        for row in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            digest.update(repr(row).encode())
        for table in TABLES:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return build(tmp_path / "shop.db")


def test_sample_is_deterministic_and_sized(tmp_path: Path) -> None:
    a = _sqlite_checksum(build(tmp_path / "a.db"))
    b = _sqlite_checksum(build(tmp_path / "b.db"))
    assert a == b
    counts = {table: len(data) for table, data in rows()}
    assert counts["customers"] == 120 and counts["orders"] == 300
    assert 300 <= counts["order_items"] <= 900
    cached = sample_database(tmp_path / "cached.db")
    assert sample_database(cached) == cached and _sqlite_checksum(cached) == a


@pytest.mark.anyio
async def test_sqlite_tables_describe_and_query(shop: Path) -> None:
    db = connect(f"sqlite:///{shop}")
    assert isinstance(db, SQLiteDatabase)
    assert [t["name"] for t in await db.list_tables()] == sorted(TABLES)
    info = await db.describe_table("order_items")
    assert info["primary_key"] == ["order_id", "product_id"]
    assert {"column": "order_id", "references": "orders(id)"} in info["foreign_keys"]
    assert len(info["sample_rows"]) == 3
    with pytest.raises(ToolFailure) as missing:
        await db.describe_table("custmers")
    assert "customers" in missing.value.message
    out = await db.run_query(
        "SELECT name, city FROM customers WHERE id = ? AND city <> ?", [1, "x"]
    )
    assert out["columns"] == ["name", "city"] and out["row_count"] == 1
    assert out["truncated"] is False
    hostile = await db.run_query("SELECT count(*) FROM customers WHERE name = ?", ["x' OR 1=1"])
    assert hostile["rows"] == [[0]]
    explained = await db.run_query("EXPLAIN QUERY PLAN SELECT * FROM orders", [])
    assert explained["row_count"] >= 1


@pytest.mark.anyio
async def test_sqlite_limits(shop: Path) -> None:
    db = SQLiteDatabase(shop, limits=Limits(max_rows=50, max_bytes=2_000, timeout_s=0.3))
    many = await db.run_query("SELECT id FROM orders", [])
    assert many["row_count"] == 50 and many["truncated"] and "50" in many["note"]
    wide = await db.run_query("SELECT * FROM customers", [])
    assert wide["truncated"] and wide["row_count"] < 50 and "bytes" in wide["note"]
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
    with pytest.raises(ToolFailure) as info:
        await db.run_query(endless, [])
    assert info.value.kind == "timeout"
    with pytest.raises(ToolFailure) as bad:
        await db.run_query("SELECT nope FROM customers", [])
    assert bad.value.kind == "execution_error" and "nope" in bad.value.message


@pytest.mark.anyio
@pytest.mark.parametrize("sql", COMMON_ATTACKS + SQLITE_ATTACKS)
async def test_sqlite_injection_corpus(shop: Path, sql: str) -> None:
    before = _sqlite_checksum(shop)
    db = SQLiteDatabase(shop, limits=Limits(timeout_s=2))
    with pytest.raises(ToolFailure) as info:
        await db.run_query(sql, [])
    assert info.value.kind in ("forbidden", "execution_error")
    assert _sqlite_checksum(shop) == before


@pytest.mark.anyio
async def test_sqlite_connection_is_read_only_without_the_parser(shop: Path) -> None:
    """The second lock alone: statements the parser never sees still cannot write."""
    db = SQLiteDatabase(shop, limits=Limits())
    before = _sqlite_checksum(shop)
    conn = db._connect()
    conn.set_authorizer(_authorize)
    for sql in ("DELETE FROM customers", "ATTACH DATABASE ':memory:' AS m", "PRAGMA query_only=0"):
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(sql)
    conn.close()
    assert _sqlite_checksum(shop) == before


FRAGMENTS = st.sampled_from(
    [
        "SELECT",
        "INSERT",
        "INTO",
        "UPDATE",
        "DELETE",
        "DROP",
        "FROM",
        "WITH",
        "AS",
        "(",
        ")",
        ";",
        "--",
        "/*",
        "*/",
        "\n",
        "customers",
        "x",
        "1",
        "'",
        '"',
        "SET",
        "=",
        "VALUES",
        "RETURNING",
        "*",
        ",",
        "ATTACH",
        "PRAGMA",
        "REPLACE",
        "CREATE",
        "TABLE",
        "UNION",
        "EXPLAIN",
        "ＤＥＬＥＴＥ",
        "\u037e",
        "WHERE",
        "t",
        "TEMP",
        "TRIGGER",
        "BEGIN",
        "END",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(FRAGMENTS, max_size=14).map(" ".join), st.text(max_size=60)))
def test_no_random_statement_that_passes_the_guard_writes(sql: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (x INTEGER)")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO customers VALUES (1)")
    conn.commit()
    try:
        check_read_only(sql, "sqlite")
    except ToolFailure:
        return
    before = conn.total_changes
    with contextlib.suppress(sqlite3.Error, sqlite3.Warning, ValueError, OverflowError):
        conn.execute(sql)
    assert conn.total_changes == before
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (2,)
    conn.close()


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
async def pg(postgres_dsn: str) -> AsyncIterator[tuple[PostgresDatabase, Any, str]]:
    asyncpg = pytest.importorskip("asyncpg")
    schema = await build_postgres(postgres_dsn, f"tw_sql_{uuid.uuid4().hex[:10]}")
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f"SET search_path = {schema}")
    await admin.execute("CREATE SEQUENCE customers_id_seq")
    db = PostgresDatabase(postgres_dsn, limits=Limits(timeout_s=2), schema=schema)
    try:
        yield db, admin, schema
    finally:
        await db.aclose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


async def _pg_checksum(admin: Any) -> str:
    digest = hashlib.sha256()
    names = await admin.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "ORDER BY 1"
    )
    digest.update(repr([n[0] for n in names]).encode())
    for table in TABLES:
        for row in await admin.fetch(f"SELECT * FROM {table} ORDER BY 1, 2"):
            digest.update(repr(tuple(row)).encode())
    digest.update(repr(await admin.fetchval("SELECT last_value FROM customers_id_seq")).encode())
    return digest.hexdigest()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_tables_describe_query(pg: tuple[PostgresDatabase, Any, str]) -> None:
    db, _, _ = pg
    assert [t["name"] for t in await db.list_tables()] == sorted(TABLES)
    info = await db.describe_table("orders")
    assert info["primary_key"] == ["id"]
    assert {"column": "customer_id", "references": "customers(id)"} in info["foreign_keys"]
    assert len(info["sample_rows"]) == 3
    out = await db.run_query(
        "SELECT c.name, sum(i.quantity * i.unit_price) AS spent FROM customers c "
        "JOIN orders o ON o.customer_id = c.id JOIN order_items i ON i.order_id = o.id "
        "WHERE c.id = $1 GROUP BY c.name",
        [5],
    )
    assert out["columns"] == ["name", "spent"] and out["row_count"] <= 1
    since = await db.run_query(
        "SELECT count(*) FROM orders WHERE ordered_at >= $1 AND customer_id > $2 AND $3",
        ["2024-06-01", "10", "true"],
    )
    assert since["rows"][0][0] > 0
    with pytest.raises(ToolFailure) as arity:
        await db.run_query("SELECT $1::int", [])
    assert "placeholder" in arity.value.message
    with pytest.raises(ToolFailure) as shape:
        await db.run_query("SELECT $1::date", ["June"])
    assert "YYYY-MM-DD" in shape.value.message
    many = await db.run_query("SELECT id FROM orders ORDER BY id", [])
    assert many["row_count"] == 300 and not many["truncated"]
    with pytest.raises(ToolFailure) as bad:
        await db.run_query("SELECT id FROM orders WHERE id = $1", ["not a number"])
    assert bad.value.kind == "execution_error"
    impatient = PostgresDatabase(db.dsn, limits=Limits(timeout_s=0.3), schema=db.schema)
    try:
        with pytest.raises(ToolFailure) as slow:
            await impatient.run_query(
                "SELECT count(*) FROM generate_series(1, 100000000) a, generate_series(1, 1000) b",
                [],
            )
        assert slow.value.kind == "timeout"
    finally:
        await impatient.aclose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_row_limit(pg: tuple[PostgresDatabase, Any, str], postgres_dsn: str) -> None:
    _, _, schema = pg
    small = PostgresDatabase(postgres_dsn, limits=Limits(max_rows=10), schema=schema)
    try:
        out = await small.run_query("SELECT * FROM order_items", [])
        assert out["row_count"] == 10 and out["truncated"]
    finally:
        await small.aclose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_injection_corpus(pg: tuple[PostgresDatabase, Any, str]) -> None:
    """One schema for the whole corpus (building it per statement costs seconds)."""
    db, admin, _ = pg
    before = await _pg_checksum(admin)
    for sql in COMMON_ATTACKS + PG_ATTACKS:
        with pytest.raises(ToolFailure) as info:
            await db.run_query(sql, [])
        assert info.value.kind in ("forbidden", "execution_error"), sql
        assert await _pg_checksum(admin) == before, sql
    still = await db.run_query("SELECT count(*) FROM customers", [])
    assert still["rows"] == [[120]]


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_connection_is_read_only_without_the_parser(
    pg: tuple[PostgresDatabase, Any, str],
) -> None:
    db, admin, _ = pg
    before = await _pg_checksum(admin)
    # statements that cannot be a subquery do not even run (the size check wraps the query)
    for sql in ("DELETE FROM customers", "UPDATE products SET price = 0"):
        with pytest.raises(ToolFailure) as info:
            await db._run(sql, [], 10)
        assert info.value.kind in ("forbidden", "execution_error")
    # a query that runs and tries to write meets the READ ONLY transaction
    with pytest.raises(ToolFailure) as read_only:
        await db._run("SELECT nextval('customers_id_seq')", [], 10)
    assert read_only.value.kind == "forbidden"
    assert await _pg_checksum(admin) == before


def test_connect_urls(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        connect("mysql://x")
    with pytest.raises(ValueError):
        connect(f"sqlite:///{tmp_path}/missing.db")
    assert isinstance(connect("postgresql://u@h/db"), PostgresDatabase)


def test_postgres_parameter_coercion() -> None:
    from toolwire.packs.sql._postgres import _coerce_one

    assert _coerce_one("7", "int4") == 7 and _coerce_one(2, "float8") == 2.0
    assert _coerce_one(1.5, "numeric") == Decimal("1.5")
    assert _coerce_one("f", "bool") is False
    assert _coerce_one("2024-05-01T12:00:00Z", "timestamptz").tzinfo is not None
    assert _coerce_one("2024-05-01T12:00:00", "timestamptz").tzinfo is dt.UTC
    assert _coerce_one("12:30", "time") == dt.time(12, 30)
    assert str(_coerce_one(str(uuid.UUID(int=1)), "uuid")) == str(uuid.UUID(int=1))
    assert _coerce_one({"a": 1}, "jsonb") == '{"a":1}'
    assert _coerce_one(5, "text") == "5" and _coerce_one(None, "int4") is None
    assert _coerce_one("x", "unknown") == "x"


# Functions that run SQL given as text (or dump whole relations): the outer parse cannot see
# the inner statement, so they are refused by name, in every spelling.
SQL_TEXT_ATTACKS = [
    "SELECT count(*) FROM ts_stat('SELECT to_tsvector(pg_sleep(1.5)::text)')",
    "SELECT * FROM pg_catalog.ts_stat('SELECT to_tsvector(pg_sleep(1.5)::text)')",
    "SELECT * FROM \"ts_stat\"('SELECT to_tsvector(pg_sleep(1.5)::text)')",
    "SELECT * FROM PG_CATALOG.TS_STAT($$SELECT to_tsvector(pg_sleep(1.5)::text)$$)",
    "SELECT * FROM ROWS FROM (ts_stat('SELECT to_tsvector(pg_sleep(1.5)::text)'))",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery FROM "
    "(SELECT set_config(''statement_timeout'',''0'',false)) s')",
    "SELECT pg_catalog.ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')",
    "SELECT query_to_xml('SELECT pg_sleep(1.5)', true, true, '')",
    "SELECT pg_catalog.query_to_xmlschema('SELECT 1', true, true, '')",
    "SELECT query_to_xml_and_xmlschema('SELECT 1', true, true, '')",
    "SELECT cursor_to_xml('c', 1, true, true, '')",
    "SELECT cursor_to_xmlschema('c', true, true, '')",
    "SELECT table_to_xml('customers', true, true, '')",
    "SELECT schema_to_xml(current_schema(), true, true, '')",
    "SELECT database_to_xml(true, true, '')",
    "SELECT current_setting('data_directory')",
    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    "SELECT pg_catalog.pg_terminate_backend(0)",
    'SELECT "pg_terminate_backend"(0)',
    "SELECT * FROM ts_stat($$SELECT to_tsvector(string_agg(pg_cancel_backend(pid)::text,' ')) "
    "FROM pg_stat_activity WHERE pid<>pg_backend_pid() AND usename=current_user$$)",
    "SELECT loread(0, 1)",
    "SELECT some_user_function(1)",
    "SELECT public.upper('x')",
    "SELECT * FROM public.generate_series(1, 3)",
]

COMMON_FUNCTIONS = [
    "SELECT count(*), sum(id), avg(id), min(id), max(id), stddev(id) FROM customers",
    "SELECT coalesce(NULL, 1), nullif(1, 1), greatest(1, 2), least(1, 2), abs(-1), round(1.26, 1)",
    "SELECT upper('a'), lower('B'), length('abc'), substring('abc' from 2),"
    " split_part('a,b', ',', 2), concat('a', 'b'), replace('ab', 'a', 'c'),"
    " btrim(' a '), initcap('ab'), left('abc', 1)",
    "SELECT date_trunc('day', now()), extract(year from now()), to_char(now(), 'YYYY'),"
    " age(now(), now()), make_date(2024, 1, 2), date_part('month', now())",
    "SELECT jsonb_build_object('a', 1), json_agg(id), to_jsonb(1), jsonb_typeof('1'::jsonb)"
    " FROM customers",
    "SELECT id, row_number() OVER (ORDER BY id), rank() OVER (ORDER BY id),"
    " lag(id) OVER (ORDER BY id) FROM customers LIMIT 3",
    "SELECT string_agg(name, ',' ORDER BY name), array_agg(id) FROM customers",
    "SELECT to_tsvector('a b') @@ plainto_tsquery('a'), pg_typeof(1),"
    " CAST('1' AS int), '2'::numeric",
    "SELECT * FROM generate_series(1, 3) AS g(n)",
    "SELECT pg_catalog.upper('x')",
]


@pytest.mark.parametrize("sql", SQL_TEXT_ATTACKS)
def test_functions_that_run_sql_text_are_refused_by_the_guard(sql: str) -> None:
    with pytest.raises(ToolFailure) as info:
        check_read_only(sql, "postgres")
    assert info.value.kind == "forbidden"


@pytest.mark.parametrize("sql", COMMON_FUNCTIONS)
def test_common_functions_pass_the_guard(sql: str) -> None:
    assert check_read_only(sql, "postgres") == sql


_DENIED_SQL_TEXT = ("ts_stat", "ts_rewrite", "query_to_xml", "table_to_xml", "pg_sleep")


@given(
    st.sampled_from(_DENIED_SQL_TEXT),
    st.sampled_from(["", "pg_catalog.", "PG_CATALOG.", '"pg_catalog".', "public.", "x."]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(
        ["SELECT {f}('q')", "SELECT * FROM {f}('q')", "SELECT 1 WHERE {f}('q') IS NULL"]
    ),
)
def test_denied_functions_are_refused_in_any_spelling(
    name: str, schema: str, quoted: bool, upper: bool, shape: str
) -> None:
    # a quoted name keeps its case in PostgreSQL, so only unquoted names are upper-cased
    fn = f'"{name}"' if quoted else (name.upper() if upper else name)
    sql = shape.format(f=schema + fn)
    with pytest.raises(ToolFailure) as info:
        check_read_only(sql, "postgres")
    assert info.value.kind == "forbidden"


@pytest.mark.postgres
@pytest.mark.anyio
async def test_postgres_sql_text_functions_are_refused(
    pg: tuple[PostgresDatabase, Any, str],
) -> None:
    """Refused by the guard (kind ``forbidden``), never executed: no data change, no sleep."""
    db, admin, _ = pg
    before = await _pg_checksum(admin)
    for sql in SQL_TEXT_ATTACKS:
        with pytest.raises(ToolFailure) as info:
            await db.run_query(sql, [])
        assert info.value.kind == "forbidden", sql
        assert await _pg_checksum(admin) == before, sql
    for sql in COMMON_FUNCTIONS:
        result = await db.run_query(sql, [])
        assert result["rows"], sql
