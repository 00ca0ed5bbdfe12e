"""A small async client for ``toolwire.v1.ToolService``.

Example::

    async with GrpcToolClient("127.0.0.1:50051", api_key=key) as client:
        result = await client.call("get_weather", {"location": "Paris"})
        print(result.ok, result.value)

Calls come back as :class:`~toolwire.ToolResult` (failed calls too, with the error kind the
server sent), so code written against ``Toolbox.call`` works against a remote toolbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._errors import ERROR_KINDS, ErrorKind, MissingExtra, ToolError

__all__ = ["GrpcToolClient", "error_from_rpc", "result_from_message"]

try:
    import grpc

    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc
except ImportError as exc:  # pragma: no cover - part of the grpc extra
    raise MissingExtra("grpcio", "grpc") from exc

_CODE_KIND: dict[grpc.StatusCode, ErrorKind] = {
    grpc.StatusCode.INVALID_ARGUMENT: "invalid_arguments",
    grpc.StatusCode.NOT_FOUND: "unknown_tool",
    grpc.StatusCode.UNAUTHENTICATED: "unauthorized",
    grpc.StatusCode.PERMISSION_DENIED: "forbidden",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "rate_limited",
    grpc.StatusCode.DEADLINE_EXCEEDED: "timeout",
    grpc.StatusCode.CANCELLED: "cancelled",
    grpc.StatusCode.UNAVAILABLE: "remote_error",
}


class GrpcToolClient:
    """Call tools served by ``toolwire serve`` over gRPC."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self._own_channel = channel is None
        self.channel = channel or grpc.aio.insecure_channel(target)
        self.stub = tools_pb2_grpc.ToolServiceStub(self.channel)  # type: ignore[no-untyped-call]
        metadata: list[tuple[str, str]] = []
        if api_key:
            metadata.append(("x-api-key", api_key))
        if token:
            metadata.append(("authorization", f"Bearer {token}"))
        self.metadata = tuple(metadata)

    async def __aenter__(self) -> GrpcToolClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_channel:
            await self.channel.close()

    async def list_tools(self, dialect: str = "") -> Any:
        """The tool list (dicts), or the toolbox exported to ``dialect``."""
        response = await self.stub.ListTools(
            tools_pb2.ListToolsRequest(dialect=dialect), metadata=self.metadata
        )
        if dialect:
            return _json.loads(response.export_json)
        return [
            {
                "name": t.name,
                "description": t.description,
                "input_schema": _json.loads(t.input_schema_json),
                "output_schema": _json.loads(t.output_schema_json)
                if t.output_schema_json
                else None,
            }
            for t in response.tools
        ]

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the gRPC deadline, sent to the server
    ) -> ToolResult:
        """Call one tool; a failed call is returned, not raised."""
        request = _request(name, arguments, idempotency_key=idempotency_key)
        try:
            response = await self.stub.CallTool(request, metadata=self.metadata, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            return ToolResult(
                call_id="", name=name, ok=False, error=error_from_rpc(exc), attempts=0
            )
        return result_from_message(response)

    async def call_many(
        self, calls: Iterable[tuple[str, Mapping[str, Any] | str | None]]
    ) -> AsyncIterator[ToolResult]:
        """Stream calls over one ``CallTools`` stream; results arrive in completion order."""
        requests = [_request(name, args, call_id=f"c{i}") for i, (name, args) in enumerate(calls)]

        async def source() -> AsyncIterator[tools_pb2.CallToolRequest]:
            for request in requests:
                yield request

        stream = self.stub.CallTools(source(), metadata=self.metadata)
        async for response in stream:
            yield result_from_message(response)


def _request(
    name: str,
    arguments: Mapping[str, Any] | str | None,
    *,
    idempotency_key: str | None = None,
    call_id: str = "",
) -> tools_pb2.CallToolRequest:
    text = arguments if isinstance(arguments, str) else _json.dumps(dict(arguments or {}))
    return tools_pb2.CallToolRequest(
        name=name, arguments_json=text, idempotency_key=idempotency_key or "", call_id=call_id
    )


def result_from_message(msg: Any) -> ToolResult:
    error = None
    if not msg.ok:
        kind: ErrorKind = msg.error.kind if msg.error.kind in ERROR_KINDS else "remote_error"
        error = ToolError(
            kind=kind,
            message=msg.error.message,
            details=_json.loads(msg.error.details_json) if msg.error.details_json else {},
            retry_after=msg.error.retry_after if msg.error.HasField("retry_after") else None,
        )
    return ToolResult(
        call_id=msg.call_id,
        name=msg.name,
        ok=msg.ok,
        value=_json.loads(msg.value_json) if msg.ok and msg.value_json else None,
        error=error,
        attempts=msg.attempts,
        cached=msg.cached,
        elapsed_s=msg.elapsed_s,
    )


def error_from_rpc(exc: grpc.aio.AioRpcError) -> ToolError:
    """The server's ToolError from the trailing metadata, else one made from the status."""
    for key, value in exc.trailing_metadata() or ():
        if key == "toolwire-error":
            data = _json.loads(value)
            kind = data.get("kind")
            if kind in ERROR_KINDS:
                return ToolError(
                    kind=kind,
                    message=str(data.get("message", "")),
                    details=data.get("details") or {},
                    retry_after=data.get("retry_after"),
                )
    kind = _CODE_KIND.get(exc.code(), "remote_error")
    return ToolError(kind=kind, message=exc.details() or str(exc.code()))
