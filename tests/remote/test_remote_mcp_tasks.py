"""Imported MCP tools whose ``taskSupport`` is ``required`` are called as tasks, on both
revisions that define tasks (2025-11-25 task-augmented ``tools/call``; the 2026-07-28 tasks
extension), against a real server that requires them: ``toolwire serve``. The official Python
SDK's server implements no tasks, so it cannot be the peer here."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import Client

from toolwire._context import Context, ProgressCallback
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.remote import mcp as remote_mcp
from toolwire.remote._mcp_tasks import TaskCall

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
from tasks_serve import Replica, config, start_replica, stop

pytestmark = pytest.mark.anyio
TOOLS = Path(__file__).resolve().parent / "remote_task_tools.py"
REVISIONS = ["legacy", "2026-07-28"]  # what the session negotiates: 2025-11-25, 2026-07-28
WAIT_S = 30.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    folder = tmp_path_factory.mktemp("mcp-tasks")
    replica = start_replica(
        folder, config(auth=False), log=folder / "runs.log", grpc=False, tools=TOOLS
    )
    try:
        yield replica
    finally:
        stop(replica.proc, hard=True)


@pytest.fixture(params=REVISIONS)
async def tools(request: pytest.FixtureRequest, served: Replica) -> AsyncIterator[dict[str, Tool]]:
    found = await remote_mcp.load(served.mcp, allow_hosts=["127.0.0.1"], protocol=request.param)
    try:
        yield {t.name: t for t in found}
    finally:
        async with asyncio.timeout(10):
            await remote_mcp.close_sessions()


async def _call(t: Tool, args: dict[str, Any], ctx: Context | None = None) -> Any:
    ctx = ctx or Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate(args), ctx))


async def _server_status(url: str, task_id: str, until: str) -> str:
    """The task's status as the server tells a client of its own (2025-11-25 ``tasks/get``),
    once it is ``until`` (or whatever it is when the wait ends)."""
    status = ""
    async with Client(url, mode="legacy") as client:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            request = mcp_types.GetTaskRequest(
                params=mcp_types.GetTaskRequestParams(task_id=task_id)
            )
            got = await client.session.send_request(request, mcp_types.GetTaskResult)
            status = got.status
            if status == until:
                break
            await asyncio.sleep(0.05)
    return status


def _seeing(gate: Path, seen: list[tuple[float, float | None, str | None]]) -> ProgressCallback:
    """A progress callback that records each step and lets ``stepped`` go on past it."""

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))
        if message:
            (gate / message.split()[2]).touch()  # "<task id> step <i> of <n>"

    return on_progress


async def test_a_required_tool_runs_as_a_task_with_progress(
    tools: dict[str, Tool], tmp_path: Path
) -> None:
    seen: list[tuple[float, float | None, str | None]] = []
    version = (await remote_mcp.session_of(tools["stepped"]).client()).protocol_version
    ctx = Context(call_id="c", tool_name="stepped", progress=_seeing(tmp_path, seen))
    async with asyncio.timeout(WAIT_S):
        out = await _call(tools["stepped"], {"steps": 3, "gate": str(tmp_path)}, ctx)
    task_id = out["result"]
    assert task_id.startswith("task_")
    # every step reached the caller, in order, whether by notification or by polling
    assert [m for _, _, m in seen] == [f"{task_id} step {i} of 3" for i in (1, 2, 3)]
    assert [d for d, _, _ in seen] == [1, 2, 3]
    if version == "2025-11-25":  # progress notifications, by the call's token, carry the total
        assert seen[-1][1] == 3  # (the first step may come from a poll that overtook one)


async def test_a_failing_task_is_an_execution_error(tools: dict[str, Tool]) -> None:
    with pytest.raises(ToolFailure) as failed:
        await _call(tools["refuse"], {})
    assert failed.value.kind == "execution_error"
    assert "ledger is closed" in failed.value.message


async def test_cancelling_the_local_call_cancels_the_remote_task(
    tools: dict[str, Tool], served: Replica
) -> None:
    ids: list[str] = []
    started = asyncio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if message:
            ids.append(message.split()[0])
            started.set()

    ctx = Context(call_id="c", tool_name="hang", progress=on_progress)
    call = asyncio.ensure_future(_call(tools["hang"], {}, ctx))
    async with asyncio.timeout(WAIT_S):
        await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert ids[0].startswith("task_")
    assert await _server_status(served.mcp, ids[0], "cancelled") == "cancelled"


async def test_the_deadline_cancels_the_remote_task(
    tools: dict[str, Tool], served: Replica
) -> None:
    ids: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if message:
            ids.append(message.split()[0])

    soon = time.monotonic() + 1.5
    ctx = Context(call_id="c", tool_name="hang", progress=on_progress, deadline=soon)
    with pytest.raises(ToolFailure) as late:
        await _call(tools["hang"], {}, ctx)
    assert late.value.kind == "timeout"
    task_id = late.value.details["task_id"]
    assert ids == [] or ids[0] == task_id
    assert await _server_status(served.mcp, task_id, "cancelled") == "cancelled"


async def test_polling_goes_on_over_a_reopened_session(
    tools: dict[str, Tool], tmp_path: Path
) -> None:
    session = remote_mcp.session_of(tools["stepped"])
    seen: list[tuple[float, float | None, str | None]] = []
    record = _seeing(tmp_path, seen)
    broke = asyncio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        broke.set()
        await record(done, total, message)

    async def break_it() -> None:
        await broke.wait()
        await session.invalidate()  # the connection goes away mid-task, after step 1

    ctx = Context(call_id="c", tool_name="stepped", progress=on_progress)
    breaker = asyncio.ensure_future(break_it())
    try:
        async with asyncio.timeout(WAIT_S):
            answer = await _call(tools["stepped"], {"steps": 3, "gate": str(tmp_path)}, ctx)
    finally:
        breaker.cancel()
    task_id = answer["result"]  # the same task went on, not a second one
    # each step reached the caller once, in order, across the two sessions
    assert [m for _, _, m in seen] == [f"{task_id} step {i} of 3" for i in (1, 2, 3)]
    assert session.opened == 2


async def test_progress_goes_on_when_the_session_is_replaced_before_the_first_poll(
    tools: dict[str, Tool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another call sharing the session may reopen it after this call's first progress
    notification but before its first poll: no notification comes over the new session, so
    its polls' statusMessage must carry the remaining steps (it did not: the task hung)."""
    session = remote_mcp.session_of(tools["stepped"])
    if (await session.client()).protocol_version != "2025-11-25":
        pytest.skip("only 2025-11-25 sends progress over the call's own stream")
    seen: list[tuple[float, float | None, str | None]] = []
    record = _seeing(tmp_path, seen)
    first = asyncio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        await record(done, total, message)
        first.set()

    create = TaskCall.create

    async def create_then_replace(self: TaskCall, client: Any) -> dict[str, Any] | None:
        out = await create(self, client)
        async with asyncio.timeout(WAIT_S):
            await first.wait()  # step 1 came as a notification over this session ...
        await session.invalidate()  # ... which another call now replaces
        return out

    monkeypatch.setattr(TaskCall, "create", create_then_replace)
    ctx = Context(call_id="c", tool_name="stepped", progress=on_progress)
    async with asyncio.timeout(WAIT_S):
        answer = await _call(tools["stepped"], {"steps": 3, "gate": str(tmp_path)}, ctx)
    task_id = answer["result"]
    assert [m for _, _, m in seen] == [f"{task_id} step {i} of 3" for i in (1, 2, 3)]


async def test_a_step_told_by_a_poll_is_not_told_again_by_its_notification() -> None:
    """On 2025-11-25 the first poll can overtake the first notification, both saying step 1."""
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    ctx = Context(call_id="c", tool_name="stepped", progress=on_progress)
    call = TaskCall(
        session=None,  # type: ignore[arg-type]  # no request is sent here
        name="stepped",
        arguments={},
        ctx=ctx,
        is_broken=lambda exc: False,
        read_timeout_s=1.0,
    )
    await call._status("step 1")  # the poll's statusMessage ...
    await call._progress(1, 3, "step 1")  # ... then the notification it overtook
    await call._progress(2, 3, "step 2")
    await call._progress(3, 3, "step 2")  # a repeated message with new progress is told
    assert seen == [(1, None, "step 1"), (2, 3, "step 2"), (3, 3, "step 2")]


async def test_other_tools_still_call_plainly(tools: dict[str, Tool]) -> None:
    assert await _call(tools["add"], {"a": 2, "b": 3}) == {"result": 5}  # wrapped output
    # "optional": the server would run it as a task if asked; a plain call is not one
    called = await _call(tools["whoami"], {})
    assert not called["result"].startswith("task_")


async def test_optional_tools_as_tasks_on_request(served: Replica) -> None:
    found = await remote_mcp.load(
        served.mcp, allow_hosts=["127.0.0.1"], protocol="legacy", tasks="optional"
    )
    try:
        by_name = {t.name: t for t in found}
        called = await _call(by_name["whoami"], {})
        assert called["result"].startswith("task_")  # its own task's id
        assert await _call(by_name["add"], {"a": 1, "b": 1}) == {"result": 2}  # forbidden
    finally:
        async with asyncio.timeout(10):
            await remote_mcp.close_sessions()
    with pytest.raises(ValueError, match="tasks must be"):
        await remote_mcp.load(served.mcp, allow_hosts=["127.0.0.1"], tasks="always")  # type: ignore[arg-type]
