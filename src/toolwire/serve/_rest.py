"""REST routes. Hot paths are plain Starlette endpoints on raw bytes (no per-request model
parsing) so that the runtime, not the framework, sets the cost of a call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import ToolError, ToolFailure, ToolwireError
from toolwire.serve._edge import caller_of, export_tools, http_headers, http_status
from toolwire.serve._limits import too_large
from toolwire.serve._openapi import DIALECTS, IDEMPOTENCY_KEY_MAX
from toolwire.serve._service import BatchItem, ToolService, failed

JSON = "application/json"


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(_json.dumps_bytes(data), status_code=status, media_type=JSON, headers=headers)


def error_response(error: ToolError, *, body: Any = None) -> Response:
    body = body if body is not None else {"error": error.to_dict()}
    return json_response(body, http_status(error), http_headers(error))


def result_response(result: ToolResult) -> Response:
    if result.ok:
        return json_response(result.to_dict())
    assert result.error is not None
    return error_response(result.error, body=result.to_dict())


def authenticate(service: ToolService, request: Request) -> Caller:
    return caller_of(service.auth, request.headers)


def require_json(request: Request) -> Response | None:
    """A 415 answer unless the body is declared JSON. Browsers send ``text/plain`` and form
    bodies cross-site without a CORS preflight; a JSON content type needs one, which this
    server never grants, so a web page cannot make the user's browser call a tool."""
    declared = request.headers.get("content-type", "")
    if declared.partition(";")[0].strip().lower() == JSON:
        return None
    error = ToolError(
        kind="invalid_arguments",
        message=f"Send the body as JSON with 'Content-Type: {JSON}' (got {declared!r}).",
        details={"content_type": declared, "expected": JSON},
    )
    return json_response({"error": error.to_dict()}, 415)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large("request body", int(declared), limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large("request body", len(body), limit)
    return bytes(body)


def rest_routes(service: ToolService) -> list[Route]:
    # Imported here: the task routes build on this module's helpers.
    from toolwire.serve._tasks_rest import stream_call, task_routes, wants_events

    limits = service.limits

    async def call_tool(request: Request) -> Response:
        if (refused := require_json(request)) is not None:
            return refused
        try:
            caller = authenticate(service, request)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        name = request.path_params["name"]
        try:
            key = idempotency_key(request.headers.get("idempotency-key"), "Idempotency-Key")
            body = object_body(await read_body(request, limits.max_body_bytes))
        except ToolwireError as exc:  # answered like any failed call, as the document says
            return result_response(failed(name, exc.to_error()))
        if wants_events(request):  # progress reports as they come, then the result
            return stream_call(service, name, body, caller, key)
        result = await service.call(
            name,
            body,
            caller=caller,
            transport="rest",
            idempotency_key=key,
        )
        return result_response(result)

    async def call_batch(request: Request) -> Response:
        if (refused := require_json(request)) is not None:
            return refused
        try:
            caller = authenticate(service, request)
            body = await read_body(request, limits.max_body_bytes)
            items = _batch_items(body, limits.max_batch)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        results = await service.run_batch(items, caller=caller, transport="rest")
        return json_response({"results": [r.to_dict() for r in results]})

    async def list_tools(request: Request) -> Response:
        try:
            caller = authenticate(service, request)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        dialect = request.query_params.get("dialect")
        if dialect is not None:  # present but empty is not a dialect either
            if dialect not in DIALECTS:
                return _bad_dialect(dialect)
            try:
                exported = export_tools(service, dialect, caller)
            except ToolwireError as exc:
                return error_response(exc.to_error())
            return json_response({"dialect": dialect, "tools": exported})
        return json_response({"tools": [v.to_dict() for v in service.catalog.views(caller)]})

    async def get_tool(request: Request) -> Response:
        try:
            caller = authenticate(service, request)
            tool = service.get(request.path_params["name"], caller)
        except ToolwireError as exc:
            return error_response(exc.to_error())
        return json_response(service.catalog.view(tool).to_dict())

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if service.draining:  # shutting down: send no new calls here
            return json_response({"status": "draining", "checks": {}}, 503)
        checks = await service.readiness()
        ready = all(v == "ok" for v in checks.values())
        return json_response(
            {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
        )

    async def metrics(request: Request) -> Response:
        # Series name every tool: with auth on, only for callers with the ops scope.
        try:
            service.auth.authorize_ops(authenticate(service, request))
        except ToolwireError as exc:
            return error_response(exc.to_error())
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/v1/tools/{name:str}/call", call_tool, methods=["POST"]),
        Route("/v1/calls", call_batch, methods=["POST"]),
        Route("/v1/tools", list_tools, methods=["GET"]),
        Route("/v1/tools/{name:str}", get_tool, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *task_routes(service),
    ]


def object_body(body: bytes) -> bytes:
    """``body`` unless it is JSON other than an object: the route's document says the body is
    the arguments object (``null``, which the toolbox reads as "no arguments" from a model, is
    not one). An empty body still means no arguments."""
    start = body.lstrip()[:1]
    if start in (b"", b"{"):
        return body
    raise ToolFailure(
        "invalid_arguments",
        "Send the arguments as a JSON object ({} for none).",
        details={"expected": "a JSON object"},
    )


def idempotency_key(value: Any, where: str) -> str | None:
    """``value`` as an idempotency key, or ``None`` when absent; raises ``invalid_arguments``
    for anything the OpenAPI document does not allow (an empty key would be one key shared by
    every call of the caller; a key is a string of 1 to ``IDEMPOTENCY_KEY_MAX`` characters)."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value) <= IDEMPOTENCY_KEY_MAX:
        return value
    got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    raise ToolFailure(
        "invalid_arguments",
        f"{where} must be a string of 1 to {IDEMPOTENCY_KEY_MAX} characters (got {got}); "
        "send a new unique key (a UUID) for each new call, or none.",
        details={"field": where, "limit": IDEMPOTENCY_KEY_MAX},
    )


def _bad_dialect(dialect: str) -> Response:
    message = f"Unknown dialect {dialect!r}; use one of: {', '.join(DIALECTS)}."
    return error_response(ToolError(kind="invalid_arguments", message=message))


def _batch_items(body: bytes, max_batch: int) -> list[BatchItem]:
    try:
        data = _json.loads(body) if body else None
    except ValueError as exc:
        raise ToolFailure("invalid_arguments", f"The body is not valid JSON: {exc}") from None
    calls = data.get("calls") if isinstance(data, Mapping) else None  # the document's one form
    if not isinstance(calls, list):
        raise ToolFailure(
            "invalid_arguments",
            'Send {"calls": [{"name": ..., "arguments": {...}}, ...]}.',
        )
    if len(calls) > max_batch:
        raise ToolFailure(
            "too_large",
            f"The batch has {len(calls)} calls; the limit is {max_batch}. Split it.",
            details={"size": len(calls), "limit": max_batch},
        )
    items: list[BatchItem] = []
    for i, call in enumerate(calls):
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            raise ToolFailure(
                "invalid_arguments",
                f"calls[{i}] must be an object with a string 'name'.",
                details={"index": i},
            )
        arguments = call.get("arguments")
        if isinstance(arguments, str):
            pass  # JSON text, as models produce it: checked and parsed by the service
        elif arguments is not None and not isinstance(arguments, Mapping):
            raise ToolFailure(
                "invalid_arguments",
                f"calls[{i}].arguments must be an object or JSON text.",
                details={"index": i},
            )
        call_id = call.get("id")
        if call_id is not None and not isinstance(call_id, str):
            raise ToolFailure(
                "invalid_arguments", f"calls[{i}].id must be a string.", details={"index": i}
            )
        items.append(
            BatchItem(
                name=call["name"],
                arguments=arguments,
                call_id=call_id,
                idempotency_key=idempotency_key(
                    call.get("idempotency_key"), f"calls[{i}].idempotency_key"
                ),
            )
        )
    return items
