"""Calling an imported MCP tool as a task, on the revision the session negotiated.

- **2025-11-25**: ``tools/call`` with ``task: {"ttl": ...}`` answers a ``CreateTaskResult``;
  ``tasks/get`` is polled (every ``pollInterval``) until the task ends, then ``tasks/result``
  answers the ``CallToolResult``. The call's ``progressToken`` stays valid for the task's life,
  so its ``notifications/progress`` (which arrive after the call's own response, on the
  session's standing stream) are routed to the caller by that token.
- **2026-07-28** (the ``io.modelcontextprotocol/tasks`` extension): the extension is declared
  in the request's client capabilities; a ``{"resultType": "task"}`` answer is polled with
  ``tasks/get`` (every ``pollIntervalMs``), whose ``completed`` answer carries the result
  inline. The extension sends no progress for tasks: ``statusMessage`` is the progress.

The SDK's client has no task helpers, and its typed ``send_request`` rejects a
``CreateTaskResult`` as the answer of a ``tools/call`` (it validates against
``CallToolResult``), so these requests go out through the session's own stamp (revision
headers and ``_meta``) and dispatcher: the wire is the SDK's, only the result check is ours.
Declaring the extension per request (not for the whole session) keeps plain calls plain: a
2026-07-28 server may answer a task to any call whose request declares it.

The task id is durable on the server, so polling resumes over a reopened session; only the
creating ``tools/call`` follows the caller's repeat rule. A local cancellation or an expired
deadline sends ``tasks/cancel`` before giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire.remote._mcp_http import request_scope

try:
    import mcp_types
    from mcp import Client
    from mcp.shared.exceptions import MCPError
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    from toolwire._errors import MissingExtra

    raise MissingExtra("mcp", "mcp") from exc

log = logging.getLogger("toolwire.remote")

LEGACY = "2025-11-25"
EXTENSION = "io.modelcontextprotocol/tasks"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
RUNNING = ("working", "input_required")
DEFAULT_POLL_S = 1.0
MIN_POLL_S = 0.05
MIN_REQUEST_S = 2.0  # a server asking for 0 ms is not polled in a busy loop
NO_DEADLINE_TTL_S = 3600.0
TTL_GRACE_S = 60.0  # kept a while past the deadline, to fetch the result
CANCEL_S = 5.0
REOPENS = 3  # reconnects while polling one task

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


class TaskSession(Protocol):
    """What a task call needs of :class:`toolwire.remote.mcp.Session`."""

    progress_routes: dict[str, Progress]

    async def client(self) -> Client: ...

    async def invalidate(self) -> None: ...

    def describe(self) -> str: ...


def speaks_tasks(version: str) -> bool:
    """True for the revisions that define tasks (older ones can only call plainly)."""
    return version == LEGACY or version in MODERN_PROTOCOL_VERSIONS


def needs_tasks(exc: BaseException) -> bool:
    """True for a 2026-07-28 server's refusal of a plain call to a tool that only runs as a
    task (-32021 naming the tasks extension among the required client capabilities)."""
    if not isinstance(exc, MCPError) or exc.code != mcp_types.MISSING_REQUIRED_CLIENT_CAPABILITY:
        return False
    data = exc.error.data if isinstance(exc.error.data, Mapping) else {}
    required = data.get("requiredCapabilities")
    extensions = required.get("extensions") if isinstance(required, Mapping) else None
    return isinstance(extensions, Mapping) and EXTENSION in extensions


async def send(
    client: Client,
    method: str,
    params: dict[str, Any],
    *,
    wait_s: float | None,
) -> dict[str, Any]:
    """One request through the session's stamp and dispatcher; the raw result."""
    try:
        session: Any = client.session
    except RuntimeError as exc:  # the client was closed (the session dropped meanwhile)
        raise MCPError(code=mcp_types.CONNECTION_CLOSED, message="Connection closed") from exc
    data: dict[str, Any] = {"method": method, "params": params}
    opts: dict[str, Any] = {}
    if wait_s is not None:
        opts["timeout"] = wait_s
    session._stamp(data, opts)  # the revision's headers and (2026-07-28) per-request _meta
    if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
        meta = data["params"].setdefault("_meta", {})
        capabilities = dict(meta.get(CAPABILITIES_KEY) or {})  # a copy: the stamp's is shared
        capabilities["extensions"] = {**(capabilities.get("extensions") or {}), EXTENSION: {}}
        meta[CAPABILITIES_KEY] = capabilities
    raw = await session._dispatcher.send_raw_request(method, data["params"], opts)
    return dict(raw)


class TaskCall:
    """One task-augmented call of ``name``, from creation to its result."""

    def __init__(
        self,
        session: TaskSession,
        name: str,
        arguments: Mapping[str, Any],
        ctx: Context | None,
        *,
        is_broken: Callable[[BaseException], bool],
        read_timeout_s: float,
    ) -> None:
        self.session = session
        self.name = name
        self.arguments = dict(arguments)
        self.ctx = ctx
        self.is_broken = is_broken
        self.read_timeout_s = read_timeout_s
        left = ctx.time_left() if ctx is not None else None
        self.deadline = None if left is None else time.monotonic() + left
        self.task_id: str | None = None
        self.modern = False
        self._notified = False  # progress notifications arrived: statusMessage is not needed
        self._stream: Client | None = None  # the session whose stream carries them (2025-11-25)
        self._last_message: str | None = None
        self._last_by_poll = False  # the last step told came from a poll's statusMessage
        self._steps = 0

    def left(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def _timeout(self) -> float:
        """One request's wait: the call's time left, but never less than a poll needs (a
        deadline met while a request is out is noticed by the next poll)."""
        left = self.left()
        if left is None:
            return self.read_timeout_s
        return min(max(left, MIN_REQUEST_S), self.read_timeout_s)

    async def create(self, client: Client) -> dict[str, Any] | None:
        """Sends the task-augmented ``tools/call``; the result when the server answered one
        at once (a 2026-07-28 server may), else None with :attr:`task_id` set."""
        self.modern = client.protocol_version in MODERN_PROTOCOL_VERSIONS
        params: dict[str, Any] = {"name": self.name, "arguments": self.arguments}
        if not self.modern:
            left = self.left()
            ttl_s = (NO_DEADLINE_TTL_S if left is None else left) + TTL_GRACE_S
            params["task"] = {"ttl": int(ttl_s * 1000)}
            if self.ctx is not None and self.ctx.progress is not None:
                token = f"toolwire-task-{uuid.uuid4().hex}"
                params["_meta"] = {"progressToken": token}
                self.session.progress_routes[token] = self._progress
                self._token = token
                self._stream = client
        job = asyncio.ensure_future(send(client, "tools/call", params, wait_s=self._timeout()))
        try:
            raw = await asyncio.shield(job)
        except asyncio.CancelledError:
            # cancelled while the task was being created: it may exist on the server all the
            # same (a task-augmented call is not undone by cancelling its request), so wait a
            # moment for its id and cancel it there
            with contextlib.suppress(Exception):
                self._created(await asyncio.wait_for(job, CANCEL_S))
                await self._cancel_remote()
            self._unroute()
            raise
        return self._created(raw)

    def _created(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        if self.modern:
            if raw.get("resultType") != "task":
                return raw  # the server ran it plainly
            self.task_id = str(raw["taskId"])
            return None
        created = mcp_types.CreateTaskResult.model_validate(raw, by_name=False)
        self.task_id = created.task.task_id
        return None

    def _unroute(self) -> None:
        token = getattr(self, "_token", None)
        if token is not None:
            self.session.progress_routes.pop(token, None)

    async def _progress(self, progress: float, total: float | None, message: str | None) -> None:
        """A progress notification. The first one may repeat the step a poll has just told
        (a poll can overtake the notification it raced): that step is not told twice."""
        echo = self._last_by_poll and message is not None and message == self._last_message
        self._notified = True
        self._last_by_poll = False
        if self.ctx is not None and not echo:
            await self.ctx.report_progress(progress, total, message)
        self._last_message = message  # nor does a reopened session's first poll tell it again

    async def _status(self, message: str | None) -> None:
        """A changed ``statusMessage``, as progress, unless notifications already carry it."""
        if message is None or message == self._last_message or self._notified:
            return
        self._last_message = message
        self._last_by_poll = True
        self._steps += 1
        if self.ctx is not None:
            await self.ctx.report_progress(self._steps, None, message)

    async def outcome(self) -> dict[str, Any]:
        """Polls the task to its end, over reopened sessions if need be; the CallToolResult."""
        try:
            return await self._poll()
        except asyncio.CancelledError:
            await self._cancel_remote()
            raise
        finally:
            self._unroute()

    async def _poll(self) -> dict[str, Any]:
        reopened = 0
        while True:
            client = await self.session.client()
            if client is not self._stream:
                # 2025-11-25 progress rides the stream of the session the call was sent on; on
                # any other (reopened here, or by another call sharing the session, even before
                # the first poll) no notification comes: statusMessage takes over
                self._notified = False
            try:
                with request_scope() as scope:
                    return await self._follow(client)
            except ToolFailure:
                raise
            except Exception as exc:
                if not self.is_broken(exc):
                    if self.left() == 0:  # the deadline passed inside a request
                        await self._cancel_remote()
                    raise self._failed(exc) from exc
                await self.session.invalidate()
                refused = scope.refused()
                if refused is not None:
                    raise refused from exc
                reopened += 1
                if reopened > REOPENS:
                    raise ToolFailure(
                        "remote_error",
                        f"The connection to the MCP server kept breaking while following task "
                        f"{self.task_id} of {self.name}.",
                        details={"server": self.session.describe(), "task_id": self.task_id},
                    ) from exc
                log.debug("following task %s over a reopened session: %r", self.task_id, exc)

    async def _follow(self, client: Client) -> dict[str, Any]:
        assert self.task_id is not None
        while True:
            left = self.left()
            if left is not None and left <= 0:
                await self._cancel_remote()
                raise ToolFailure(
                    "timeout",
                    f"MCP tool {self.name} timed out (task {self.task_id} was cancelled)",
                    details={"task_id": self.task_id},
                )
            task = await send(client, "tasks/get", {"taskId": self.task_id}, wait_s=self._timeout())
            status = task.get("status")
            await self._status(task.get("statusMessage"))
            if status not in RUNNING:
                return await self._ended(client, task)
            key = "pollIntervalMs" if self.modern else "pollInterval"
            interval = task.get(key)
            wait = DEFAULT_POLL_S if not isinstance(interval, int | float) else interval / 1000
            wait = max(MIN_POLL_S, wait)
            left = self.left()
            await asyncio.sleep(wait if left is None else min(wait, left))

    async def _ended(self, client: Client, task: Mapping[str, Any]) -> dict[str, Any]:
        status = task.get("status")
        details = {"task_id": self.task_id}
        if status == "cancelled":
            raise ToolFailure(
                "cancelled",
                f"MCP tool {self.name}: its task {self.task_id} was cancelled on the server",
                details=details,
            )
        if self.modern:
            if status == "completed" and isinstance(task.get("result"), Mapping):
                return dict(task["result"])
            found = task.get("error")
            error: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            raise ToolFailure(
                "remote_error",
                f"MCP tool {self.name} failed: "
                f"{error.get('message') or task.get('statusMessage') or status}",
                details={**details, "mcp_code": error.get("code")},
            )
        # 2025-11-25: tasks/result answers what the call would have (a failed tool's isError
        # result too), or the JSON-RPC error the request ended in
        try:
            return await send(
                client, "tasks/result", {"taskId": self.task_id}, wait_s=self._timeout()
            )
        except MCPError as exc:
            if status == "failed" and not self.is_broken(exc):
                raise ToolFailure(
                    "remote_error",
                    f"MCP tool {self.name} failed: {task.get('statusMessage') or exc.message}",
                    details={**details, "mcp_code": exc.code},
                ) from exc
            raise

    def _failed(self, exc: BaseException) -> ToolFailure:
        details = {"task_id": self.task_id}
        if isinstance(exc, MCPError):
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                return ToolFailure("timeout", f"MCP tool {self.name} timed out", details=details)
            return ToolFailure(
                "remote_error",
                f"MCP tool {self.name} (task {self.task_id}) failed: {exc.message}",
                details={**details, "mcp_code": exc.code},
            )
        return ToolFailure(
            "remote_error", f"MCP tool {self.name} (task {self.task_id}) failed: {exc!r}"
        )

    async def _cancel_remote(self) -> None:
        """``tasks/cancel``, bounded and shielded from the caller's own cancellation."""
        if self.task_id is None:
            return

        async def cancel() -> None:
            client = await self.session.client()
            with request_scope():
                await send(client, "tasks/cancel", {"taskId": self.task_id}, wait_s=CANCEL_S)

        job = asyncio.ensure_future(cancel())
        _PENDING.add(job)
        job.add_done_callback(_settled)
        with contextlib.suppress(Exception):  # TimeoutError too: the job goes on alone
            await asyncio.wait_for(asyncio.shield(job), CANCEL_S)


_PENDING: set[asyncio.Future[None]] = set()


def _settled(job: asyncio.Future[None]) -> None:
    _PENDING.discard(job)
    if not job.cancelled() and job.exception() is not None:
        # already ended, not found, connection gone: the task ends by its TTL anyway
        log.debug("tasks/cancel failed: %r", job.exception())
