"""The dashboard at ``/``: a server-rendered page with a little vanilla JS, shipped in the
package (no build step). Its data comes from ``/v1/tools`` and ``/v1/dashboard`` with the same
credentials as any client, so it is protected by the same auth."""

from __future__ import annotations

import html
from importlib import resources
from string import Template

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
            tool_count="?" if service.auth.enabled else len(tools),  # each caller sees its own
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
        # Every caller's calls and every tool's figures: the operational scope's.
        try:
            service.auth.authorize_ops(authenticate(service, request))
        except ToolwireError as exc:
            return error_response(exc.to_error())
        since = request.query_params.get("since", "0")
        snapshot = service.stats.snapshot(int(since) if since.isdigit() else 0)
        snapshot["breakers"] = await _breakers(service)
        return json_response(snapshot)

    return [
        Route("/", index, methods=["GET"]),
        Route("/dashboard/{name:str}", asset, methods=["GET"]),
        Route("/v1/dashboard", data, methods=["GET"]),
    ]


_NO_STORE = {"Cache-Control": "no-store"}


async def _breakers(service: ToolService) -> dict[str, str]:
    """Breaker state by tool name, for tools whose policy has a breaker (read from the
    runtime's state backend, so with Redis it is the state every process sees)."""
    runtime = service.box.runtime
    out: dict[str, str] = {}
    for tool in service.tools():
        try:
            breaker = runtime.policy_for(tool).breaker
            if breaker is not None:
                out[tool.name] = str(await runtime.breaker_state(breaker.key or tool.name))
        except Exception:  # the dashboard must render even if the state backend is down
            out[tool.name] = "unknown"
    return out
