"""The ASGI app: REST routes, ``/openapi.json``, the dashboard and MCP at ``/mcp``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from toolwire._errors import MissingExtra, ToolwireError
from toolwire.serve._dashboard import dashboard_routes
from toolwire.serve._openapi import build_openapi
from toolwire.serve._origin import LocalOnly, LocalOnlyMiddleware
from toolwire.serve._rest import authenticate, error_response, json_response, rest_routes
from toolwire.serve._service import ToolService
from toolwire.serve._tasks import tasks_running

try:
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - part of the serve extra
    raise MissingExtra("fastapi", "serve") from exc


_OPENAPI_CACHED = 64  # documents kept (distinct tool sets seen); rebuilt after a clear


class _Asgi:
    """Marks an ASGI callable for Starlette's ``Route`` (plain functions are taken as
    request handlers)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def create_app(
    service: ToolService,
    *,
    title: str = "toolwire",
    version: str = "0.1.0",
    mcp: bool = True,
    loopback: bool = True,
    port: int | None = None,
    grpc_port: int | None = None,
    mcp_stateless: bool = False,
    mcp_json_response: bool = False,
) -> FastAPI:
    """Build the app for ``service``. With ``mcp``, its lifespan runs the MCP session manager.
    With ``loopback`` (the server listens on a loopback address, on ``port`` when known),
    requests whose ``Host`` or ``Origin`` is not loopback are refused (see ``_origin``).

    Example::

        app = create_app(ToolService(box))
        uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    manager: Any = None
    local_only = LocalOnly(port=port) if loopback else None
    routes: list[Route] = [*rest_routes(service)]
    if mcp:
        from toolwire.serve._mcp import build_mcp_server, mcp_asgi, session_manager

        manager = session_manager(
            build_mcp_server(service, version=version),
            local_only=local_only,
            stateless=mcp_stateless,
            json_response=mcp_json_response,
        )
        routes.append(Route("/mcp", _Asgi(mcp_asgi(service, manager))))
    routes.extend(dashboard_routes(service, title=title, grpc_port=grpc_port, mcp=mcp))

    # One document per set of tools a caller may see (callers with the same scopes share it).
    cached: dict[tuple[str, ...], Any] = {}

    async def openapi(request: Request) -> Response:
        # Tool names and schemas are as private as /v1/tools when auth is on: each caller's
        # document describes only the tools it may call.
        try:
            caller = authenticate(service, request)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        tools = service.tools(caller)
        key = tuple(t.name for t in tools)
        doc = cached.get(key)
        if doc is None:
            try:
                exported = service.export("openapi", caller)
            except Exception:  # any exporter problem: fall back to the doc built here
                exported = None
            doc = build_openapi(tools, title=title, version=version, exported=exported)
            if len(cached) >= _OPENAPI_CACHED:
                cached.clear()
            cached[key] = doc
        return json_response(doc)

    routes.append(Route("/openapi.json", openapi, methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with tasks_running(service):
            if manager is None:
                yield
                return
            async with manager.run():
                yield

    # FastAPI's own schema would describe the generic routes only: the merged one is served.
    app = FastAPI(
        title=title,
        version=version,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.router.routes.extend(routes)
    if local_only is not None:
        app.add_middleware(LocalOnlyMiddleware, rule=local_only)
    app.state.service = service
    return app
