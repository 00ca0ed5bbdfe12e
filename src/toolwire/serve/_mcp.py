"""MCP over streamable HTTP (mounted at ``/mcp``) and stdio, with the official SDK.

The SDK's low-level ``Server`` is used (not ``MCPServer``) because our tools already carry
their own JSON schemas and validation: ``tools/list`` maps each ``ToolSpec`` to an MCP tool
with annotations and output schema, and ``tools/call`` goes through :class:`ToolService` like
every other transport. Failed calls come back as ``is_error`` results whose structured content
is ``{"error": {"kind", "message", ...}}``, so a model (or a client) sees the same error kinds
as REST and gRPC. Progress reported by a tool (``Context.report_progress``) is forwarded as MCP
progress notifications; an MCP cancellation cancels the call in the runtime.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import MissingExtra, ToolwireError
from toolwire.observe._tracing import tracing_active
from toolwire.serve._origin import LocalOnly
from toolwire.serve._service import ToolService, failed

try:
    import mcp_types as types
    from mcp.server import Server, ServerRequestContext
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
except ImportError as exc:  # pragma: no cover - part of the mcp extra
    raise MissingExtra("mcp", "mcp") from exc

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
# Whoever launched the stdio server owns its pipes: it is the local user.
STDIO_CALLER = Caller(id="stdio", scopes=frozenset({"*"}))


def map_tool(tool: Any) -> types.Tool:
    spec = tool.spec
    ann = spec.annotations
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description or None,
        input_schema=dict(spec.input_schema),
        output_schema=dict(spec.output_schema) if spec.output_schema else None,
        annotations=types.ToolAnnotations(
            title=spec.title,
            read_only_hint=ann.read_only,
            destructive_hint=ann.destructive,
            idempotent_hint=ann.idempotent or ann.read_only,
            open_world_hint=ann.open_world,
        ),
    )


def map_result(result: ToolResult, *, structured: bool) -> types.CallToolResult:
    text = types.TextContent(type="text", text=result.as_text())
    if not result.ok:
        assert result.error is not None
        return types.CallToolResult(
            content=[text], structured_content={"error": result.error.to_dict()}, is_error=True
        )
    if structured:
        return types.CallToolResult(content=[text], structured_content=result.value)
    return types.CallToolResult(content=[text])


def build_mcp_server(
    service: ToolService, *, name: str = "toolwire", version: str = ""
) -> Server[Any]:
    """A low-level MCP server exposing ``service``'s tools."""
    # The mapped listing is rebuilt only when the toolbox's tools change (tools may be added
    # after start): ``tools/list`` then costs no pydantic model construction per request.
    listing: dict[str, Any] = {"key": None, "tools": [], "by_name": {}}

    def mapped() -> dict[str, Any]:
        tools = service.tools()
        key = tuple(map(id, tools))
        if listing["key"] != key:
            listing["tools"] = [map_tool(t) for t in tools]
            listing["by_name"] = {t.name: t for t in tools}
            listing["key"] = key
        return listing

    def input_schema(tool_name: str) -> Mapping[str, Any] | None:
        # Without this lookup the SDK answers every ``tools/call`` by running a whole
        # ``tools/list`` first (to check ``Mcp-Param-*`` headers): a fifth of the server's time.
        tool = mapped()["by_name"].get(tool_name)
        if tool is None:
            try:
                tool = service.get(tool_name)
            except ToolwireError:
                return None
        schema: Mapping[str, Any] = tool.spec.input_schema
        return schema

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tools = list(mapped()["tools"])
        if service.auth.enabled and ctx.request is not None:
            # Only the tools this caller may call (/mcp has authenticated it already).
            caller = service.auth.from_headers(ctx.request.headers)
            tools = [t for t in tools if service.auth.allowed(caller, t.name)]
        return types.ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        request = ctx.request
        if request is None:
            caller = STDIO_CALLER
        else:
            try:
                headers = request.headers
                caller = service.auth.authenticate(
                    authorization=headers.get("authorization"), api_key=headers.get("x-api-key")
                )
            except ToolwireError as exc:
                return map_result(failed(params.name, exc.to_error()), structured=True)

        async def progress(done: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(done, total, message)

        result = await service.call(
            params.name,
            params.arguments or {},
            caller=caller,
            transport="mcp",
            progress=progress,
        )
        if not result.ok:
            return map_result(result, structured=True)
        tool = mapped()["by_name"].get(result.name)
        structured = bool(tool.spec.output_schema) if tool is not None else False
        return map_result(result, structured=structured)

    server: Server[Any] = Server(
        name,
        version=version,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.middleware = [_only_when_tracing(m) for m in server.middleware]
    return server


class _WhenTracing:
    """Runs the SDK's OpenTelemetry middleware only while a tracer provider is installed.

    With none, its no-op span still cost ~14% of an MCP call's server time (context managers
    and attribute dicts per message); the runtime opens its own tool spans when tracing is on.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if tracing_active():
            return await self.inner(ctx, call_next)
        return await call_next(ctx)


def _only_when_tracing(middleware: Any) -> Any:
    if type(middleware).__name__ == "OpenTelemetryMiddleware":
        return _WhenTracing(middleware)
    return middleware


def session_manager(
    server: Server[Any],
    *,
    local_only: LocalOnly | None,
    stateless: bool = False,
    json_response: bool = False,
) -> StreamableHTTPSessionManager:
    """The streamable-HTTP session manager; run it (``async with m.run()``) in the app lifespan.
    ``local_only`` (a loopback server): the SDK's own DNS-rebinding guard applies the same
    ``Host``/``Origin`` rule as the REST routes."""
    security = None
    if local_only is not None:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=local_only.allowed_hosts,
            allowed_origins=local_only.allowed_origins,
        )
    return StreamableHTTPSessionManager(
        app=server,
        json_response=json_response,
        stateless=stateless,
        security_settings=security,
    )


def mcp_asgi(service: ToolService, manager: StreamableHTTPSessionManager) -> ASGIApp:
    """The ``/mcp`` endpoint: refuses unauthenticated requests with 401 before the SDK runs."""
    from starlette.requests import Request

    from toolwire.serve._rest import error_response

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if service.auth.enabled and scope["type"] == "http":
            request = Request(scope)
            try:
                service.auth.authenticate(
                    authorization=request.headers.get("authorization"),
                    api_key=request.headers.get("x-api-key"),
                )
            except ToolwireError as exc:
                await error_response(exc.to_error())(scope, receive, send)
                return
        await manager.asgi_app(scope, receive, send)

    return app


async def run_stdio(service: ToolService, *, version: str = "") -> None:
    """Serve MCP on this process's stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    server = build_mcp_server(service, version=version)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
