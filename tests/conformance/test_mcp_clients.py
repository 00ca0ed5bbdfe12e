"""MCP conformance with the official TypeScript SDK client and the MCP Inspector CLI.

Both come from the npm registry (``package.json`` / ``package-lock.json`` here, installed by
``.ci/run`` with ``npm ci``). Two ``toolwire serve`` processes for the module (API keys on): the
conformance tools, and the bundled packs (``weather``, ``sql:sample``). The TypeScript SDK runs
every case in one node process (``mcp_sdk_client.mjs``) over streamable HTTP and over stdio; the
Inspector CLI is one process per call, so it gets fewer cases.

What the SDK checks for us: ``tools/list`` results against its schema (an output schema must
be an object schema up to 2025-11-25: one int-returning tool made the whole listing fail with
``-32603 Handler returned an invalid result``), and every ``structuredContent`` against the
tool's ``outputSchema`` with ajv, error results included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conformance_helpers import (
    HERE,
    NODE_MODULES,
    TOOLS,
    USER_KEY,
    Served,
    need_node_clients,
    run_node,
    serve,
)

SHAPES: dict[str, tuple[dict[str, Any], Any, str]] = {
    # case -> (arguments, structuredContent, text content)
    "as_object": ({"key": "北京"}, {"key": "北京"}, '{"key":"北京"}'),
    "as_int": ({"n": 7}, {"result": 7}, "7"),
    "as_str": ({"text": "天气…"}, {"result": "天气…"}, "天气…"),
    "as_list": ({"n": 3}, {"result": [0, 1, 2]}, "[0,1,2]"),
    "as_none": ({}, None, "null"),  # no return annotation value: no output schema
    "as_model": (
        {"x": 1, "y": 2, "label": "点"},
        {"x": 1, "y": 2, "label": "点"},
        '{"x":1,"y":2,"label":"点"}',
    ),
    "as_optional": ({"present": False}, {"result": None}, "null"),
}
PACK_TOOLS = {"get_weather", "search_places", "list_tables", "describe_table", "run_query"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    need_node_clients()
    with (
        serve(tmp_path_factory.mktemp("mcp"), grpc=False) as tools,
        serve(
            tmp_path_factory.mktemp("packs"), tools=("weather", "sql:sample"), grpc=False
        ) as packs,
    ):
        yield tools, packs


def stdio_server() -> dict[str, Any]:
    """How a client launches ``toolwire serve --mcp-stdio`` with the conformance tools."""
    return {
        "command": sys.executable,
        "args": [
            "-c",
            "from toolwire.cli import main; main()",
            "serve",
            "--mcp-stdio",
            "--tools",
            str(TOOLS),
        ],
        "env": {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PATH": os.environ["PATH"]},
    }


@pytest.fixture(scope="module")
def ts(servers: tuple[Served, Served]) -> dict[tuple[str, str], dict[str, Any]]:
    tools, packs = servers
    headers = {"X-API-Key": USER_KEY}
    config = {
        "http": {"url": tools.mcp, "headers": headers},
        "stdio": stdio_server(),
        "packs": {"url": packs.mcp, "headers": headers},
    }
    return {(r["transport"], r["case"]): r for r in run_node("mcp_sdk_client.mjs", config)}


def value(results: dict[tuple[str, str], dict[str, Any]], transport: str, case: str) -> Any:
    found = results[(transport, case)]
    assert found["ok"], f"{transport} {case}: the SDK threw {found['error']}"
    return found["value"]


def error_kind(outcome: dict[str, Any]) -> str:
    assert outcome["isError"] is True, outcome
    assert outcome["structuredContent"] is None  # clients check it against the output schema
    kind: str = json.loads(outcome["text"])["error"]["kind"]
    return kind


TRANSPORTS = ["http", "stdio"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ts_sdk_lists_every_tool_with_object_output_schemas(
    ts: dict[tuple[str, str], dict[str, Any]], transport: str
) -> None:
    init = value(ts, transport, "initialize")
    assert init["server"]["name"] == "toolwire"
    listed = {t["name"]: t["outputSchema"] for t in value(ts, transport, "tools/list")}
    assert set(SHAPES) | {"fail", "count", "cancelled"} <= set(listed)
    for name, schema in listed.items():
        assert schema is None or schema["type"] == "object", (name, schema)
    assert listed["as_int"] == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert listed["as_none"] is None


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", list(SHAPES))
def test_ts_sdk_calls_every_return_shape(
    ts: dict[tuple[str, str], dict[str, Any]], transport: str, name: str
) -> None:
    arguments, structured, text = SHAPES[name]
    case = f"call:{name}:{json.dumps(arguments, ensure_ascii=False, separators=(',', ':'))}"
    outcome = value(ts, transport, case)
    assert outcome["isError"] is False
    assert outcome["structuredContent"] == structured
    if text is not None:
        assert outcome["text"] == text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ts_sdk_sees_error_results(
    ts: dict[tuple[str, str], dict[str, Any]], transport: str
) -> None:
    assert error_kind(value(ts, transport, "call:invalid_arguments")) == "invalid_arguments"
    assert error_kind(value(ts, transport, "call:unknown_tool")) == "unknown_tool"
    failed = value(ts, transport, "call:tool_error")
    assert error_kind(failed) == "remote_error"
    assert json.loads(failed["text"])["error"]["message"] == "上游服务不可用…"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ts_sdk_progress_and_cancellation(
    ts: dict[tuple[str, str], dict[str, Any]], transport: str
) -> None:
    progress = value(ts, transport, "progress")
    assert progress["result"]["structuredContent"] == {"result": 3}
    assert [(p["progress"], p["total"], p["message"]) for p in progress["progress"]] == [
        (1, 3, "step 1"),
        (2, 3, "step 2"),
        (3, 3, "step 3"),
    ]
    cancel = value(ts, transport, "cancel")
    assert cancel["aborted"] is not None  # the SDK rejected the aborted call
    assert cancel["after"]["result"] == cancel["before"]["result"] + 1  # the tool saw it
    assert value(ts, transport, "close") is True


def test_ts_sdk_lists_and_calls_the_bundled_packs(
    ts: dict[tuple[str, str], dict[str, Any]],
) -> None:
    listed = {t["name"]: t["outputSchema"] for t in value(ts, "packs", "tools/list")}
    assert set(listed) == PACK_TOOLS
    assert all(s["type"] == "object" for s in listed.values()), listed
    tables = value(ts, "packs", "call:list_tables")["structuredContent"]["result"]
    assert {"name": "customers", "type": "table"} in tables
    described = value(ts, "packs", "call:describe_table")["structuredContent"]
    assert described["table"] == "customers"
    assert value(ts, "packs", "call:run_query")["structuredContent"]["rows"] == [[1]]


# --- the Inspector CLI -------------------------------------------------------------------


def inspector(target: list[str], *args: str, catalog: Path) -> subprocess.CompletedProcess[str]:
    node = need_node_clients()
    launcher = NODE_MODULES / "@modelcontextprotocol" / "inspector" / "clients"
    argv = [node, str(launcher / "launcher" / "build" / "index.js"), "--cli", *target, *args]
    env = {**os.environ, "MCP_CATALOG_PATH": str(catalog)}  # not the user's ~/.mcp-inspector
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, cwd=HERE, env=env, check=False
    )


def test_inspector_cli_over_http_and_stdio(servers: tuple[Served, Served], tmp_path: Path) -> None:
    tools, packs = servers
    http = [tools.mcp, "--transport", "http", "--header", f"X-API-Key: {USER_KEY}"]
    packs_http = [packs.mcp, "--transport", "http", "--header", f"X-API-Key: {USER_KEY}"]
    launch = stdio_server()
    # The Inspector passes a server only a safe list of variables unless told with -e.
    # It refuses an empty value ("KEY=" is not key=value to it), so pass the variable only when set.
    pythonpath = launch["env"]["PYTHONPATH"]
    passed = ["-e", f"PYTHONPATH={pythonpath}"] if pythonpath else []
    stdio = [*passed, launch["command"], *launch["args"]]
    call = ("--method", "tools/call", "--tool-name")
    cases: dict[str, tuple[list[str], tuple[str, ...]]] = {
        "http list": (http, ("--method", "tools/list")),
        "packs list": (packs_http, ("--method", "tools/list")),
        "stdio list": (stdio, ("--method", "tools/list")),
        "as_int": (http, (*call, "as_int", "--tool-arg", "n=5")),
        "as_list": (http, (*call, "as_list", "--tool-arg", "n=2")),
        "as_model": (http, (*call, "as_model", "--tool-arg", "x=1", "y=2", "label=点")),
        "as_none": (http, (*call, "as_none")),
        "stdio as_str": (stdio, (*call, "as_str", "--tool-arg", "text=天气")),
        "invalid": (http, (*call, "as_int", "--tool-arg", "n=abc")),
        "tool error": (http, (*call, "fail", "--tool-arg", "kind=remote_error", "message=坏")),
    }

    def one(item: tuple[str, tuple[list[str], tuple[str, ...]]]) -> Any:
        name, (target, args) = item
        return name, inspector(target, *args, catalog=tmp_path / f"{name}.json")

    with ThreadPoolExecutor(4) as pool:
        done = dict(pool.map(one, cases.items()))
    for name in ("http list", "stdio list"):
        assert done[name].returncode == 0, done[name].stderr
        listed = json.loads(done[name].stdout)["tools"]
        assert set(SHAPES) <= {t["name"] for t in listed}
        assert all(t.get("outputSchema", {"type": "object"})["type"] == "object" for t in listed)
    assert done["packs list"].returncode == 0, done["packs list"].stderr
    assert {t["name"] for t in json.loads(done["packs list"].stdout)["tools"]} == PACK_TOOLS
    expected = {
        "as_int": {"result": 5},
        "as_list": {"result": [0, 1]},
        "as_model": {"x": 1, "y": 2, "label": "点"},
        "stdio as_str": {"result": "天气"},
    }
    for name, structured in expected.items():
        assert done[name].returncode == 0, (name, done[name].stderr)
        answer = json.loads(done[name].stdout)
        assert answer["isError"] is False and answer["structuredContent"] == structured
    assert done["as_none"].returncode == 0, done["as_none"].stderr
    assert json.loads(done["as_none"].stdout)["content"][0]["text"] == "null"
    for name, kind in (("invalid", "invalid_arguments"), ("tool error", "remote_error")):
        answer = json.loads(done[name].stdout)  # the Inspector exits non-zero on isError
        assert answer["isError"] is True and "structuredContent" not in answer
        assert json.loads(answer["content"][0]["text"])["error"]["kind"] == kind
