"""``task_support``: every way a tool gets it (decorator, schema documents, the config file,
imported MCP tools) and every way it is shown (MCP export, REST listing); ``[tasks]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import toolwire as tw
from toolwire.config import ConfigError, parse_config
from toolwire.config._tasks import apply_task_support, tasks_options
from toolwire.serve._tasks import tasks_from


def test_the_default_is_forbidden_and_the_decorator_sets_it() -> None:
    @tw.tool
    def plain() -> None: ...

    @tw.tool(task_support="required")
    def job() -> None: ...

    assert plain.spec.task_support == "forbidden"
    assert job.spec.task_support == "required"
    with pytest.raises(tw.ToolDefinitionError, match="task_support"):
        tw.tool(task_support="sometimes")(lambda: None)  # type: ignore[call-overload]


def test_from_schema_reads_mcp_execution_and_the_option_wins() -> None:
    doc: dict[str, Any] = {
        "name": "crawl",
        "inputSchema": {"type": "object", "properties": {}},
        "execution": {"taskSupport": "optional"},
    }
    assert tw.Tool.from_schema(doc).spec.task_support == "optional"
    assert tw.Tool.from_schema(doc, task_support="required").spec.task_support == "required"
    assert tw.Tool.from_schema({"name": "x"}).spec.task_support == "forbidden"
    with pytest.raises(tw.ToolDefinitionError, match="task_support"):
        tw.Tool.from_schema({**doc, "execution": {"taskSupport": 3}})


def test_the_mcp_export_carries_execution_task_support() -> None:
    @tw.tool(task_support="optional")
    def job() -> None: ...

    @tw.tool
    def plain() -> None: ...

    exported = {t["name"]: t for t in tw.Toolbox([job, plain]).export("mcp")}  # type: ignore[union-attr]
    assert exported["job"]["execution"] == {"taskSupport": "optional"}
    assert "execution" not in exported["plain"]  # absent means forbidden
    # and back: the exported document defines the same tool
    assert tw.Tool.from_schema(exported["job"]).spec.task_support == "optional"


def test_the_config_file_sets_task_support_by_glob() -> None:
    config = parse_config(
        {
            "tasks": {
                "workers": 4,
                "lease": 5,
                "support": {"report_*": "optional", "report_big": "required"},
            }
        }
    )

    @tw.tool
    def report_small() -> None: ...

    @tw.tool
    def report_big() -> None: ...

    @tw.tool(task_support="optional")
    def other() -> None: ...

    apply_task_support([report_small, report_big, other], config.tasks)
    assert report_small.spec.task_support == "optional"
    assert report_big.spec.task_support == "required"  # the last matching glob
    assert other.spec.task_support == "optional"  # untouched
    assert tasks_options(config.tasks) == {"workers": 4, "lease": 5.0}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"wokers": 4}, "unknown key 'wokers'"),
        ({"lease": 0}, "lease must be a positive number"),
        ({"workers": 2.5}, "workers must be a whole number"),
        ({"result_ttl": True}, "result_ttl must be a positive number"),
        ({"support": {"x": "maybe"}}, "must be one of forbidden, optional, required"),
        ({"support": "optional"}, "must be a table"),
    ],
)
def test_bad_tasks_tables_are_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"tasks": table})


def test_several_workers_need_a_shared_store_for_tasks() -> None:
    @tw.tool(task_support="optional")
    def job() -> None: ...

    @tw.tool
    def plain() -> None: ...

    config = parse_config({})
    with pytest.raises(ConfigError, match='backend = "redis"'):
        tasks_from(config, None, tools=[job], several=True)
    tasks_from(config, None, tools=[plain], several=True)  # no task: nothing to lose
    tasks_from(config, None, tools=[job], several=False)


LEGACY_SERVER = Path(__file__).resolve().parent / "tasks_legacy_mcp_server.py"


@pytest.mark.anyio
async def test_imported_mcp_tools_keep_their_task_support() -> None:
    """From a 2025-11-25 server (its listing declares execution.taskSupport)."""
    import toolwire.remote.mcp as remote_mcp

    try:
        tools = await remote_mcp.load(f"{sys.executable} {LEGACY_SERVER}")
        assert {t.name: t.spec.task_support for t in tools} == {
            "report": "optional",
            "etl": "required",
            "plain": "forbidden",
        }
    finally:
        await remote_mcp.close_sessions()
