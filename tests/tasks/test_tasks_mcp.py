"""MCP tasks over raw JSON-RPC (aiohttp, no SDK), written from the two specs that define them:
2025-11-25 (tasks in the core protocol: ``task`` on ``tools/call``, ``tasks/get|result|list|
cancel``, progress on the session's standing stream) and 2026-07-28 (the tasks extension:
``resultType: "task"``, ``tasks/get`` with the result inline, ``tasks/cancel|update``, -32021);
an older revision sees none of it. Plain-call progress on every revision is in
``tests/conformance``."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tasks_serve import ALICE_KEY, BOB_KEY, Replica, config, runs, start_replica, stop

pytestmark = pytest.mark.anyio

ACCEPT = "application/json, text/event-stream"
CLIENT = {"name": "toolwire-tasks-raw", "version": "1"}
EXTENSION = "io.modelcontextprotocol/tasks"
RELATED = "io.modelcontextprotocol/related-task"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Path]]:
    folder = tmp_path_factory.mktemp("mcp")
    log = folder / "runs.log"
    replica = start_replica(folder, config(tasks="result_ttl = 600"), log=log, grpc=False)
    try:
        yield replica, log
    finally:
        stop(replica.proc, hard=True)


async def _messages(r: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    if r.headers.get("Content-Type", "").startswith("application/json"):
        yield await r.json()
        return
    async for raw in r.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("data: "):
            yield json.loads(line[6:])


class Wire:
    """JSON-RPC over streamable HTTP for one revision (a session for the handshake ones, the
    per-request envelope and routing headers for 2026-07-28)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, version: str, key: str) -> None:
        self.http, self.url, self.version = http, url, version
        self.ids = itertools.count(1)
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json", "X-API-Key": key}
        self.capabilities: dict[str, Any] = {"extensions": {EXTENSION: {}}}

    @property
    def modern(self) -> bool:
        return self.version == "2026-07-28"

    async def open(self) -> dict[str, Any]:
        self.headers["MCP-Protocol-Version"] = self.version
        if self.modern:
            answer = await self.request("server/discover", {})
            return answer["result"]  # type: ignore[no-any-return]
        params = {"protocolVersion": self.version, "capabilities": {}, "clientInfo": CLIENT}
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        headers = {k: v for k, v in self.headers.items() if k != "MCP-Protocol-Version"}
        async with self.http.post(self.url, json=body, headers=headers) as r:
            self.headers["Mcp-Session-Id"] = r.headers["Mcp-Session-Id"]
            [answer] = [m async for m in _messages(r)]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        async with self.http.post(self.url, json=note, headers=self.headers) as r:
            assert r.status == 202
        return answer["result"]  # type: ignore[no-any-return]

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        headers = dict(self.headers)
        if self.modern:
            meta = {
                "io.modelcontextprotocol/protocolVersion": self.version,
                "io.modelcontextprotocol/clientInfo": CLIENT,
                "io.modelcontextprotocol/clientCapabilities": self.capabilities,
                **params.get("_meta", {}),
            }
            params = {**params, "_meta": meta}
            headers["Mcp-Method"] = method
            name = params.get("name") if method == "tools/call" else params.get("taskId")
            if name:
                headers["Mcp-Name"] = str(name)
        rid = next(self.ids)
        body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        async with asyncio.timeout(30), self.http.post(self.url, json=body, headers=headers) as r:
            async for message in _messages(r):
                if message.get("id") == rid:
                    return message
        raise AssertionError(f"{method}: no answer")

    async def result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self.request(method, params)
        assert "result" in answer, answer
        return answer["result"]  # type: ignore[no-any-return]

    async def error(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self.request(method, params)
        assert "error" in answer, answer
        return answer["error"]  # type: ignore[no-any-return]


async def wire(http: aiohttp.ClientSession, replica: Replica, version: str, key: str) -> Wire:
    w = Wire(http, replica.mcp, version, key)
    await w.open()
    return w


async def settled(w: Wire, task_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            task = await w.result("tasks/get", {"taskId": task_id})
            if task["status"] not in ("working", "input_required"):
                return task
            await asyncio.sleep(0.05)


async def test_2025_11_25_lifecycle(served: tuple[Replica, Path]) -> None:
    replica, log = served
    async with aiohttp.ClientSession() as http:
        w = Wire(http, replica.mcp, "2025-11-25", ALICE_KEY)
        init = await w.open()
        assert init["capabilities"]["tasks"] == {
            "list": {},
            "cancel": {},
            "requests": {"tools": {"call": {}}},
        }
        tools = (await w.result("tools/list", {}))["tools"]
        assert {t["name"]: t.get("execution") for t in tools}["work"] == {"taskSupport": "optional"}
        created = await w.result(
            "tools/call",
            {"name": "work", "arguments": {"steps": 10, "delay": 0.05}, "task": {"ttl": 60000}},
        )
        task = created["task"]
        assert set(task) >= {"taskId", "status", "createdAt", "lastUpdatedAt", "ttl"}
        assert task["status"] == "working" and "content" not in created
        async with asyncio.timeout(20):
            while runs(log)[task["taskId"]] == 0:  # noqa: ASYNC110 - the tool's log file
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.15)
        working = await w.result("tasks/get", {"taskId": task["taskId"]})
        assert working["status"] == "working" and working["statusMessage"].startswith("step ")
        fetched = await w.result("tasks/result", {"taskId": task["taskId"]})  # waits for the end
        assert fetched["isError"] is False and fetched["structuredContent"]["steps"] == 10
        assert fetched["_meta"][RELATED] == {"taskId": task["taskId"]}
        assert "resultType" not in fetched
        done = await w.result("tasks/get", {"taskId": task["taskId"]})
        assert done["status"] == "completed" and done["ttl"] > 0
        listed = (await w.result("tasks/list", {}))["tasks"]
        assert task["taskId"] in [t["taskId"] for t in listed]
        again = await w.error("tasks/cancel", {"taskId": task["taskId"]})
        assert again["code"] == -32602 and "terminal" in again["message"]


async def test_2025_11_25_progress_rides_the_standing_stream(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    async with aiohttp.ClientSession() as http:
        w = await wire(http, replica, "2025-11-25", ALICE_KEY)
        seen: list[dict[str, Any]] = []
        standing_headers = {k: v for k, v in w.headers.items() if k != "Content-Type"}
        standing_headers["Accept"] = "text/event-stream"

        async def listen() -> None:
            async with http.get(w.url, headers=standing_headers) as r:
                assert r.status == 200
                async for message in _messages(r):
                    if message.get("method") == "notifications/progress":
                        seen.append(message["params"])
                        if message["params"]["progress"] == 5:
                            return

        listener = asyncio.ensure_future(listen())
        await asyncio.sleep(0.2)  # the stream is open
        created = await w.result(
            "tools/call",
            {
                "name": "work",
                "arguments": {"steps": 5, "delay": 0.05},
                "task": {},
                "_meta": {"progressToken": "tok-1"},
            },
        )
        async with asyncio.timeout(20):
            await listener
        task_id = created["task"]["taskId"]
        assert [p["progress"] for p in seen] == [1, 2, 3, 4, 5]
        assert {p["progressToken"] for p in seen} == {"tok-1"}
        assert all(p["_meta"][RELATED] == {"taskId": task_id} for p in seen)
        assert seen[-1]["total"] == 5 and seen[-1]["message"] == "step 5 of 5"


async def test_2025_11_25_cancel_failures_and_refusals(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    async with aiohttp.ClientSession() as http:
        w = await wire(http, replica, "2025-11-25", ALICE_KEY)
        bob = await wire(http, replica, "2025-11-25", BOB_KEY)
        long = await w.result(
            "tools/call",
            {"name": "work", "arguments": {"steps": 1000, "delay": 0.02}, "task": {}},
        )
        task_id = long["task"]["taskId"]
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            refused = await bob.error(method, {"taskId": task_id})
            assert refused["code"] == -32602, (method, refused)
        assert task_id not in [t["taskId"] for t in (await bob.result("tasks/list", {}))["tasks"]]
        cancelled = await w.result("tasks/cancel", {"taskId": task_id})
        assert cancelled["status"] == "cancelled"
        assert (await w.result("tasks/get", {"taskId": task_id}))["status"] == "cancelled"
        # a failed tool is a failed task; tasks/result answers what the call would have
        failing = await w.result("tools/call", {"name": "fails", "arguments": {}, "task": {}})
        failed = await settled(w, failing["task"]["taskId"])
        assert failed["status"] == "failed" and "upstream" in failed["statusMessage"]
        answer = await w.result("tasks/result", {"taskId": failing["task"]["taskId"]})
        assert answer["isError"] is True
        forbidden = await w.error("tools/call", {"name": "add", "arguments": {}, "task": {}})
        assert forbidden["code"] == -32601
        required = await w.error("tools/call", {"name": "sync_work", "arguments": {"steps": 1}})
        assert required["code"] == -32601
        bad = await w.error("tools/call", {"name": "work", "arguments": {"steps": "x"}, "task": {}})
        assert bad["code"] == -32602 and bad["data"]["error"]["kind"] == "invalid_arguments"
        unknown = await w.error("tasks/get", {"taskId": "task_" + "0" * 32})
        assert unknown["code"] == -32602
        assert (await w.error("tasks/update", {"taskId": task_id}))["code"] == -32601


async def test_2026_07_28_extension(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    async with aiohttp.ClientSession() as http:
        w = Wire(http, replica.mcp, "2026-07-28", ALICE_KEY)
        found = await w.open()
        assert found["capabilities"]["extensions"][EXTENSION] == {}
        created = await w.result(
            "tools/call", {"name": "work", "arguments": {"steps": 3, "delay": 0.05}}
        )
        assert created["resultType"] == "task" and created["status"] == "working"
        assert set(created) >= {"taskId", "createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs"}
        task = await settled(w, created["taskId"])
        assert task["resultType"] == "complete" and task["status"] == "completed"
        assert task["result"]["structuredContent"]["steps"] == 3
        assert task["result"]["isError"] is False
        # a tool error is a completed task with an isError result in this revision
        failing = await w.result("tools/call", {"name": "fails", "arguments": {}})
        failed = await settled(w, failing["taskId"])
        assert failed["status"] == "completed" and failed["result"]["isError"] is True
        # cancel acknowledges; the task ends cancelled
        long = await w.result(
            "tools/call", {"name": "work", "arguments": {"steps": 1000, "delay": 0.02}}
        )
        ack = await w.result("tasks/cancel", {"taskId": long["taskId"]})
        assert ack == {"resultType": "complete", "_meta": ack["_meta"]}
        assert (await settled(w, long["taskId"]))["status"] == "cancelled"
        update = await w.result("tasks/update", {"taskId": long["taskId"], "inputResponses": {}})
        assert update["resultType"] == "complete"
        assert (await w.error("tasks/result", {"taskId": long["taskId"]}))["code"] == -32601
        assert (await w.error("tasks/get", {"taskId": "task_" + "1" * 32}))["code"] == -32602
        # another caller
        bob = Wire(http, replica.mcp, "2026-07-28", BOB_KEY)
        await bob.open()
        assert (await bob.error("tasks/get", {"taskId": created["taskId"]}))["code"] == -32602
        # without the extension: an optional tool runs plainly, a required one is refused
        w.capabilities = {}
        plain = await w.result(
            "tools/call", {"name": "work", "arguments": {"steps": 1, "delay": 0}}
        )
        assert plain["structuredContent"]["steps"] == 1 and plain["resultType"] == "complete"
        missing = await w.error("tools/call", {"name": "sync_work", "arguments": {"steps": 1}})
        assert missing["code"] == -32021
        assert missing["data"]["requiredCapabilities"] == {"extensions": {EXTENSION: {}}}
        assert (await w.error("tasks/get", {"taskId": created["taskId"]}))["code"] == -32021


async def test_an_older_revision_sees_no_tasks(served: tuple[Replica, Path]) -> None:
    replica, _ = served
    async with aiohttp.ClientSession() as http:
        w = Wire(http, replica.mcp, "2025-06-18", ALICE_KEY)
        init = await w.open()
        assert "tasks" not in init["capabilities"]
        plain = await w.result(
            "tools/call", {"name": "work", "arguments": {"steps": 1, "delay": 0}, "task": {}}
        )
        assert plain["structuredContent"]["steps"] == 1  # the task field is ignored
        assert (await w.error("tasks/get", {"taskId": "task_x"}))["code"] == -32601
