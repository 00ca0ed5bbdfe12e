"""Tasks over REST on a real ``toolwire serve`` (memory store), driven with aiohttp and curl:
the routes and their exact shapes, progress as SSE (task events and plain calls), caller
scoping, the Idempotency-Key, and what refuses to start."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from service_checks import need
from tasks_serve import ALICE_KEY, BOB_KEY, Replica, config, headers, runs, start_replica, stop

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Path]]:
    folder = tmp_path_factory.mktemp("rest")
    log = folder / "runs.log"
    replica = start_replica(folder, config(tasks="max_per_caller = 50"), log=log, grpc=False)
    try:
        yield replica, log
    finally:
        stop(replica.proc, hard=True)


async def post(base: str, path: str, body: Any, key: str = ALICE_KEY, **extra: str) -> Any:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
        http.post(base + path, json=body, headers={**headers(key), **extra}) as r,
    ):
        return r.status, dict(r.headers), await r.json()


async def call(method: str, url: str, key: str = ALICE_KEY) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
        http.request(method, url, headers=headers(key)) as r,
    ):
        return r.status, await r.json()


async def wait_end(base: str, task_id: str, key: str = ALICE_KEY) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            status, task = await call("GET", f"{base}/v1/tasks/{task_id}", key)
            assert status == 200, task
            if task["status"] != "working":
                return task  # type: ignore[no-any-return]
            await asyncio.sleep(0.05)


def curl(*args: str, timeout: float = 30) -> str:
    exe = shutil.which("curl")
    need(exe is not None, "curl is not installed")
    assert exe is not None
    done = subprocess.run(
        [exe, "-sS", "-N", "--max-time", str(int(timeout)), *args],
        capture_output=True,
        text=True,
        timeout=timeout + 5,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def sse_events(text: str) -> list[tuple[str, str | None, Any]]:
    """``(event, id, data)`` of each event in an SSE body (comments skipped)."""
    out = []
    for block in text.split("\n\n"):
        name, event_id, data = "message", None, []
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            if key == "event":
                name = value
            elif key == "id":
                event_id = value
            elif key == "data":
                data.append(value)
        if data:
            out.append((name, event_id, json.loads("\n".join(data))))
    return out


async def test_start_get_and_the_exact_shapes(served: tuple[Replica, Path]) -> None:
    replica, log = served
    args = {"steps": 3, "delay": 0.02}
    status, head, body = await post(replica.base, "/v1/tools/work/tasks", args)
    assert status == 202 and set(body) == {"task_id", "status"} and body["status"] == "working"
    assert head["Location"] == f"/v1/tasks/{body['task_id']}"
    task = await wait_end(replica.base, body["task_id"])
    assert set(task) == {
        "task_id",
        "tool",
        "status",
        "progress",
        "result",
        "created_at",
        "updated_at",
    }
    assert task["tool"] == "work" and task["status"] == "completed"
    assert task["progress"] == {"done": 3.0, "total": 3.0, "message": "step 3 of 3"}
    # the result is what POST /v1/tools/work/call answers
    assert set(task["result"]) == {
        *("call_id", "name", "ok", "attempts", "cached", "elapsed_s", "value")
    }
    assert task["result"]["ok"] is True and task["result"]["value"]["steps"] == 3
    assert runs(log)[body["task_id"]] == 1


async def test_task_events_over_sse_with_curl(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    _, _, body = await post(replica.base, "/v1/tools/work/tasks", {"steps": 5, "delay": 0.1})
    url = f"{replica.base}/v1/tasks/{body['task_id']}/events"
    text = await asyncio.to_thread(curl, "-H", f"X-API-Key: {ALICE_KEY}", url)
    events = sse_events(text)
    kinds = [e[0] for e in events]
    assert kinds[-1] == "end" and set(kinds[:-1]) == {"progress"} and len(kinds) >= 4
    dones = [e[2]["done"] for e in events if e[0] == "progress"]
    assert dones == sorted(dones) and dones[-1] == 5
    end = events[-1][2]
    assert end["status"] == "completed" and end["result"]["value"]["steps"] == 5
    assert all(e[1] for e in events)  # every event has an id to resume from
    # resuming after an event (Last-Event-ID) gives what came after it
    resumed = sse_events(
        await asyncio.to_thread(
            curl, "-H", f"X-API-Key: {ALICE_KEY}", "-H", f"Last-Event-ID: {events[1][1]}", url
        )
    )
    assert [e[1] for e in resumed] == [e[1] for e in events[2:]]


async def test_a_plain_call_streams_its_progress_with_curl(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    text = await asyncio.to_thread(
        curl,
        "-X",
        "POST",
        "-H",
        f"X-API-Key: {ALICE_KEY}",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: text/event-stream",
        "-d",
        '{"steps": 4, "delay": 0.02}',
        f"{replica.base}/v1/tools/work/call",
    )
    events = sse_events(text)
    assert [e[0] for e in events] == ["progress"] * 4 + ["result"]
    assert [e[2]["done"] for e in events[:4]] == [1, 2, 3, 4]
    result = events[-1][2]
    assert result["ok"] is True and result["value"]["steps"] == 4
    # without the Accept header the same call is plain JSON
    status, _, plain = await post(replica.base, "/v1/tools/work/call", {"steps": 1, "delay": 0})
    assert status == 200 and plain["value"]["steps"] == 1


async def test_cancel_with_delete(served: tuple[Replica, Path]) -> None:
    replica, log = served
    _, _, body = await post(replica.base, "/v1/tools/work/tasks", {"steps": 500, "delay": 0.02})
    task_id = body["task_id"]
    async with asyncio.timeout(20):
        while runs(log)[task_id] == 0:  # noqa: ASYNC110 - the tool's log file
            await asyncio.sleep(0.02)
    status, task = await call("DELETE", f"{replica.base}/v1/tasks/{task_id}")
    assert status == 200 and task["status"] == "cancelled"
    assert task["result"]["error"]["kind"] == "cancelled"
    status, again = await call("DELETE", f"{replica.base}/v1/tasks/{task_id}")
    assert status == 200 and again["status"] == "cancelled"


async def test_another_callers_task_is_not_found(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    _, _, body = await post(replica.base, "/v1/tools/work/tasks", {"steps": 2, "delay": 0.01})
    url = f"{replica.base}/v1/tasks/{body['task_id']}"
    for method, target in (("GET", url), ("DELETE", url), ("GET", url + "/events")):
        status, answer = await call(method, target, BOB_KEY)
        assert status == 404, (method, target, answer)
        assert answer["error"]["details"]["reason"] == "unknown_task"
    status, listed = await call("GET", f"{replica.base}/v1/tasks", BOB_KEY)
    assert status == 200 and body["task_id"] not in [t["task_id"] for t in listed["tasks"]]
    status, mine = await call("GET", f"{replica.base}/v1/tasks?limit=1000")
    assert status == 200 and body["task_id"] in [t["task_id"] for t in mine["tasks"]]
    status, unknown = await call("GET", f"{replica.base}/v1/tasks/task_{'0' * 32}")
    assert status == 404 and unknown["error"]["details"]["reason"] == "unknown_task"
    status, _ = await call("GET", url, "not-a-key")
    assert status == 401


async def test_listing_pages(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    started = []
    for _ in range(3):
        _, _, body = await post(replica.base, "/v1/tools/noop/tasks", {}, BOB_KEY)
        started.append(body["task_id"])
    seen: list[str] = []
    url = f"{replica.base}/v1/tasks?limit=2"
    for _ in range(5):
        status, page = await call("GET", url, BOB_KEY)
        assert status == 200 and set(page) == {"tasks", "next_cursor"}
        seen += [t["task_id"] for t in page["tasks"]]
        if page["next_cursor"] is None:
            break
        url = f"{replica.base}/v1/tasks?limit=2&cursor={page['next_cursor']}"
    assert seen[:3] == started[::-1]
    for bad in ("limit=0", "limit=abc", "cursor=zzz"):
        status, answer = await call("GET", f"{replica.base}/v1/tasks?{bad}", BOB_KEY)
        assert status == 400, (bad, answer)


async def test_idempotency_key_is_honoured(served: tuple[Replica, Path]) -> None:
    replica, log = served
    key = {"Idempotency-Key": "report-2025"}
    s1, _, first = await post(replica.base, "/v1/tools/work/tasks", {"steps": 1, "delay": 0}, **key)
    s2, _, again = await post(replica.base, "/v1/tools/work/tasks", {"steps": 1, "delay": 0}, **key)
    assert (s1, s2) == (202, 202) and first["task_id"] == again["task_id"]
    s3, _, other = await post(replica.base, "/v1/tools/work/tasks", {"steps": 2, "delay": 0}, **key)
    assert s3 == 409 and other["error"]["details"]["reason"] == "idempotency_key_reused"
    await wait_end(replica.base, first["task_id"])
    assert runs(log)[first["task_id"]] == 1
    empty = {"Idempotency-Key": ""}
    s4, _, bad = await post(replica.base, "/v1/tools/work/tasks", {"steps": 1}, **empty)
    assert s4 == 400, bad


async def test_what_refuses_to_start_and_to_call(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    status, _, plain = await post(replica.base, "/v1/tools/add/tasks", {"a": 1, "b": 2})
    assert status == 400 and plain["error"]["details"]["reason"] == "task_support_forbidden"
    status, _, bad = await post(replica.base, "/v1/tools/work/tasks", {"steps": "many"})
    assert status == 400 and bad["error"]["kind"] == "invalid_arguments"
    status, _, missing = await post(replica.base, "/v1/tools/nope/tasks", {})
    assert status == 404 and missing["error"]["kind"] == "unknown_tool"
    status, _, _ = await post(replica.base, "/v1/tools/work/tasks", [1, 2])
    assert status == 400
    # a tool that only runs as a task refuses a plain call, and runs as a task
    status, _, refused = await post(replica.base, "/v1/tools/sync_work/call", {"steps": 1})
    assert status == 400 and refused["error"]["details"]["reason"] == "task_required"
    status, _, started = await post(replica.base, "/v1/tools/sync_work/tasks", {"steps": 3})
    assert status == 202
    task = await wait_end(replica.base, started["task_id"])
    assert task["status"] == "completed" and task["result"]["value"] == "synced"
    assert task["progress"]["message"] == "sync step 3"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
        http.post(
            f"{replica.base}/v1/tools/work/tasks",
            data=b"{}",
            headers={"X-API-Key": ALICE_KEY, "Content-Type": "text/plain"},
        ) as r,
    ):
        assert r.status == 415


async def test_the_tool_listing_says_task_support(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    status, listed = await call("GET", f"{replica.base}/v1/tools")
    assert status == 200
    support = {t["name"]: t["task_support"] for t in listed["tools"]}
    assert support == {
        "work": "optional",
        "work_idem": "optional",
        "sync_work": "required",
        "noop": "optional",
        "fails": "optional",
        "add": "forbidden",
    }
