"""gRPC: ``toolwire.v1.ToolService`` on grpcio aio, plus health checking and reflection.

Unary ``CallTool`` fails with the status mapped from the error kind (one table, ``_status``),
the full error as JSON in the trailing metadata key ``toolwire-error`` (ASCII: other characters
are ``\\uXXXX`` escapes, since a text metadata value must be printable ASCII) and the standard
``grpc-status-details-bin`` (a ``google.rpc.Status`` with an ``ErrorInfo`` whose ``reason`` is
the kind, plus ``BadRequest`` field violations and ``RetryInfo`` when known). The streaming
``CallTools`` runs every request as it arrives, concurrently, and answers each in completion
order with the error (and the code it would have had) inside the message. The caller's
deadline becomes the call's deadline in the runtime.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import MissingExtra, ToolError, ToolwireError
from toolwire._status import status_of
from toolwire.serve._auth import ANONYMOUS
from toolwire.serve._edge import CREDENTIAL_HEADERS, ToolView, caller_of, export_tools
from toolwire.serve._progress import ProgressRelay, relay_until
from toolwire.serve._service import ToolService

try:
    import grpc
    from google.protobuf import any_pb2, duration_pb2
    from google.rpc import error_details_pb2, status_pb2
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_health.v1._async import HealthServicer
    from grpc_reflection.v1alpha import reflection

    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc
except ImportError as exc:  # pragma: no cover - part of the grpc extra
    raise MissingExtra("grpcio", "grpc") from exc

SERVICE_NAME = "toolwire.v1.ToolService"
ERROR_KEY = "toolwire-error"
DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "toolwire"


def _map_result(result: ToolResult) -> tools_pb2.CallToolResponse:
    if result.ok:
        # One constructor call with only the fields that differ from proto3's defaults: the
        # hot path of every unary call.
        msg = tools_pb2.CallToolResponse(
            call_id=result.call_id,
            name=result.name,
            ok=True,
            attempts=result.attempts,
            elapsed_s=result.elapsed_s,
            value_json=_json.dumps(result.value),
        )
        if result.cached:
            msg.cached = True
        return msg
    assert result.error is not None
    return tools_pb2.CallToolResponse(
        call_id=result.call_id,
        name=result.name,
        attempts=result.attempts,
        cached=result.cached,
        elapsed_s=result.elapsed_s,
        error=_map_error(result.error),
        grpc_code=status_of(result.error.kind).grpc_value,
    )


def _map_error(error: ToolError) -> tools_pb2.ToolErrorInfo:
    info = tools_pb2.ToolErrorInfo(
        kind=error.kind, message=error.message, details_json=_json.dumps(dict(error.details))
    )
    if error.retry_after is not None:
        info.retry_after = error.retry_after
    return info


def _map_tool(view: ToolView) -> tools_pb2.ToolInfo:
    # proto3 strings have no null: an absent title, description or output schema is "".
    return tools_pb2.ToolInfo(
        name=view.name,
        description=view.description or "",
        input_schema_json=_json.dumps(view.input_schema),
        output_schema_json=_json.dumps(view.output_schema) if view.output_schema else "",
        read_only=view.read_only,
        idempotent=view.idempotent,
        destructive=view.destructive,
        open_world=view.open_world,
        tags=view.tags,
        title=view.title or "",
        task_support=view.task_support,
    )


def _process_metadata(metadata: Any) -> dict[str, str]:
    """The credential headers among a call's metadata (keys arrive lower case; the last of a
    repeated key wins), as the mapping ``caller_of`` reads."""
    out: dict[str, str] = {}
    for key, value in metadata or ():
        if key in CREDENTIAL_HEADERS:
            out[key] = value.decode() if isinstance(value, bytes) else str(value)
    return out


def _trailers(error: ToolError) -> tuple[tuple[str, str | bytes], ...]:
    out: list[tuple[str, str | bytes]] = [
        (ERROR_KEY, _ascii_json(error.to_dict())),
        (DETAILS_KEY, _map_status(error).SerializeToString()),
    ]
    if error.retry_after is not None:
        out.append(("retry-after", str(error.retry_after)))
    return tuple(out)


def _ascii_json(data: Any) -> str:
    """JSON that is a legal text metadata value (printable ASCII, 0x20-0x7E): grpcio answers
    ``INTERNAL: Invalid metadata`` for anything else, losing the error's status and kind."""
    text = _json.dumps(data)
    if text.isascii() and "\x7f" not in text:
        return text  # the usual case: no second pass
    # JSON escapes control characters but not DEL (it can only appear inside strings).
    return json.dumps(json.loads(text), separators=(",", ":")).replace("\x7f", "\\u007f")


def _map_status(error: ToolError) -> status_pb2.Status:
    """The ``google.rpc.Status`` for ``error`` (what ``grpc_status.rpc_status.from_call`` and
    grpcurl read): the mapped code, the message, and typed details."""
    status = status_pb2.Status(code=status_of(error.kind).grpc_value, message=error.message)
    info = error_details_pb2.ErrorInfo(
        reason=error.kind.upper(), domain=ERROR_DOMAIN, metadata={"kind": error.kind}
    )
    details = [info]
    problems = error.details.get("problems")
    if isinstance(problems, list) and problems:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=str(p.get("path", "")), description=str(p.get("message", ""))
                    )
                    for p in problems
                    if isinstance(p, dict)
                ]
            )
        )
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(datetime.timedelta(seconds=max(0.0, error.retry_after)))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


class ToolServicer(tools_pb2_grpc.ToolServiceServicer):
    def __init__(self, service: ToolService) -> None:
        self.service = service

    async def _caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
        auth = self.service.auth
        if not auth.enabled:
            return ANONYMOUS  # no credentials to read: skip copying the metadata
        try:
            return caller_of(auth, _process_metadata(context.invocation_metadata()))
        except ToolwireError as exc:
            await self._abort(context, exc.to_error())
            raise  # unreachable: abort raises

    async def _abort(self, context: grpc.aio.ServicerContext[Any, Any], error: ToolError) -> None:
        code = getattr(grpc.StatusCode, status_of(error.kind).grpc)
        await context.abort(code, error.message, trailing_metadata=_trailers(error))

    async def ListTools(
        self, request: tools_pb2.ListToolsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.ListToolsResponse:
        caller = await self._caller(context)
        views = self.service.catalog.views(caller)
        response = tools_pb2.ListToolsResponse(tools=[_map_tool(v) for v in views])
        if request.dialect:
            try:
                exported = export_tools(self.service, request.dialect, caller)
            except ToolwireError as exc:
                await self._abort(context, exc.to_error())
            response.export_json = _json.dumps(exported)
        return response

    async def CallTool(
        self, request: tools_pb2.CallToolRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tools_pb2.CallToolResponse:
        # No coroutine for the caller when there are no credentials to read (the usual case)
        caller = ANONYMOUS if not self.service.auth.enabled else await self._caller(context)
        result = await self._call(request, caller, context)
        if not result.ok:
            assert result.error is not None
            await self._abort(context, result.error)
        return _map_result(result)

    async def CallTools(
        self,
        request_iterator: AsyncIterator[tools_pb2.CallToolRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[tools_pb2.CallToolResponse]:
        caller = await self._caller(context)
        done: asyncio.Queue[tools_pb2.CallToolResponse | None] = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()

        async def one(request: tools_pb2.CallToolRequest) -> None:
            if request.progress:  # its reports first, as they come, then its result
                await self._with_progress(request, caller, context, done.put)
                return
            await done.put(_map_result(await self._call(request, caller, context)))

        async def feed() -> None:
            try:
                async for request in request_iterator:
                    task = asyncio.create_task(one(request))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                while tasks:
                    await asyncio.gather(*list(tasks))
            finally:
                await done.put(None)

        feeder = asyncio.create_task(feed())
        try:
            while (item := await done.get()) is not None:
                yield item
        finally:
            feeder.cancel()
            for task in list(tasks):
                task.cancel()

    def _call(
        self,
        request: tools_pb2.CallToolRequest,
        caller: Caller,
        context: grpc.aio.ServicerContext[Any, Any],
        *,
        call_id: str | None = None,
        progress: ProgressRelay | None = None,
    ) -> Coroutine[Any, Any, ToolResult]:
        """The service's call (await it). Not a coroutine function itself: it hands back the
        service's coroutine, one coroutine less on every call."""
        remaining = context.time_remaining()
        deadline = time.monotonic() + remaining if remaining is not None else None
        return self.service.call(
            request.name,
            request.arguments_json,
            caller=caller,
            transport="grpc",
            idempotency_key=request.idempotency_key or None,
            call_id=call_id or request.call_id or None,
            deadline=deadline,
            progress=progress,
        )

    async def _with_progress(
        self,
        request: tools_pb2.CallToolRequest,
        caller: Caller,
        context: grpc.aio.ServicerContext[Any, Any],
        put: Callable[[tools_pb2.CallToolResponse], Awaitable[None]],
    ) -> None:
        """One streamed call with its progress reports (the call id is fixed here, so that
        the reports before the result already name it)."""
        from toolwire.serve._tasks_grpc import progress_answer  # loaded with the task RPCs

        call_id = request.call_id or "call_" + uuid.uuid4().hex[:20]
        relay = ProgressRelay()
        call = asyncio.ensure_future(
            self._call(request, caller, context, call_id=call_id, progress=relay)
        )
        try:
            while (reports := await relay_until(call, relay)) is not None:
                for report in reports:
                    await put(progress_answer(call_id, request.name, report))
            for report in relay.pending():
                await put(progress_answer(call_id, request.name, report))
            await put(_map_result(call.result()))
        finally:
            if not call.done():  # the stream went away: stop the call
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)


async def start_grpc(
    service: ToolService,
    *,
    host: str,
    port: int,
    options: Sequence[tuple[str, Any]] = (),
) -> tuple[grpc.aio.Server, int]:
    """Start the gRPC server (ToolService, health, reflection); returns it and the bound port."""
    # A dict, so that the caller's options replace these defaults (gRPC keeps the first of
    # two equal keys, which silently ignored --workers' so_reuseport).
    settings: dict[str, Any] = {
        "grpc.max_receive_message_length": service.limits.max_body_bytes,
        "grpc.so_reuseport": 0,
    }
    settings.update(options)
    server = grpc.aio.server(options=list(settings.items()))
    tools_pb2_grpc.add_ToolServiceServicer_to_server(ToolServicer(service), server)  # type: ignore[no-untyped-call]
    # Imported here: the task servicer builds on this module's servicer.
    from toolwire.serve._tasks_grpc import TASK_SERVICE_NAME, TaskServicer

    tools_pb2_grpc.add_TaskServiceServicer_to_server(TaskServicer(service), server)  # type: ignore[no-untyped-call]
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (
            SERVICE_NAME,
            TASK_SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health.set(TASK_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    return server, bound
