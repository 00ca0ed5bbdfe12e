"""OpenAPI 3.0 / 3.1 operations as tools: one tool per operation, called over pooled HTTP.

Path, query, header and cookie parameters and the JSON (or form) body are merged into one
input schema; ``$ref`` is resolved (external files and URLs too, cycles kept as ``$defs``);
the 2xx JSON response gives the output schema. GET/HEAD/PUT/DELETE are idempotent by HTTP
semantics; POST/PATCH are not unless the operation says ``x-idempotent: true``.

Example::

    tools = await toolwire.remote.openapi.load(
        "http://127.0.0.1:8000/openapi.json", allow_hosts=["127.0.0.1"]
    )
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode, urljoin

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire._json import dumps_bytes
from toolwire._tools import Tool
from toolwire.remote import _http
from toolwire.remote._discovery import CONVERSION_ERRORS, Discovery, tools_only
from toolwire.remote._http import DEFAULT_TIMEOUT, client_for, failure_for
from toolwire.remote._refs import Refs, file_uri, parse_document, read_document
from toolwire.remote._ssrf import Guard, Resolver, system_resolver
from toolwire.runtime._policy import Policy

__all__ = ["ApiKey", "Basic", "Bearer", "auth_from_config", "discover", "load"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IDEMPOTENT = frozenset({"get", "head", "put", "delete", "options", "trace"})
_READ_ONLY = frozenset({"get", "head", "options"})
_SKIPPED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_NAME = re.compile(r"[^a-zA-Z0-9_.-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bearer:
    """``Authorization: Bearer <token>`` on every call."""

    token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """An API key sent as a header, a query parameter or a cookie."""

    name: str
    value: str = field(repr=False)
    location: Literal["header", "query", "cookie"] = "header"


@dataclass(frozen=True, slots=True, kw_only=True)
class Basic:
    """HTTP basic authentication."""

    username: str
    password: str = field(repr=False)


Auth = Bearer | ApiKey | Basic


def auth_from_config(config: Mapping[str, Any] | Auth | None) -> Auth | None:
    """``{"type": "bearer", "token": ...}``, ``{"type": "api_key", "name", "value", "in"}``
    or ``{"type": "basic", "username", "password"}`` (as written in ``toolwire.toml``)."""
    if config is None or isinstance(config, Bearer | ApiKey | Basic):
        return config
    kind = str(config.get("type", "")).lower().replace("-", "_")
    if kind == "bearer":
        return Bearer(token=str(config["token"]))
    if kind in ("api_key", "apikey"):
        where = config.get("in", config.get("location", "header"))
        return ApiKey(name=str(config["name"]), value=str(config["value"]), location=where)
    if kind == "basic":
        return Basic(username=str(config["username"]), password=str(config["password"]))
    raise ValueError(f"unknown auth type {config.get('type')!r}: use bearer, api_key or basic")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Param:
    prop: str  # property name in the tool's input schema
    name: str  # name on the wire
    location: Literal["path", "query", "header", "cookie", "body", "body_field"]
    style: str = "form"  # query serialization (OpenAPI "style" / "explode")
    explode: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class _Operation:
    method: str
    path: str
    base_url: str
    params: tuple[_Param, ...]
    body_type: Literal["json", "form"] | None
    guard: Guard
    auth: Auth | None
    forward: bool
    timeout_s: float


def _sanitize(name: str) -> str:
    return re.sub("_+", "_", _NAME.sub("_", name)).strip("_")[:64] or "operation"


def _matches(patterns: Sequence[str], names: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def _server_url(doc: Mapping[str, Any], spec_uri: str) -> str | None:
    # OpenAPI: without "servers" the server is "/", relative to where the document came from
    servers = doc.get("servers") or [{"url": "/"}]
    if not isinstance(servers[0], Mapping):
        return None
    url = str(servers[0].get("url", "/"))
    for var, info in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + var + "}", str(info.get("default", "")))
    if url.startswith("/") and not spec_uri.startswith(("http://", "https://")):
        return None
    if spec_uri.startswith(("http://", "https://")):
        url = urljoin(spec_uri, url)
    return url or None


async def discover(
    spec: Mapping[str, Any] | str,
    *,
    base_url: str | None = None,
    allow_hosts: Sequence[str] = (),
    auth: Auth | Mapping[str, Any] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    forward_caller_credentials: bool = False,
    prefix: str = "",
    timeout_s: float = DEFAULT_TIMEOUT,
    policy: Policy | None = None,
    resolver: Resolver = system_resolver,
    ref_base: str | None = None,
) -> Discovery:
    """Like :func:`load`, also returning the operations that were skipped and why."""
    guard = Guard(allow_hosts=tuple(allow_hosts), resolver=resolver)

    async def fetch(uri: str) -> Any:
        response = await client_for(guard).request("GET", uri, timeout_s=timeout_s)
        failure = failure_for(response, f"Fetching {uri}")
        if failure is not None:
            raise failure
        return parse_document(response.body, uri)

    if isinstance(spec, str):
        if spec.startswith(("http://", "https://")):
            spec_uri, document = spec, await fetch(spec)
        else:
            spec_uri = file_uri(spec)
            document = await asyncio.to_thread(read_document, spec, spec)
    else:
        spec_uri, document = ref_base or "", spec
    if not isinstance(document, Mapping) or "paths" not in document:
        raise ValueError("not an OpenAPI document: it has no 'paths'")
    chosen_auth = auth_from_config(_fill_api_key(auth, document))
    refs = Refs(document, base_uri=spec_uri, loader=fetch)
    await refs.prefetch()
    server = base_url or _server_url(document, spec_uri)
    if not server:
        raise ValueError("the OpenAPI document names no server: pass base_url=")
    found = Discovery(tools=[])
    where = f"OpenAPI document {spec_uri or '(given as a dict)'}"
    used: set[str] = set()
    for path, item in (document.get("paths") or {}).items():
        item, item_uri = refs.deref(item)
        if not isinstance(item, Mapping):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            name = prefix + _sanitize(op.get("operationId") or f"{method}_{path}")
            keys = [name, str(op.get("operationId", "")), f"{method.upper()} {path}"]
            keys += [str(t) for t in op.get("tags", [])]
            if (include is not None and not _matches(include, keys)) or _matches(exclude, keys):
                continue
            base, n = name, 1
            while name in used:
                n += 1
                name = f"{base}_{n}"
            try:
                made = _build_tool(
                    refs, item, item_uri, op, name, method, path, server, guard,
                    chosen_auth, forward_caller_credentials, timeout_s, policy,
                )  # fmt: skip
            except CONVERSION_ERRORS as exc:  # _Unsupported and ToolDefinitionError among them
                found.skip(where, name, f"{method.upper()} {path}: {exc}")
                continue
            used.add(name)
            found.tools.append(made)
    return found


load = tools_only(
    discover,
    """One tool per operation of an OpenAPI document (a dict, a file path or a URL).

    ``include``/``exclude`` hold glob patterns matched against the tool name, the
    ``operationId``, ``"METHOD /path"`` and the operation's tags. ``base_url`` overrides the
    document's ``servers``. ``auth`` is a :class:`Bearer`, :class:`ApiKey`, :class:`Basic` or
    their config dict; ``forward_caller_credentials`` sends the calling user's own token
    (``Caller.credentials``) as a bearer token instead. Every call (and fetching the document
    itself) goes through the SSRF guard; ``allow_hosts`` opens private hosts. ``ref_base``
    is the URI relative ``$ref`` documents of a dict spec are found from. An operation that
    cannot become a tool (a body type it cannot send, a schema that does not compile) is
    skipped with a warning (see :func:`discover`).
    """,
)


def _fill_api_key(
    auth: Auth | Mapping[str, Any] | None, document: Mapping[str, Any]
) -> Auth | Mapping[str, Any] | None:
    """``{type = "api_key", value = ...}`` without a name: take it from the document's
    ``securitySchemes`` (the first ``apiKey`` scheme says the name and where it goes)."""
    if not isinstance(auth, Mapping) or "name" in auth:
        return auth
    if str(auth.get("type", "")).lower().replace("-", "_") not in ("api_key", "apikey"):
        return auth
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for scheme in schemes.values():
        if isinstance(scheme, Mapping) and scheme.get("type") == "apiKey" and "name" in scheme:
            return {**auth, "name": scheme["name"], "in": scheme.get("in", "header")}
    raise ValueError("an api_key auth needs a 'name' (the document declares no apiKey scheme)")


class _Unsupported(ValueError):
    pass


def _build_tool(
    refs: Refs,
    item: Mapping[str, Any],
    item_uri: str,
    op: Mapping[str, Any],
    name: str,
    method: str,
    path: str,
    server: str,
    guard: Guard,
    auth: Auth | None,
    forward: bool,
    timeout_s: float,
    policy: Policy | None,
) -> Tool:
    properties: dict[str, Any] = {}
    required: list[str] = []
    params: list[_Param] = []
    merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    session = refs.session()  # one $defs for the whole input schema
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        param, uri = refs.deref(raw, item_uri)
        if isinstance(param, Mapping) and "name" in param and "in" in param:
            merged[(str(param["in"]), str(param["name"]))] = (param, uri)
    for (location, wire), (param, uri) in merged.items():
        if location == "header" and wire.lower() in _SKIPPED_HEADERS:
            continue
        if location not in ("path", "query", "header", "cookie"):
            continue
        prop = wire if wire not in properties else f"{location}_{wire}"
        schema = session.inline(param.get("schema", {}), uri) if "schema" in param else {}
        if param.get("description") and "description" not in schema:
            schema["description"] = str(param["description"])
        properties[prop] = schema
        if param.get("required") or location == "path":
            required.append(prop)
        style = str(param.get("style", "form"))
        params.append(
            _Param(
                prop=prop,
                name=wire,
                location=location,  # type: ignore[arg-type]
                style=style,
                explode=bool(param.get("explode", style == "form")),
            )
        )
    body_type: Literal["json", "form"] | None = None
    if "requestBody" in op:
        body, body_uri = refs.deref(op["requestBody"], item_uri)
        content = body.get("content", {}) if isinstance(body, Mapping) else {}
        media = next((m for m in content if m == "application/json" or m.endswith("+json")), None)
        if media is not None:
            body_type = "json"
        elif "application/x-www-form-urlencoded" in content:
            media, body_type = "application/x-www-form-urlencoded", "form"
        elif content:
            raise _Unsupported(f"request bodies of type {', '.join(content)} are not supported")
        if media is not None:
            schema = session.inline(content[media].get("schema", {}), body_uri)
            fields = schema.get("properties")
            flat = (
                schema.get("type") in ("object", None)
                and isinstance(fields, Mapping)
                and not (set(fields) & set(properties))
                and not any(k in schema for k in ("allOf", "anyOf", "oneOf"))
            )
            if flat and isinstance(fields, Mapping):
                # readOnly fields (ids, timestamps the server sets) are not the caller's to send
                writable = {
                    k: v
                    for k, v in fields.items()
                    if not (isinstance(v, Mapping) and v.get("readOnly") is True)
                }
                for field_name, field_schema in writable.items():
                    properties[field_name] = field_schema
                    params.append(_Param(prop=field_name, name=field_name, location="body_field"))
                if body.get("required"):
                    required.extend(r for r in schema.get("required", []) if r in writable)
            else:
                prop = "body" if "body" not in properties else "request_body"
                properties[prop] = schema
                params.append(_Param(prop=prop, name=prop, location="body"))
                if body.get("required"):
                    required.append(prop)
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = list(dict.fromkeys(required))
    if session.defs:
        input_schema["$defs"] = session.defs
    output = _output_schema(refs, op, item_uri)
    summary = str(op.get("summary") or "").strip()
    details = str(op.get("description") or "").strip()
    description = "\n\n".join(p for p in (summary, details) if p)[:2000]
    description = description or f"{method.upper()} {path}"
    if op.get("deprecated") is True:
        description = f"(Deprecated) {description}"
    idempotent = method in _IDEMPOTENT or op.get("x-idempotent") is True
    operation = _Operation(
        method=method.upper(),
        path=path,
        base_url=server.rstrip("/"),
        params=tuple(params),
        body_type=body_type,
        guard=guard,
        auth=auth,
        forward=forward,
        timeout_s=timeout_s,
    )

    async def call_operation(
        _tw_context: Context | None = None, **arguments: Any
    ) -> Any:  # names may not be identifiers: accept any keyword
        return await _call(operation, arguments, _tw_context)

    return Tool.from_schema(
        {"name": name, "description": description, "parameters": input_schema},
        handler=call_operation,
        read_only=method in _READ_ONLY,
        idempotent=idempotent,
        destructive=method == "delete",
        open_world=True,
        output_schema=output,
        policy=policy,
        tags={"openapi", *(str(t) for t in op.get("tags", []))},
    )


def _output_schema(refs: Refs, op: Mapping[str, Any], uri: str) -> dict[str, Any] | None:
    responses = op.get("responses") or {}
    for code in ("200", "201", "202", "203", "2XX", "2xx", "default"):
        if code not in responses:
            continue
        response, response_uri = refs.deref(responses[code], uri)
        content = response.get("content", {}) if isinstance(response, Mapping) else {}
        for media, entry in content.items():
            if (media == "application/json" or media.endswith("+json")) and "schema" in entry:
                return refs.inline_schema(entry["schema"], response_uri)
        return None
    return None


def _query_pairs(param: _Param, value: Any) -> list[tuple[str, str]]:
    """OpenAPI query serialization: form (exploded or not), space/pipe-delimited, deepObject."""
    if isinstance(value, list):
        if param.explode and param.style == "form":
            return [(param.name, _scalar(v)) for v in value]
        sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(param.style, ",")
        return [(param.name, sep.join(_scalar(v) for v in value))]
    if isinstance(value, Mapping):
        if param.style == "deepObject":
            return [(f"{param.name}[{k}]", _scalar(v)) for k, v in value.items()]
        if param.explode:
            return [(str(k), _scalar(v)) for k, v in value.items()]
        return [(param.name, ",".join(f"{k},{_scalar(v)}" for k, v in value.items()))]
    return [(param.name, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _call(op: _Operation, arguments: Mapping[str, Any], ctx: Context | None) -> Any:
    path = op.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    cookies: list[str] = []
    body_fields: dict[str, Any] = {}
    body: Any = None
    for param in op.params:
        if param.prop not in arguments or arguments[param.prop] is None:
            continue
        value = arguments[param.prop]
        if param.location == "path":
            path = path.replace("{" + param.name + "}", quote(_scalar(value), safe=""))
        elif param.location == "query":
            query.extend(_query_pairs(param, value))
        elif param.location == "header":
            headers[param.name] = _scalar(value)
        elif param.location == "cookie":
            cookies.append(f"{param.name}={quote(_scalar(value))}")
        elif param.location == "body_field":
            body_fields[param.name] = value
        else:
            body = value
    if body_fields:
        body = body_fields
    _apply_auth(op, headers, query, cookies, ctx)
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    payload: bytes | None = None
    if body is not None and op.body_type == "json":
        payload = dumps_bytes(body)
        headers["Content-Type"] = "application/json"
    elif body is not None and op.body_type == "form":
        payload = urlencode({k: _scalar(v) for k, v in body.items()}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.setdefault("Accept", "application/json")
    url = op.base_url + path
    if query:
        url += "?" + urlencode(query)
    left = ctx.time_left() if ctx is not None else None
    response = await client_for(op.guard).request(
        op.method,
        url,
        headers=headers,
        body=payload,
        timeout_s=op.timeout_s if left is None else left,
    )
    failure = failure_for(response, f"{op.method} {op.path}")
    if failure is not None:
        raise failure
    return response.value()


def _apply_auth(
    op: _Operation,
    headers: dict[str, str],
    query: list[tuple[str, str]],
    cookies: list[str],
    ctx: Context | None,
) -> None:
    if op.forward:
        token = ctx.caller.credentials if ctx is not None and ctx.caller is not None else None
        if not token:
            raise ToolFailure(
                "unauthorized",
                "This tool acts with the caller's own credentials, and none were provided.",
            )
        headers["Authorization"] = f"Bearer {token}"
        return
    auth = op.auth
    if isinstance(auth, Bearer):
        headers["Authorization"] = f"Bearer {auth.token}"
    elif isinstance(auth, Basic):
        pair = f"{auth.username}:{auth.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif isinstance(auth, ApiKey):
        if auth.location == "header":
            headers[auth.name] = auth.value
        elif auth.location == "query":
            query.append((auth.name, auth.value))
        else:
            cookies.append(f"{auth.name}={quote(auth.value)}")


async def close_clients() -> None:
    """Close the HTTP clients that OpenAPI tools (and document fetches) opened on this event
    loop; call it in that loop before it ends, as :func:`toolwire.remote.mcp.close_sessions`
    and :func:`toolwire.remote.grpc.close_channels` for theirs."""
    await _http.close_clients()
