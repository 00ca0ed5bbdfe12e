"""gRPC for tasks: ``toolwire.v1.TaskService`` (StartTask, GetTask, WatchTask, CancelTask,
ListTasks), beside ``ToolService`` on the same server, with the same credentials.

Failures end the call with the status of the error's kind and the same trailers as a failed
``CallTool`` (``toolwire-error``, ``grpc-status-details-bin``); a task that is not the caller's
(or does not exist) is ``NOT_FOUND``. ``WatchTask`` streams the task's latest progress, each new
report, then the end (the last message, with the result) and closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from toolwire._errors import ToolError, ToolwireError
from toolwire.runtime._tasks import UNKNOWN_TASK, TaskInfo, TaskUpdate
from toolwire.serve._gen import tools_pb2, tools_pb2_grpc
from toolwire.serve._grpc import (
    DETAILS_KEY,
    ERROR_KEY,
    ToolServicer,
    _ascii_json,
    _map_result,
    _map_status,
)
from toolwire.serve._tasks import TaskFront
from toolwire.state._tasks import TaskProgress

try:
    import grpc
except ImportError as exc:  # pragma: no cover - part of the grpc extra
    from toolwire._errors import MissingExtra

    raise MissingExtra("grpcio", "grpc") from exc

TASK_SERVICE_NAME = "toolwire.v1.TaskService"


def map_progress(progress: TaskProgress) -> tools_pb2.ProgressReport:
    report = tools_pb2.ProgressReport(done=progress.done)
    if progress.total is not None:
        report.total = progress.total
    if progress.message is not None:
        report.message = progress.message
    return report


def _map_task(info: TaskInfo) -> tools_pb2.TaskInfo:
    shown = info.to_dict()
    message = tools_pb2.TaskInfo(
        task_id=info.id,
        tool=info.tool,
        status=info.status,
        created_at=shown["created_at"],
        updated_at=shown["updated_at"],
    )
    if info.progress is not None:
        message.progress.CopyFrom(map_progress(info.progress))
    if info.result is not None:
        message.result.CopyFrom(_map_result(info.result))
    return message


def _map_event(update: TaskUpdate) -> tools_pb2.TaskEvent:
    return tools_pb2.TaskEvent(id=update.id or "", kind=update.kind, task=_map_task(update.task))


class TaskServicer(ToolServicer, tools_pb2_grpc.TaskServiceServicer):
    """The task RPCs; credentials and aborts as in :class:`ToolServicer`."""

    def __init__(self, service: Any) -> None:
        super().__init__(service)
        self.front = TaskFront(service)

    async def _fail(self, context: grpc.aio.ServicerContext[Any, Any], error: ToolError) -> None:
        if error.details.get("reason") != UNKNOWN_TASK:
            await self._abort(context, error)
        # NOT_FOUND, like an unknown tool, and the detailed status says the same code
        status = _map_status(error)
        status.code = grpc.StatusCode.NOT_FOUND.value[0]
        trailers = (
            (ERROR_KEY, _ascii_json(error.to_dict())),
            (DETAILS_KEY, status.SerializeToString()),
        )
        await context.abort(grpc.StatusCode.NOT_FOUND, error.message, trailers)

    async def StartTask(
        self, request: tools_pb2.StartTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.TaskInfo:
        # the caller's deadline bounds this request, never the task it starts
        caller = await self._caller(context)
        try:
            info = await self.front.start(
                request.name,
                request.arguments_json or "{}",
                caller=caller,
                idempotency_key=request.idempotency_key or None,
            )
        except ToolwireError as exc:
            await self._fail(context, exc.to_error())
            raise  # unreachable: abort raises
        return _map_task(info)

    async def GetTask(
        self, request: tools_pb2.GetTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.TaskInfo:
        caller = await self._caller(context)
        try:
            info = await self.front.get(request.task_id, caller=caller)
        except ToolwireError as exc:
            await self._fail(context, exc.to_error())
            raise
        return _map_task(info)

    async def CancelTask(
        self, request: tools_pb2.CancelTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.TaskInfo:
        caller = await self._caller(context)
        try:
            info = await self.front.cancel(request.task_id, caller=caller)
        except ToolwireError as exc:
            await self._fail(context, exc.to_error())
            raise
        return _map_task(info)

    async def ListTasks(
        self, request: tools_pb2.ListTasksRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.ListTasksResponse:
        caller = await self._caller(context)
        try:
            page = await self.front.list(
                caller=caller, limit=request.limit or 100, cursor=request.cursor or None
            )
        except ToolwireError as exc:
            await self._fail(context, exc.to_error())
            raise
        return tools_pb2.ListTasksResponse(
            tasks=[_map_task(t) for t in page.tasks], next_cursor=page.next_cursor or ""
        )

    async def WatchTask(
        self, request: tools_pb2.WatchTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[tools_pb2.TaskEvent]:
        caller = await self._caller(context)
        try:
            await self.front.get(request.task_id, caller=caller)  # NOT_FOUND before streaming
        except ToolwireError as exc:
            await self._fail(context, exc.to_error())
            raise
        updates = self.front.watch(request.task_id, caller=caller, after=request.after or None)
        try:
            async for update in updates:
                yield _map_event(update)
        except ToolwireError as exc:  # the task expired while watched
            await self._fail(context, exc.to_error())
        finally:
            await updates.aclose()  # type: ignore[attr-defined]


def progress_answer(call_id: str, name: str, report: TaskProgress) -> tools_pb2.CallToolResponse:
    """A ``CallTools`` answer carrying one progress report of the call (not its result)."""
    return tools_pb2.CallToolResponse(call_id=call_id, name=name, progress=map_progress(report))
