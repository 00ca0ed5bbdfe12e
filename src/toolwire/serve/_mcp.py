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

from collections.abc import Awaitable, Callable
from typing import Any

from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import MissingExtra, ToolwireError
from toolwire.serve._service import ToolService

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

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[map_tool(t) for t in service.tools()])

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
                from toolwire.serve._service import failed

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
        structured = result.ok and _has_output_schema(service, result.name)
        return map_result(result, structured=structured or not result.ok)

    return Server(
        name,
        version=version,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _has_output_schema(service: ToolService, name: str) -> bool:
    try:
        return bool(service.get(name).spec.output_schema)
    except ToolwireError:
        return False


def session_manager(
    server: Server[Any], *, loopback: bool, stateless: bool = False, json_response: bool = False
) -> StreamableHTTPSessionManager:
    """The streamable-HTTP session manager; run it (``async with m.run()``) in the app lifespan."""
    security = None
    if loopback:
        # Guard a loopback server against DNS rebinding from a browser page.
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
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
