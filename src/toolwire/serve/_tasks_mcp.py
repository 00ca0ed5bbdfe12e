"""MCP tasks, on the two revisions that define them, over the one task store.

- **2025-11-25** (tasks in the core spec): the server declares ``capabilities.tasks`` (list,
  cancel, ``requests.tools.call``); a ``tools/call`` with a ``task`` field answers a
  ``CreateTaskResult`` (``{"task": {...}}``); ``tasks/get``, ``tasks/result`` (waits for the
  end, then answers the ``CallToolResult`` with the ``related-task`` meta), ``tasks/list`` and
  ``tasks/cancel`` follow. A tool whose ``task_support`` is ``forbidden`` refuses a task-augmented
  call with -32601; a ``required`` one refuses a plain call with -32601. The request's
  ``progressToken`` stays valid for the task's life: progress reaches the session as
  ``notifications/progress`` from whichever replica runs the task (this one watches it). A
  failed tool is a ``failed`` task, as that revision says.
- **2026-07-28** (the ``io.modelcontextprotocol/tasks`` extension): the server advertises the
  extension; a ``tools/call`` whose per-request capabilities declare it, for a tool that may run
  as a task, answers ``{"resultType": "task", ...}``; ``tasks/get`` carries the result inline
  (``completed`` also for a tool error, as that revision says), ``tasks/cancel`` and
  ``tasks/update`` acknowledge. A ``required`` tool called without the extension gets -32021.
  Progress of a task is its ``statusMessage`` (the extension sends no progress for tasks).

The SDK defines these types but dispatches none of these methods: the ``tools/call`` part is a
server middleware (it answers before the SDK shapes a ``CallToolResult``), the rest request
handlers. Tasks are the caller's: another caller's task is -32602 "not found", as a task that
does not exist. Older revisions see none of this (their calls run plainly).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from toolwire._context import Caller
from toolwire._errors import ToolError, ToolwireError
from toolwire.runtime._tasks import UNKNOWN_TASK, TaskInfo, iso
from toolwire.serve._tasks import TaskFront

try:
    import mcp_types as types
    from mcp.shared.exceptions import MCPError
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS
    from pydantic import Field
except ImportError as exc:  # pragma: no cover - part of the mcp extra
    from toolwire._errors import MissingExtra

    raise MissingExtra("mcp", "mcp") from exc

log = logging.getLogger("toolwire.serve")

LEGACY = "2025-11-25"  # the one handshake revision with tasks
EXTENSION = "io.modelcontextprotocol/tasks"
RELATED = "io.modelcontextprotocol/related-task"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
POLL_MS = 1000
CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
_FOLLOW_MAX_S = 24 * 3600.0  # a progress follower outlives no task by more than this

CallerOf = Callable[[Any], Caller]
Render = Callable[[Any, str], dict[str, Any]]


def _modern(version: str) -> bool:
    return version in MODERN_PROTOCOL_VERSIONS


def _declares_extension(params: Mapping[str, Any] | None) -> bool:
    meta = (params or {}).get("_meta")
    caps = meta.get(CAPABILITIES_KEY) if isinstance(meta, Mapping) else None
    extensions = caps.get("extensions") if isinstance(caps, Mapping) else None
    return isinstance(extensions, Mapping) and EXTENSION in extensions


def _missing_extension() -> MCPError:
    return MCPError(
        code=types.MISSING_REQUIRED_CLIENT_CAPABILITY,
        message="Missing required client capability",
        data={"requiredCapabilities": {"extensions": {EXTENSION: {}}}},
    )


def _not_found(task_id: str) -> MCPError:
    return MCPError(
        code=types.INVALID_PARAMS,
        message="Failed to retrieve task: Task not found",
        data={"taskId": task_id},
    )


def _failure(error: ToolError) -> MCPError:
    """A start or a lookup that failed, as a JSON-RPC error carrying the toolwire error."""
    if error.details.get("reason") == UNKNOWN_TASK:
        return _not_found(str(error.details.get("task_id", "")))
    code = types.INVALID_PARAMS
    if error.kind not in ("invalid_arguments", "unknown_tool", "too_large"):
        code = types.INTERNAL_ERROR
    return MCPError(code=code, message=error.message, data={"error": error.to_dict()})


def _ttl_ms(info: TaskInfo) -> int | None:
    if info.expires_at is None:
        return None  # kept while working; the clock starts at the end
    return int((info.expires_at - info.created_at) * 1000)


def _status_message(info: TaskInfo) -> str | None:
    if info.status == "working":
        progress = info.progress
        if progress is None:
            return None
        if progress.message:
            return progress.message
        total = f" of {progress.total:g}" if progress.total is not None else ""
        return f"{progress.done:g}{total}"
    if info.result is not None and info.result.error is not None:
        return info.result.error.message
    return None


def legacy_task(info: TaskInfo) -> dict[str, Any]:
    """The 2025-11-25 ``Task`` (a failed tool is a ``failed`` task there)."""
    task: dict[str, Any] = {
        "taskId": info.id,
        "status": info.status,
        "createdAt": iso(info.created_at),
        "lastUpdatedAt": iso(info.updated_at),
        "ttl": _ttl_ms(info),
        "pollInterval": POLL_MS,
    }
    message = _status_message(info)
    if message is not None:
        task["statusMessage"] = message
    return task


def modern_task(info: TaskInfo, render: Render | None = None) -> dict[str, Any]:
    """The extension's ``DetailedTask``: a tool error is a ``completed`` task whose result has
    ``isError`` (``failed`` is for JSON-RPC errors, which a toolwire run never ends in)."""
    status = "completed" if info.status == "failed" else info.status
    task: dict[str, Any] = {
        "taskId": info.id,
        "status": status,
        "createdAt": iso(info.created_at),
        "lastUpdatedAt": iso(info.updated_at),
        "ttlMs": _ttl_ms(info),
        "pollIntervalMs": POLL_MS,
    }
    message = _status_message(info)
    if message is not None:
        task["statusMessage"] = message
    if status == "completed" and info.result is not None and render is not None:
        task["result"] = render(info.result, info.tool)
    return task


class TaskMiddleware:
    """The ``tools/call`` and ``initialize`` part (see the module docstring)."""

    def __init__(self, front: TaskFront, caller_of: CallerOf, render: Render, stamp: Any) -> None:
        self.front = front
        self.caller_of = caller_of
        self.render = render
        self.stamp = stamp  # () -> the serverInfo _meta stamp of 2026 results
        self._followers: set[asyncio.Task[None]] = set()

    async def __call__(self, ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        if ctx.method == "initialize":
            result = await call_next(ctx)
            if isinstance(result, dict) and result.get("protocolVersion") == LEGACY:
                capabilities = result.setdefault("capabilities", {})
                capabilities["tasks"] = CAPABILITY
            return result
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        version = ctx.protocol_version
        if version != LEGACY and not _modern(version):
            return await call_next(ctx)  # no tasks before 2025-11-25
        tool = self._tool(params.get("name"))
        support = tool.spec.task_support if tool is not None else "forbidden"
        if version == LEGACY:
            augmented = isinstance(params.get("task"), Mapping)
            if augmented and support == "forbidden":
                raise MCPError(
                    code=types.METHOD_NOT_FOUND,
                    message=f"Tool {params.get('name')!r} does not support task-augmented calls",
                )
            if not augmented and support == "required":
                raise MCPError(
                    code=types.METHOD_NOT_FOUND,
                    message=f"Tool {params.get('name')!r} must be called as a task",
                )
            if not augmented:
                return await call_next(ctx)
            info = await self._start(ctx, params)
            return {"task": legacy_task(info)}
        if support == "forbidden":
            return await call_next(ctx)
        if not _declares_extension(params):
            if support == "required":
                raise _missing_extension()
            return await call_next(ctx)
        info = await self._start(ctx, params)
        return {
            "resultType": "task",
            **modern_task(info),
            "_meta": {"io.modelcontextprotocol/serverInfo": self.stamp()},
        }

    def _tool(self, name: Any) -> Any:
        try:
            return self.front.service.box.get(name) if isinstance(name, str) else None
        except ToolwireError:
            return None

    async def _start(self, ctx: Any, params: Mapping[str, Any]) -> TaskInfo:
        try:
            caller = self.caller_of(ctx)
            info = await self.front.start(
                str(params.get("name")), params.get("arguments") or {}, caller=caller
            )
        except ToolwireError as exc:
            raise _failure(exc.to_error()) from None
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, Mapping) else None
        if token is not None and ctx.protocol_version == LEGACY:
            self._follow(ctx.session, info.id, caller, token)
        return info

    def _follow(self, session: Any, task_id: str, caller: Caller, token: Any) -> None:
        """Progress of the task to the session, with the call's token, until it ends."""

        async def follow() -> None:
            try:
                async with asyncio.timeout(_FOLLOW_MAX_S):
                    async for update in self.front.watch(task_id, caller=caller):
                        progress = update.task.progress
                        if update.kind == "progress" and progress is not None:
                            wire = {
                                "progressToken": token,
                                "progress": progress.done,
                                "total": progress.total,
                                "message": progress.message,
                                "_meta": {RELATED: {"taskId": task_id}},
                            }
                            params = types.ProgressNotificationParams.model_validate(wire)
                            await session.send_notification(
                                types.ProgressNotification(params=params)
                            )
            except Exception as exc:  # the session went away, or the task expired
                log.debug("toolwire mcp: stopped following %s: %s", task_id, exc)

        task = asyncio.get_running_loop().create_task(follow())
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)


class TaskMethods:
    """``tasks/get``, ``tasks/result``, ``tasks/list``, ``tasks/cancel``, ``tasks/update``."""

    def __init__(self, front: TaskFront, caller_of: CallerOf, render: Render) -> None:
        self.front = front
        self.caller_of = caller_of
        self.render = render

    def _gate(self, ctx: Any, *, legacy: bool, modern: bool) -> bool:
        """True for 2026-07-28; raises for a revision without the method."""
        version = ctx.protocol_version
        if version == LEGACY and legacy:
            return False
        if _modern(version) and modern:
            if not _declares_extension(ctx.params):
                raise _missing_extension()
            return True
        raise MCPError(code=types.METHOD_NOT_FOUND, message="Method not found", data=ctx.method)

    async def _info(self, ctx: Any, task_id: str) -> TaskInfo:
        try:
            return await self.front.get(task_id, caller=self.caller_of(ctx))
        except ToolwireError as exc:
            raise _failure(exc.to_error()) from None

    async def get(self, ctx: Any, params: types.GetTaskRequestParams) -> dict[str, Any]:
        modern = self._gate(ctx, legacy=True, modern=True)
        info = await self._info(ctx, params.task_id)
        if modern:
            return {"resultType": "complete", **modern_task(info, self.render)}
        return legacy_task(info)

    async def result(self, ctx: Any, params: types.GetTaskPayloadRequestParams) -> dict[str, Any]:
        self._gate(ctx, legacy=True, modern=False)
        await self._info(ctx, params.task_id)  # not found / not yours: at once
        try:
            info = await self.front.tasks.wait(params.task_id, caller=self.caller_of(ctx))
        except ToolwireError as exc:
            raise _failure(exc.to_error()) from None
        assert info.result is not None
        answer = self.render(info.result, info.tool)
        answer.pop("resultType", None)  # a 2026-07-28 field; this is the 2025-11-25 method
        answer["_meta"] = {RELATED: {"taskId": info.id}}
        return answer

    async def list(self, ctx: Any, params: types.PaginatedRequestParams) -> dict[str, Any]:
        self._gate(ctx, legacy=True, modern=False)
        try:
            page = await self.front.list(caller=self.caller_of(ctx), cursor=params.cursor)
        except ToolwireError as exc:
            raise _failure(exc.to_error()) from None
        out: dict[str, Any] = {"tasks": [legacy_task(t) for t in page.tasks]}
        if page.next_cursor is not None:
            out["nextCursor"] = page.next_cursor
        return out

    async def cancel(self, ctx: Any, params: types.CancelTaskRequestParams) -> dict[str, Any]:
        modern = self._gate(ctx, legacy=True, modern=True)
        before = await self._info(ctx, params.task_id)
        if before.done and not modern:
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"Cannot cancel task: already in terminal status '{before.status}'",
            )
        try:
            after = await self.front.cancel(params.task_id, caller=self.caller_of(ctx))
        except ToolwireError as exc:
            raise _failure(exc.to_error()) from None
        if modern:
            return {"resultType": "complete"}  # an acknowledgement (the end may differ)
        if after.status != "cancelled":  # it ended first
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"Cannot cancel task: already in terminal status '{after.status}'",
            )
        return legacy_task(after)

    async def update(self, ctx: Any, params: UpdateTaskParams) -> dict[str, Any]:
        self._gate(ctx, legacy=False, modern=True)
        await self._info(ctx, params.task_id)
        # a toolwire task never waits for input: every response is for no outstanding request,
        # which the extension says to ignore
        return {"resultType": "complete"}


class UpdateTaskParams(types.RequestParams):
    """``tasks/update`` (the extension's): the task and responses to its input requests."""

    task_id: str = Field(alias="taskId")
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


def install_tasks(server: Any, front: TaskFront, caller_of: CallerOf, render: Render) -> None:
    """Give ``server`` (the SDK's low-level ``Server``) MCP tasks over ``front``."""
    server.middleware.append(
        TaskMiddleware(front, caller_of, render, lambda: server.server_info_stamp)
    )
    methods = TaskMethods(front, caller_of, render)
    server.add_request_handler("tasks/get", types.GetTaskRequestParams, methods.get)
    server.add_request_handler("tasks/result", types.GetTaskPayloadRequestParams, methods.result)
    server.add_request_handler("tasks/list", types.PaginatedRequestParams, methods.list)
    server.add_request_handler("tasks/cancel", types.CancelTaskRequestParams, methods.cancel)
    server.add_request_handler("tasks/update", UpdateTaskParams, methods.update)
    server.extensions[EXTENSION] = {}  # advertised to 2026-07-28 clients
