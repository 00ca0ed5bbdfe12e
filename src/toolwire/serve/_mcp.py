"""MCP over streamable HTTP (mounted at ``/mcp``) and stdio, with the official SDK.

The SDK's low-level ``Server`` is used (not ``MCPServer``) because our tools already carry
their own JSON schemas and validation: ``tools/list`` maps each ``ToolSpec`` to an MCP tool
with annotations and output schema, and ``tools/call`` goes through :class:`ToolService` like
every other transport. An output schema that is not an object schema (a tool returning an int,
a string, a list, ``X | None``, a pack's row list) is wrapped as ``{"result": ...}`` in
``outputSchema`` and ``structuredContent`` alike, on every protocol revision: the rule of
``tools export --dialect mcp`` (``dialects._export_mcp``), since clients up to 2025-11-25 reject
the whole ``tools/list`` otherwise. Failed calls come back as ``is_error`` results whose text
is ``{"error": {"kind", "message", ...}}`` as JSON, so a model (or a client) sees the same error
kinds as REST and gRPC; they carry no structured content, which clients (the TypeScript SDK)
check against the tool's output schema even on errors.

Streamable-HTTP sessions belong to the credential that opened them: the authenticated caller is
handed to the SDK as the request's user, whose session manager then answers another caller's
request for that session (``DELETE`` included) with 404, as for a session that does not exist.

Progress reported by a tool (``Context.report_progress``) is forwarded as MCP progress
notifications when the request carries a ``progressToken``; an MCP cancellation cancels the
call in the runtime. Tasks (2025-11-25 and the 2026-07-28 extension): ``_tasks_mcp``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import MissingExtra, ToolError, ToolwireError
from toolwire.dialects._export_mcp import output_schema_for, structured_content
from toolwire.observe._tracing import tracing_active
from toolwire.serve._edge import ToolView, asgi_headers, caller_of, http_headers, http_status
from toolwire.serve._origin import LocalOnly
from toolwire.serve._progress import ProgressRelay, relay_until
from toolwire.serve._service import ToolService, failed
from toolwire.serve._tasks import TaskFront, supports_tasks
from toolwire.serve._tasks_mcp import install_tasks

try:
    import mcp_types as types
    from mcp.server import Server, ServerRequestContext
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
except ImportError as exc:  # pragma: no cover - part of the mcp extra
    raise MissingExtra("mcp", "mcp") from exc

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
# Whoever launched the stdio server owns its pipes: it is the local user.
STDIO_CALLER = Caller(id="stdio", scopes=frozenset({"*"}))


def map_tool(view: ToolView) -> types.Tool:
    """The MCP tool for ``view``. MCP's own rules: an absent description is left out, the
    output schema is wrapped when not an object (``output_schema_for``), and a read-only tool
    is hinted idempotent (the spec reads ``idempotentHint`` only when not read-only; the
    ``mcp`` dialect export says the same)."""
    return types.Tool(
        name=view.name,
        title=view.title,
        description=view.description or None,
        input_schema=dict(view.input_schema),
        output_schema=output_schema_for(view.spec),
        annotations=types.ToolAnnotations(
            title=view.title,
            read_only_hint=view.read_only,
            destructive_hint=view.destructive,
            idempotent_hint=view.idempotent or view.read_only,
            open_world_hint=view.open_world,
        ),
        execution=None
        if view.task_support == "forbidden"
        else types.ToolExecution(task_support=view.task_support),
    )


def map_result(result: ToolResult, spec: Any = None) -> types.CallToolResult:
    """The MCP answer for ``result``; ``spec`` (the tool's) decides the structured content."""
    text = types.TextContent(type="text", text=result.as_text())
    if not result.ok:
        return types.CallToolResult(content=[text], is_error=True)
    if spec is None or spec.output_schema is None:
        return types.CallToolResult(content=[text])
    return types.CallToolResult(
        content=[text], structured_content=structured_content(spec, _plain(result.value))
    )


def _plain(value: Any) -> Any:
    """``value`` as JSON-shaped data (a Pydantic model or dataclass a tool returned, as the
    object its text content shows)."""
    if value is None or isinstance(value, (dict, list, str, int, float, bool)):
        return value
    return _json.loads(_json.dumps(value))


def build_mcp_server(
    service: ToolService, *, name: str = "toolwire", version: str = ""
) -> Server[Any]:
    """A low-level MCP server exposing ``service``'s tools."""
    catalog = service.catalog
    # Each view's MCP tool, built once (views are rebuilt only when the toolbox's tools
    # change): ``tools/list`` then costs no pydantic model construction per request.
    mapped: dict[ToolView, types.Tool] = {}

    def mcp_tool(view: ToolView) -> types.Tool:
        tool = mapped.get(view)
        if tool is None:
            if len(mapped) > 4 * len(catalog.views()):
                mapped.clear()  # views of tools the toolbox no longer has
            tool = mapped[view] = map_tool(view)
        return tool

    def input_schema(tool_name: str) -> Mapping[str, Any] | None:
        # Without this lookup the SDK answers every ``tools/call`` by running a whole
        # ``tools/list`` first (to check ``Mcp-Param-*`` headers): a fifth of the server's time.
        view = catalog.find(tool_name)
        if view is not None:
            return view.input_schema
        try:
            schema: Mapping[str, Any] = service.get(tool_name).spec.input_schema
        except ToolwireError:
            return None
        return schema

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        # Only the tools this caller may call (/mcp has authenticated it already); over
        # stdio (no request) the local user sees them all.
        caller = caller_of(service.auth, ctx.request.headers) if ctx.request is not None else None
        return types.ListToolsResult(tools=[mcp_tool(v) for v in catalog.views(caller)])

    def caller_for(ctx: ServerRequestContext[Any]) -> Caller:
        # over stdio (no request) the caller is whoever launched the server
        request = ctx.request
        return STDIO_CALLER if request is None else caller_of(service.auth, request.headers)

    def render(result: ToolResult, tool_name: str) -> dict[str, Any]:
        view = catalog.find(tool_name)
        spec = view.spec if view is not None and result.ok else None
        answer: dict[str, Any] = map_result(result, spec).model_dump(
            by_alias=True, mode="json", exclude_none=True
        )
        return answer

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            caller = caller_for(ctx)
        except ToolwireError as exc:
            return map_result(failed(params.name, exc.to_error()))
        meta = (ctx.params or {}).get("_meta")
        if isinstance(meta, Mapping) and meta.get("progressToken") is not None:
            result = await _with_progress(ctx, service, params, caller)
        else:
            result = await service.call(
                params.name, params.arguments or {}, caller=caller, transport="mcp"
            )
        if not result.ok:
            return map_result(result)
        view = catalog.find(result.name)
        return map_result(result, view.spec if view is not None else None)

    server: Server[Any] = Server(
        name,
        version=version,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.middleware = [_only_when_tracing(m) for m in server.middleware]
    if supports_tasks(service):
        install_tasks(server, TaskFront(service), caller_for, render)
    return server


async def _with_progress(
    ctx: ServerRequestContext[Any], service: ToolService, params: Any, caller: Caller
) -> ToolResult:
    """The call, with each progress report sent as ``notifications/progress`` in order (the
    relay takes reports from async tools and from sync tools' threads alike)."""
    relay = ProgressRelay()
    call = asyncio.ensure_future(
        service.call(
            params.name, params.arguments or {}, caller=caller, transport="mcp", progress=relay
        )
    )
    try:
        while (reports := await relay_until(call, relay)) is not None:
            for report in reports:
                await ctx.session.report_progress(report.done, report.total, report.message)
        for report in relay.pending():
            await ctx.session.report_progress(report.done, report.total, report.message)
        return call.result()
    finally:
        if not call.done():  # the client cancelled: so is the call
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)


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

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if service.auth.enabled and scope["type"] == "http":
            try:
                caller = caller_of(service.auth, asgi_headers(scope))
            except ToolwireError as exc:
                await _refuse(exc.to_error(), send)
                return
            scope = {**scope, "user": session_owner(caller)}
        await manager.asgi_app(scope, receive, send)

    return app


async def _refuse(error: ToolError, send: Any) -> None:
    """Answer an HTTP request with ``error``, as the REST routes would (status, headers and
    the ``{"error": ...}`` body)."""
    body = _json.dumps_bytes({"error": error.to_dict()})
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        *((k.lower().encode(), v.encode()) for k, v in http_headers(error).items()),
    ]
    await send({"type": "http.response.start", "status": http_status(error), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def session_owner(caller: Caller) -> AuthenticatedUser:
    """The SDK's user for ``caller``: its session manager binds each session to the principal
    of the user that opened it. Caller ids name their kind (``key:<id>``, ``jwt:<iss>:<sub>``),
    so a token whose subject equals a key's id is someone else."""
    token = AccessToken(
        token="",  # never kept: the SDK compares principals, not credentials
        client_id=caller.id,
        scopes=sorted(caller.scopes),
    )
    return AuthenticatedUser(token)


async def run_stdio(service: ToolService, *, version: str = "") -> None:
    """Serve MCP on this process's stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    server = build_mcp_server(service, version=version)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
