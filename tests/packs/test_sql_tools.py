"""The SQL pack's tools as a model sees and calls them."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolwire._errors import ToolFailure
from toolwire.packs import sql


@pytest.mark.anyio
async def test_tools_describe_dialect_and_limits_and_run(tmp_path: Path) -> None:
    path = sql.sample_database(tmp_path / "shop.db")
    tools = {t.name: t for t in sql.tools(f"sqlite:///{path}", max_rows=5)}
    assert set(tools) == {"list_tables", "describe_table", "run_query"}
    assert all(t.spec.annotations.read_only for t in tools.values())
    run = tools["run_query"]
    assert "SQLite" in run.description and "5 rows" in run.description
    assert "?" in run.description
    args = run.validate('{"sql": "SELECT id FROM orders WHERE status = ?", "params": ["pending"]}')
    out = await run.require_handler()(**args)
    assert out["row_count"] == 5 and out["truncated"] is True
    with pytest.raises(ToolFailure) as info:
        await run.require_handler()(**run.validate({"sql": "DROP TABLE orders"}))
    assert info.value.kind == "forbidden"
    tables = await tools["list_tables"].require_handler()()
    assert {"name": "orders", "type": "table"} in tables


def test_postgres_tools_say_postgres() -> None:
    tools = sql.tools("postgresql://u@127.0.0.1/db", prefix="shop_")
    assert [t.name for t in tools] == ["shop_list_tables", "shop_describe_table", "shop_run_query"]
    assert "PostgreSQL" in tools[2].description and "$1" in tools[2].description
