"""REST for tasks, and progress of plain calls over Server-Sent Events.

    POST   /v1/tools/{name}/tasks   the arguments -> 202 {"task_id", "status"}, Location
    GET    /v1/tasks                the caller's tasks, newest first (?limit=&cursor=)
    GET    /v1/tasks/{id}           the task (TaskInfo.to_dict: seven fields)
    DELETE /v1/tasks/{id}           cancel it -> the task afterwards
    GET    /v1/tasks/{id}/events    SSE: ``progress`` events, then ``end`` (the task)

``POST /v1/tools/{name}/call`` with ``Accept: text/event-stream`` answers as SSE too:
``progress`` events while the tool reports, then one ``result`` event (the ToolResult). A task
that is not the caller's is answered 404, as one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from toolwire import _json
from toolwire._context import Caller
from toolwire._errors import ToolError, ToolFailure, ToolwireError
from toolwire.runtime._tasks import UNKNOWN_TASK, TaskUpdate
from toolwire.serve._progress import ProgressRelay, relay_until
from toolwire.serve._rest import (
    authenticate,
    error_response,
    idempotency_key,
    json_response,
    object_body,
    read_body,
    require_json,
)
from toolwire.serve._tasks import TaskFront

EVENT_STREAM = "text/event-stream"
_KEEPALIVE_S = 15.0
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def wants_events(request: Request) -> bool:
    """Whether the client asked for the call's progress as an event stream."""
    return EVENT_STREAM in request.headers.get("accept", "")


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One Server-Sent Event (``data`` as JSON on one line)."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + _json.dumps_bytes(data) + b"\n\n"


def task_error(error: ToolError) -> Response:
    if error.details.get("reason") == UNKNOWN_TASK:
        return json_response({"error": error.to_dict()}, 404)
    return error_response(error)


def stream_call(service: Any, name: str, body: bytes, caller: Caller, key: str | None) -> Response:
    """``POST .../call`` as SSE: each progress report, then the result."""

    async def events() -> AsyncIterator[bytes]:
        relay = ProgressRelay()
        call = asyncio.ensure_future(
            service.call(
                name,
                body,
                caller=caller,
                transport="rest",
                idempotency_key=key,
                progress=relay,
            )
        )
        try:
            while (reports := await relay_until(call, relay, _KEEPALIVE_S)) is not None:
                if not reports:
                    yield b": keep-alive\n\n"
                for report in reports:
                    yield sse("progress", report.to_dict())
            for report in relay.pending():
                yield sse("progress", report.to_dict())
            yield sse("result", call.result().to_dict())
        finally:
            if not call.done():  # the client went away: stop the call
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)

    return StreamingResponse(events(), media_type=EVENT_STREAM, headers=_SSE_HEADERS)


def task_routes(service: Any) -> list[Route]:
    """The routes above, for :func:`~toolwire.serve._rest.rest_routes`."""
    front = TaskFront(service)

    async def start_task(request: Request) -> Response:
        if (refused := require_json(request)) is not None:
            return refused
        try:
            caller = authenticate(service, request)
            key = idempotency_key(request.headers.get("idempotency-key"), "Idempotency-Key")
            body = object_body(await read_body(request, service.limits.max_body_bytes))
            info = await front.start(
                request.path_params["name"], body, caller=caller, idempotency_key=key
            )
        except ToolwireError as exc:
            return task_error(exc.to_error())
        return json_response(
            {"task_id": info.id, "status": info.status},
            202,
            headers={"Location": f"/v1/tasks/{info.id}"},
        )

    async def get_task(request: Request) -> Response:
        try:
            caller = authenticate(service, request)
            info = await front.get(request.path_params["task_id"], caller=caller)
        except ToolwireError as exc:
            return task_error(exc.to_error())
        return json_response(info.to_dict())

    async def cancel_task(request: Request) -> Response:
        try:
            caller = authenticate(service, request)
            info = await front.cancel(request.path_params["task_id"], caller=caller)
        except ToolwireError as exc:
            return task_error(exc.to_error())
        return json_response(info.to_dict())

    async def list_tasks(request: Request) -> Response:
        try:
            caller = authenticate(service, request)
            limit = _limit(request.query_params.get("limit"))
            page = await front.list(
                caller=caller, limit=limit, cursor=request.query_params.get("cursor") or None
            )
        except ToolwireError as exc:
            return error_response(exc.to_error())
        return json_response(
            {"tasks": [t.to_dict() for t in page.tasks], "next_cursor": page.next_cursor}
        )

    async def task_events(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        after = request.headers.get("last-event-id") or request.query_params.get("after")
        try:
            caller = authenticate(service, request)
            await front.get(task_id, caller=caller)  # an unknown task is a 404, not a stream
        except ToolwireError as exc:
            return task_error(exc.to_error())
        updates = front.watch(task_id, caller=caller, after=after or None)
        return StreamingResponse(
            _task_events(updates), media_type=EVENT_STREAM, headers=_SSE_HEADERS
        )

    return [
        Route("/v1/tools/{name:str}/tasks", start_task, methods=["POST"]),
        Route("/v1/tasks", list_tasks, methods=["GET"]),
        Route("/v1/tasks/{task_id:str}", get_task, methods=["GET"]),
        Route("/v1/tasks/{task_id:str}", cancel_task, methods=["DELETE"]),
        Route("/v1/tasks/{task_id:str}/events", task_events, methods=["GET"]),
    ]


async def _task_events(updates: AsyncIterator[TaskUpdate]) -> AsyncIterator[bytes]:
    """The watch as SSE, with a keep-alive comment every ``_KEEPALIVE_S`` seconds of silence
    (proxies close idle streams)."""
    pending: asyncio.Future[TaskUpdate] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(updates))
            done, _ = await asyncio.wait({pending}, timeout=_KEEPALIVE_S)
            if not done:
                yield b": keep-alive\n\n"
                continue
            step, pending = pending, None
            try:
                update = step.result()
            except StopAsyncIteration:
                return
            except ToolwireError as exc:  # the task vanished (expired) while watched
                yield sse("error", {"error": exc.to_error().to_dict()})
                return
            yield _update_event(update)
            if update.kind == "end":
                return
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(BaseException):
            await updates.aclose()  # type: ignore[attr-defined]


def _update_event(update: TaskUpdate) -> bytes:
    if update.kind == "end":
        return sse("end", update.task.to_dict(), update.id)
    progress = update.task.progress
    data = {"task_id": update.task.id, **(progress.to_dict() if progress else {})}
    return sse("progress", data, update.id)


def _limit(text: str | None) -> int:
    if text is None:
        return 100
    if text.isdigit() and 1 <= int(text) <= 1000:
        return int(text)
    raise ToolFailure(
        "invalid_arguments",
        "limit must be a whole number from 1 to 1000.",
        details={"field": "limit"},
    )
