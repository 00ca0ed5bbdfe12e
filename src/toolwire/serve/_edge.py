"""What REST, gRPC and MCP share, with no framework: each edge maps these neutral views to its
own wire (as httpx converts its neutral ``Request`` inside each transport), so a rule lives
once and importing one transport never loads another's framework.

- **The tool view**: :func:`tool_view` describes a tool once (:class:`ToolView`); the
  :class:`Catalog` keeps the views of a toolbox and filters them by the caller's scopes, the
  one listing every edge shows. The REST body is :meth:`ToolView.to_dict`; gRPC's
  ``ToolInfo`` and MCP's ``Tool`` are mapped from the same view in their modules (each
  wire's own encoding of "absent", and MCP's protocol rules, stay there).
- **Credentials**: :func:`caller_of` reads the ``Authorization`` and ``X-API-Key`` credentials
  from a header mapping (Starlette's headers, an ASGI scope's via :func:`asgi_headers`, gRPC
  metadata once the gRPC edge has turned it into a mapping).
- **Errors on HTTP**: :func:`http_status` and :func:`http_headers` (REST and the ``/mcp``
  endpoint); the status table itself is ``toolwire._status``, shared with gRPC and OpenAPI.
- **Exports**: :func:`export_tools`, the caller's tools in a dialect, with an exporter's
  refusal as ``invalid_arguments``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from toolwire._context import Caller
from toolwire._errors import ToolError, ToolFailure
from toolwire._spec import TaskSupport, ToolSpec
from toolwire._status import RETRYABLE, status_of
from toolwire.serve._auth import ANONYMOUS, Authenticator
from toolwire.serve._openapi import KEY_REUSED

# The credential headers, lower case (as ASGI and HTTP/2 carry header names).
AUTHORIZATION = "authorization"
API_KEY = "x-api-key"
CREDENTIAL_HEADERS = (AUTHORIZATION, API_KEY)


# --- the tool view ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ToolView:
    """A tool as every listing describes it (compared by identity: the edges cache their
    mapped forms per view). ``description`` is ``""`` and ``title`` ``None`` when the tool
    has none; each wire encodes that absence its own way.

    Example::

        view = tool_view(box.get("get_weather"))
        view.to_dict()["annotations"]["read_only"]  # True
    """

    name: str
    title: str | None
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    read_only: bool
    idempotent: bool
    destructive: bool
    open_world: bool
    tags: tuple[str, ...]  # sorted
    task_support: TaskSupport  # "forbidden", "optional" or "required" (docs/tasks.md)
    spec: ToolSpec  # for wire rules that read the spec itself (MCP's output schema)

    def to_dict(self) -> dict[str, Any]:
        """The JSON description (the body of ``GET /v1/tools/{name}``, the ``ToolInfo``
        schema of the OpenAPI document)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "annotations": {
                "read_only": self.read_only,
                "idempotent": self.idempotent,
                "destructive": self.destructive,
                "open_world": self.open_world,
            },
            "tags": list(self.tags),
            "task_support": self.task_support,
        }


def tool_view(tool: Any) -> ToolView:
    """The neutral description of ``tool`` (anything with a ``spec``)."""
    spec: ToolSpec = tool.spec
    ann = spec.annotations
    return ToolView(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        read_only=ann.read_only,
        idempotent=ann.idempotent,
        destructive=ann.destructive,
        open_world=ann.open_world,
        tags=tuple(sorted(spec.tags)),
        task_support=spec.task_support,
        spec=spec,
    )


class Catalog:
    """The views of a toolbox's tools, rebuilt only when its tools change (tools may be added
    after the server starts), filtered by the caller's scopes.

    Example::

        catalog = Catalog(box, auth)
        [v.name for v in catalog.views(caller)]  # the tools this caller may call
    """

    def __init__(self, box: Iterable[Any], auth: Authenticator) -> None:
        self._box = box
        self._auth = auth
        self._key: tuple[int, ...] | None = None
        # The tools are kept with their views: alive, so that no new tool can take an old
        # one's id and be served the old description.
        self._tools: list[Any] = []
        self._views: list[ToolView] = []
        self._by_name: dict[str, ToolView] = {}

    def _current(self) -> list[ToolView]:
        tools = list(self._box)
        key = tuple(map(id, tools))
        if key != self._key:
            known = {id(t): v for t, v in zip(self._tools, self._views, strict=True)}
            self._views = [known.get(id(t)) or tool_view(t) for t in tools]
            self._by_name = {v.name: v for v in self._views}
            self._tools, self._key = tools, key
        return self._views

    def views(self, caller: Caller | None = None) -> list[ToolView]:
        """The tools ``caller`` may call (every tool for ``None``: the server's own view)."""
        views = self._current()
        if caller is None or not self._auth.enabled:
            return list(views)
        return [v for v in views if self._auth.allowed(caller, v.name)]

    def view(self, tool: Any) -> ToolView:
        """The view of ``tool`` (one of the toolbox's: looked up, not rebuilt)."""
        self._current()
        found = self._by_name.get(tool.spec.name)
        return found if found is not None and found.spec is tool.spec else tool_view(tool)

    def find(self, name: str) -> ToolView | None:
        """The view of the tool named ``name``, or ``None``: no scope check."""
        self._current()
        return self._by_name.get(name)


# --- credentials -----------------------------------------------------------------------


def caller_of(auth: Authenticator, headers: Mapping[str, str]) -> Caller:
    """The caller for the credentials in ``headers`` (a mapping whose ``get`` takes the lower
    case names: ``authorization``, ``x-api-key``); raises ``ToolFailure('unauthorized')``.
    Without auth configured every caller is ``anonymous`` and nothing is read.

    Example::

        caller = caller_of(auth, {"x-api-key": key})
    """
    if not auth.enabled:
        return ANONYMOUS
    return auth.authenticate(authorization=headers.get(AUTHORIZATION), api_key=headers.get(API_KEY))


def asgi_headers(
    scope: Mapping[str, Any], names: Iterable[str] = CREDENTIAL_HEADERS
) -> dict[str, str]:
    """The first value of each header in ``names`` from an ASGI ``scope`` (names arrive lower
    case; values are latin-1), as Starlette's ``Headers.get`` reads them."""
    wanted = {n.encode("latin-1") for n in names}
    out: dict[str, str] = {}
    for key, value in scope.get("headers") or ():
        if key in wanted:
            out.setdefault(key.decode("latin-1"), value.decode("latin-1"))
    return out


# --- errors on HTTP --------------------------------------------------------------------


def http_status(error: ToolError) -> int:
    """The HTTP status of a failed call: the kind's (``_status``), except 409 for an
    idempotency key reused with other arguments."""
    if error.details.get("reason") == KEY_REUSED:
        return 409
    return status_of(error.kind).http


def http_headers(error: ToolError) -> dict[str, str]:
    """The headers that go with a failed call's answer: ``Retry-After`` (whole seconds, at
    least 1) for the retryable kinds or when the runtime knows when to come back, and the
    ``Bearer`` challenge for ``unauthorized``."""
    headers: dict[str, str] = {}
    if error.kind in RETRYABLE or error.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after or 1.0)))
    if error.kind == "unauthorized":
        headers["WWW-Authenticate"] = 'Bearer realm="toolwire"'
    return headers


# --- exports ---------------------------------------------------------------------------

# What an exporter raises for a dialect it does not know or a tool it cannot express.
EXPORT_ERRORS = (ValueError, KeyError, LookupError, NotImplementedError)


def export_tools(service: Any, dialect: str, caller: Caller | None) -> Any:
    """``caller``'s tools exported to ``dialect``; raises ``ToolFailure('invalid_arguments')``
    when the exporter refuses."""
    try:
        return service.export(dialect, caller)
    except EXPORT_ERRORS as exc:
        raise ToolFailure("invalid_arguments", f"Cannot export to {dialect!r}: {exc}") from None
