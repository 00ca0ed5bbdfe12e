"""A small deterministic shop database for demos and tests: customers, products, orders.

The binary is never committed: :func:`sample_database` builds it on first use into a cache
path (or the path you give), from a fixed random seed, so every build is byte-for-byte the
same data. Run ``python -m toolwire.packs.sql._sample out.db`` to build one by hand.

Example::

    from toolwire.packs import sql
    tools = sql.tools(f"sqlite:///{sql.sample_database()}")
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

VERSION = 1

SCHEMA = (
    """CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        signed_up DATE NOT NULL
    )""",
    """CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        category TEXT NOT NULL,
        price NUMERIC(10, 2) NOT NULL
    )""",
    """CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        status TEXT NOT NULL,
        ordered_at DATE NOT NULL
    )""",
    """CREATE TABLE order_items (
        order_id INTEGER NOT NULL REFERENCES orders(id),
        product_id INTEGER NOT NULL REFERENCES products(id),
        quantity INTEGER NOT NULL,
        unit_price NUMERIC(10, 2) NOT NULL,
        PRIMARY KEY (order_id, product_id)
    )""",
)

_FIRST = ["Wei", "Li", "Ming", "Fang", "Anna", "Lukas", "Maria", "James", "Aiko", "Carlos"]
_LAST = ["Wang", "Zhang", "Chen", "Liu", "Smith", "Müller", "García", "Sato", "Rossi", "Kim"]
_CITIES = [
    ("北京", "China"),
    ("上海", "China"),
    ("广州", "China"),
    ("深圳", "China"),
    ("Berlin", "Germany"),
    ("Madrid", "Spain"),
    ("Tokyo", "Japan"),
    ("New York", "USA"),
    ("London", "UK"),
    ("Seoul", "South Korea"),
]
_PRODUCTS = {
    "books": ["SQL in Practice", "Learning Python", "The Art of Tea", "City Atlas"],
    "electronics": ["USB-C Cable", "Wireless Mouse", "Mechanical Keyboard", "Headphones"],
    "kitchen": ["Tea Kettle", "Rice Cooker", "Chef Knife", "Wok"],
    "outdoor": ["Umbrella", "Rain Jacket", "Water Bottle", "Backpack"],
}
_STATUSES = ["delivered", "delivered", "delivered", "shipped", "pending", "cancelled"]


def rows() -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """``(table, rows)`` pairs in insertion order, always the same for the same VERSION."""
    rng = random.Random(20240601 + VERSION)
    start = date(2024, 1, 1)
    customers = []
    for i in range(1, 121):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, country = rng.choice(_CITIES)
        email = f"{first}.{last}.{i}@example.com".lower()
        joined = start + timedelta(days=rng.randrange(0, 365))
        customers.append((i, f"{first} {last}", email, city, country, joined.isoformat()))
    yield "customers", customers
    products = []
    pid = 0
    for category, names in _PRODUCTS.items():
        for name in names:
            pid += 1
            products.append((pid, name, category, round(rng.uniform(3, 180), 2)))
    yield "products", products
    orders, items = [], []
    for oid in range(1, 301):
        cid = rng.randrange(1, len(customers) + 1)
        when = date.fromisoformat(customers[cid - 1][5]) + timedelta(days=rng.randrange(0, 200))
        orders.append((oid, cid, rng.choice(_STATUSES), when.isoformat()))
        for product in rng.sample(products, rng.randrange(1, 4)):
            items.append((oid, product[0], rng.randrange(1, 5), product[3]))
    yield "orders", orders
    yield "order_items", items


def build(path: str | Path) -> Path:
    """Write the sample database to ``path`` (replacing it) and return the path."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as conn:
        for ddl in SCHEMA:
            conn.execute(ddl)
        for table, data in rows():
            marks = ", ".join("?" * len(data[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", data)
    conn.close()
    partial.replace(target)  # atomic: concurrent builders never see a half-written file
    return target


def sample_database(path: str | Path | None = None) -> Path:
    """The sample database's path, building it first when missing."""
    target = Path(path) if path else Path(tempfile.gettempdir()) / f"toolwire-shop-v{VERSION}.db"
    if not target.exists():
        build(target)
    return target


async def build_postgres(dsn: str, schema: str = "shop") -> str:
    """Create ``schema`` in a PostgreSQL database and load the same sample data into it.

    Returns the schema name; pass it as ``sql.tools(dsn, schema=...)``. Needs a user that may
    create schemas (the tools themselves only ever read).
    """
    import asyncpg

    quoted = '"' + schema.replace('"', '""') + '"'
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(f"CREATE SCHEMA {quoted}")
            await conn.execute(f"SET LOCAL search_path = {quoted}")
            for ddl in SCHEMA:
                await conn.execute(ddl)
            for table, data in rows():
                typed = [tuple(_pg_value(v) for v in row) for row in data]
                marks = ", ".join(f"${i + 1}" for i in range(len(data[0])))
                await conn.executemany(f"INSERT INTO {table} VALUES ({marks})", typed)
    finally:
        await conn.close()
    return schema


def _pg_value(value: Any) -> Any:
    """Sample values as asyncpg wants them: ISO dates as dates, prices as decimals."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[:2] == "20":
        return date.fromisoformat(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


if __name__ == "__main__":  # pragma: no cover
    print(build(sys.argv[1] if len(sys.argv) > 1 else "shop.db"))
