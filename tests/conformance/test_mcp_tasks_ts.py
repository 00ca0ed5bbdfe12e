"""MCP tasks (2025-11-25) with the official TypeScript SDK's task client, over streamable HTTP:
the capability, ``execution.taskSupport`` in the listing, a task-augmented call streamed to its
end with its progress notifications, ``tasks/get``, ``tasks/result``, ``tasks/list``,
``tasks/cancel`` (and again, refused), a forbidden tool, and another caller refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_helpers import OTHER_KEY, USER_KEY, Served, run_node, serve

TASK_TOOLS = Path(__file__).resolve().parent.parent / "tasks" / "tasks_tools.py"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with serve(tmp_path_factory.mktemp("tasks"), tools=[str(TASK_TOOLS)], grpc=False) as server:
        yield _run(server)


def _run(server: Served) -> dict[str, Any]:
    config = {
        "url": server.mcp,
        "headers": {"X-API-Key": USER_KEY},
        "other_headers": {"X-API-Key": OTHER_KEY},
    }
    cases = run_node("mcp_tasks_client.mjs", config)
    return {c["case"]: c for c in cases}


def value(results: dict[str, Any], case: str) -> Any:
    found = results[case]
    assert found["ok"], found
    return found["value"]


def test_the_server_declares_tasks_and_each_tool_its_support(results: dict[str, Any]) -> None:
    assert value(results, "initialize")["tasks"] == {
        "list": {},
        "cancel": {},
        "requests": {"tools": {"call": {}}},
    }
    assert value(results, "tools/list") == {
        "work": "optional",
        "work_idem": "optional",
        "sync_work": "required",
        "noop": "optional",
        "fails": "optional",
        "add": None,
    }


def test_a_task_streams_to_its_result_with_progress(results: dict[str, Any]) -> None:
    streamed = value(results, "callToolStream")
    types = [m["type"] for m in streamed["messages"]]
    assert types[0] == "taskCreated" and types[-1] == "result"
    assert set(types[1:-1]) <= {"taskStatus"}
    result = streamed["messages"][-1]
    assert result["isError"] is False and json.loads(result["text"])["steps"] == 4
    # the call's progressToken stayed valid for the task: notifications/progress came
    dones = [p["progress"] for p in streamed["progress"]]
    assert dones and dones == sorted(dones) and dones[-1] == 4
    assert streamed["progress"][-1]["message"] == "step 4 of 4"


def test_get_result_and_list(results: dict[str, Any]) -> None:
    got = value(results, "getTask")
    assert got["status"] == "completed" and got["pollInterval"] == 1000
    assert isinstance(got["ttl"], int) and got["ttl"] > 0
    fetched = value(results, "getTaskResult")
    assert json.loads(fetched["text"])["steps"] == 4 and fetched["related"]["taskId"]
    assert fetched["related"]["taskId"] in value(results, "listTasks")


def test_cancel_and_cancel_again(results: dict[str, Any]) -> None:
    cancelled = value(results, "cancelTask")
    assert cancelled["cancelled"] == "cancelled" and cancelled["after"] == "cancelled"
    assert cancelled["again"]["code"] == -32602  # already terminal


def test_a_forbidden_tool_refuses_a_task(results: dict[str, Any]) -> None:
    [message] = value(results, "forbidden")
    assert message["type"] == "error" and message["error"]["code"] == -32601


def test_another_caller_does_not_find_the_task(results: dict[str, Any]) -> None:
    refused = value(results, "another caller")
    assert refused != "found" and refused["code"] == -32602
    assert value(results, "close") is True
