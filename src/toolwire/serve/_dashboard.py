"""The dashboard at ``/``: a server-rendered page with a little vanilla JS, shipped in the
package (no build step). Its data comes from ``/v1/tools`` and ``/v1/dashboard`` with the same
credentials as any client, so it is protected by the same auth."""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from toolwire._errors import ToolwireError
from toolwire.serve._rest import authenticate, error_response, json_response
from toolwire.serve._service import ToolService

_STATIC = resources.files("toolwire.serve") / "static"
_TYPES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


def _static(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def dashboard_routes(
    service: ToolService, *, title: str, grpc_port: int | None, mcp: bool
) -> list[Route]:
    page = Template(_static("index.html").decode())
    assets = {name: _static(name) for name in _TYPES}

    async def index(request: Request) -> Response:
        tools = service.tools()
        # Tool names are shown before login only when auth is off.
        items = (
            ""
            if service.auth.enabled
            else "".join(
                f'<li><button type="button" data-tool="{html.escape(t.name)}">'
                f"{html.escape(t.name)}</button></li>"
                for t in tools
            )
        )
        body = page.substitute(
            title=html.escape(title),
            auth="on" if service.auth.enabled else "off",
            tool_count=len(tools),
            tool_items=items,
            grpc=f":{grpc_port}" if grpc_port else "off",
            mcp="/mcp" if mcp else "off",
        )
        return HTMLResponse(body, headers=_NO_STORE)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return Response(status_code=404)
        return Response(assets[name], media_type=_TYPES[name], headers=_NO_STORE)

    async def data(request: Request) -> Response:
        try:
            authenticate(service, request)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        since = request.query_params.get("since", "0")
        snapshot = service.stats.snapshot(int(since) if since.isdigit() else 0)
        snapshot["breakers"] = _breakers(service)
        return json_response(snapshot)

    return [
        Route("/", index, methods=["GET"]),
        Route("/dashboard/{name:str}", asset, methods=["GET"]),
        Route("/v1/dashboard", data, methods=["GET"]),
    ]


_NO_STORE = {"Cache-Control": "no-store"}


def _breakers(service: ToolService) -> dict[str, Any]:
    """Breaker states by tool, when the runtime can tell (``breaker_states()``)."""
    runtime = getattr(service.box, "runtime", None)
    states = getattr(runtime, "breaker_states", None)
    if not callable(states):
        return {}
    try:
        return dict(states())
    except Exception:  # the dashboard must render even if the state backend is down
        return {}
