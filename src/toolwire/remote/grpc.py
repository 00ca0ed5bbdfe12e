"""gRPC services as tools, discovered through server reflection (no .proto files needed).

One tool per unary method (named ``Service.Method``, or ``Method`` alone with
``qualified=False``); the input schema comes from the request message descriptor (nested
messages, enums, repeated fields, maps, well-known types). Streaming methods are reported as
unsupported, with the reason, and skipped. Calls use dynamic stubs over one channel per target
and event loop, with the call's deadline.

The target passes the SSRF guard before a channel is opened: its name is resolved, every
address checked (loopback, private, link-local, metadata... are refused unless the host is in
``allow_hosts``), and the channel dials the checked addresses (the name stays the authority and
the TLS server name), so it never re-resolves somewhere else. The name is resolved and checked
again after ``recheck_s`` and after a call fails with ``UNAVAILABLE`` (see
:mod:`toolwire.remote._grpc_dial`).

Example::

    tools = await toolwire.remote.grpc.load("127.0.0.1:50051", allow_hosts=["127.0.0.1"])
    # -> [Tool WeatherService.GetWeather(name: str)]
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from toolwire._context import Context
from toolwire._errors import MissingExtra, ToolFailure
from toolwire._tools import Tool
from toolwire.remote._discovery import CONVERSION_ERRORS, Discovery, tools_only
from toolwire.remote._ssrf import Guard, Resolver, system_resolver
from toolwire.runtime._policy import Policy

__all__ = ["discover", "input_schema", "load", "output_schema"]

try:
    import grpc
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
    from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("grpcio", "grpc") from exc

from toolwire.remote import _grpc_dial as dial
from toolwire.remote._grpc_dial import RECHECK_S, Target
from toolwire.remote._grpc_dial import close_channels as close_channels
from toolwire.remote._grpc_dial import split_target as split_target

_SKIP_SERVICES = frozenset(
    {
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
        "grpc.health.v1.Health",
    }
)
_INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"minimum": 0, "maximum": 2**32 - 1}
_INT64 = {"minimum": -(2**63), "maximum": 2**63 - 1}
_UINT64 = {"minimum": 0, "maximum": 2**64 - 1}
_T = FieldDescriptor
_SCALARS: dict[int, dict[str, Any]] = {
    _T.TYPE_DOUBLE: {"type": "number"},
    _T.TYPE_FLOAT: {"type": "number"},
    _T.TYPE_INT32: {"type": "integer", **_INT32},
    _T.TYPE_SINT32: {"type": "integer", **_INT32},
    _T.TYPE_SFIXED32: {"type": "integer", **_INT32},
    _T.TYPE_UINT32: {"type": "integer", **_UINT32},
    _T.TYPE_FIXED32: {"type": "integer", **_UINT32},
    _T.TYPE_INT64: {"type": "integer", **_INT64},
    _T.TYPE_SINT64: {"type": "integer", **_INT64},
    _T.TYPE_SFIXED64: {"type": "integer", **_INT64},
    _T.TYPE_UINT64: {"type": "integer", **_UINT64},
    _T.TYPE_FIXED64: {"type": "integer", **_UINT64},
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WRAPPERS = {
    "google.protobuf.DoubleValue": _T.TYPE_DOUBLE,
    "google.protobuf.FloatValue": _T.TYPE_FLOAT,
    "google.protobuf.Int64Value": _T.TYPE_INT64,
    "google.protobuf.UInt64Value": _T.TYPE_UINT64,
    "google.protobuf.Int32Value": _T.TYPE_INT32,
    "google.protobuf.UInt32Value": _T.TYPE_UINT32,
    "google.protobuf.BoolValue": _T.TYPE_BOOL,
    "google.protobuf.StringValue": _T.TYPE_STRING,
    "google.protobuf.BytesValue": _T.TYPE_BYTES,
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339 time, e.g. 2024-05-01T12:00:00Z",
    },
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?\d+(\.\d{1,9})?s$",
        "description": "seconds with an 's' suffix, e.g. 1.5s",
    },
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object", "properties": {}, "additionalProperties": False},
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated paths"},
    "google.protobuf.Any": {"type": "object", "properties": {"@type": {"type": "string"}}},
}
# gRPC status -> error kind. Codes that mean "this request is wrong" are execution errors
# the model can act on; codes that mean "the service has a problem" are remote errors.
_CODE_KINDS: dict[str, Any] = {
    "DEADLINE_EXCEEDED": "timeout",
    "CANCELLED": "cancelled",
    "RESOURCE_EXHAUSTED": "rate_limited",
    "INVALID_ARGUMENT": "execution_error",
    "OUT_OF_RANGE": "execution_error",
    "FAILED_PRECONDITION": "execution_error",
    "NOT_FOUND": "execution_error",
    "ALREADY_EXISTS": "execution_error",
}


class _Schemas:
    """Message descriptors -> JSON Schema; recursive messages go to ``$defs``."""

    def __init__(self, closed: bool) -> None:
        self.closed = closed  # additionalProperties: false (inputs), open (outputs)
        self.defs: dict[str, Any] = {}
        self._pending: list[Descriptor] = []

    def message(self, desc: Descriptor, stack: tuple[str, ...] = ()) -> dict[str, Any]:
        if desc.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[desc.full_name])
        if desc.full_name in _WRAPPERS:
            return {**_SCALARS[_WRAPPERS[desc.full_name]]}
        if desc.full_name in stack:
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", desc.full_name)
            if name not in self.defs:
                self.defs[name] = None  # placeholder: filled once the outer walk is done
                self._pending.append(desc)
            return {"$ref": f"#/$defs/{name}"}
        inner = (*stack, desc.full_name)
        props = {}
        for f in desc.fields:
            schema = self.field(f, inner)
            if "$ref" not in schema and "description" not in schema:
                # reflection carries no comments: "Location.name" at least says whose name
                schema["description"] = f"{desc.name}.{f.name}"
            props[f.name] = schema
        out: dict[str, Any] = {"type": "object", "properties": props}
        if self.closed:
            out["additionalProperties"] = False
        oneofs = [o for o in desc.oneofs if len(o.fields) > 1]
        if oneofs:
            groups = "; ".join(", ".join(f.name for f in o.fields) for o in oneofs)
            out["description"] = f"Set at most one field of each group: {groups}."
        return out

    def field(self, f: FieldDescriptor, stack: tuple[str, ...]) -> dict[str, Any]:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key_f, value_f = (
                f.message_type.fields_by_name["key"],
                f.message_type.fields_by_name["value"],
            )
            out: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.single(value_f, stack),
            }
            if key_f.type not in (_T.TYPE_STRING, _T.TYPE_BOOL):
                out["propertyNames"] = {"pattern": r"^-?\d+$"}
            return out
        item = self.single(f, stack)
        if _is_repeated(f):
            return {"type": "array", "items": item}
        return item

    def single(self, f: FieldDescriptor, stack: tuple[str, ...]) -> dict[str, Any]:
        if f.type == _T.TYPE_ENUM and f.enum_type is not None:
            return {"type": "string", "enum": [v.name for v in f.enum_type.values]}
        if f.message_type is not None:
            return self.message(f.message_type, stack)
        return dict(_SCALARS.get(f.type, {}))

    def root(self, desc: Descriptor) -> dict[str, Any]:
        out = self.message(desc)
        while self._pending:
            pending = self._pending.pop()
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", pending.full_name)
            self.defs[name] = self.message(pending, (pending.full_name,))
        if self.defs:
            out["$defs"] = self.defs
        return out


def _is_repeated(f: FieldDescriptor) -> bool:
    flag = getattr(f, "is_repeated", None)  # protobuf >= 6 deprecates ``label``
    if isinstance(flag, bool):
        return flag
    return bool(getattr(f, "label", None) == _T.LABEL_REPEATED)


def input_schema(desc: Descriptor) -> dict[str, Any]:
    """The JSON Schema of a request message (unknown fields refused)."""
    return _Schemas(closed=True).root(desc)


def output_schema(desc: Descriptor) -> dict[str, Any]:
    return _Schemas(closed=False).root(desc)


async def _reflect(channel: Any, timeout_s: float) -> tuple[list[str], Any]:
    """List services and load every file they need into a fresh descriptor pool."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    async def ask(**request: Any) -> Any:
        call = stub.ServerReflectionInfo(timeout=timeout_s)
        await call.write(reflection_pb2.ServerReflectionRequest(**request))
        await call.done_writing()
        response = await call.read()
        if response.HasField("error_response"):
            raise ToolFailure(
                "remote_error",
                f"gRPC reflection failed: {response.error_response.error_message}",
            )
        return response

    listing = await ask(list_services="")
    services = [s.name for s in listing.list_services_response.service]
    services = [s for s in services if s not in _SKIP_SERVICES]

    def remember(response: Any) -> list[str]:
        missing: list[str] = []
        for raw in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files.setdefault(proto.name, proto)
        for proto in list(files.values()):
            missing.extend(d for d in proto.dependency if d not in files)
        return missing

    for service in services:
        missing = remember(await ask(file_containing_symbol=service))
        while missing:
            name = missing.pop()
            if name not in files:
                missing.extend(remember(await ask(file_by_filename=name)))
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])

    for name in files:
        add(name)
    return services, pool


async def discover(
    target: str,
    *,
    secure: bool = False,
    metadata: Mapping[str, str] | None = None,
    forward_caller_credentials: bool = False,
    include: Sequence[str] | None = None,
    qualified: bool = True,
    timeout_s: float = 30.0,
    policy: Policy | None = None,
    descriptions: Mapping[str, str] | None = None,
    allow_hosts: Sequence[str] = (),
    resolver: Resolver = system_resolver,
    recheck_s: float = RECHECK_S,
) -> Discovery:
    """Like :func:`load`, also returning the methods that were skipped and why."""
    import fnmatch

    guard = Guard(allow_hosts=tuple(allow_hosts), resolver=resolver)
    checked = dial.target(target, secure, guard, recheck_s)
    live = dial.fresh(checked) or await dial.refresh(checked)
    live.inflight += 1
    error: BaseException | None = None
    try:
        services, pool = await _reflect(live.channel, timeout_s)
    except grpc.aio.AioRpcError as exc:
        error = exc
        raise _failure(exc, f"gRPC reflection on {target}") from exc
    finally:
        dial.done(live, error)
    found = Discovery(tools=[])
    where = f"gRPC server {target}"
    for service_name in services:
        service = pool.FindServiceByName(service_name)
        for method in service.methods:
            label = f"{service.name}.{method.name}"
            if include is not None and not any(
                fnmatch.fnmatchcase(n, p) for p in include for n in (label, method.full_name)
            ):
                continue
            proto = descriptor_pb2.MethodDescriptorProto()
            method.CopyToProto(proto)
            if proto.client_streaming or proto.server_streaming:
                kind = "client" if proto.client_streaming else "server"
                if proto.client_streaming and proto.server_streaming:
                    kind = "bidirectional"
                found.skip(
                    where,
                    label,
                    f"{kind}-streaming methods cannot be called as tools (a tool call takes one "
                    "request and returns one result); only unary methods are imported",
                )
                continue
            try:
                made = _tool(
                    checked,
                    method,
                    label if qualified else method.name,
                    metadata or {},
                    forward_caller_credentials,
                    timeout_s,
                    policy,
                    (descriptions or {}).get(label),
                )
            except CONVERSION_ERRORS as exc:
                found.skip(where, label, str(exc))
                continue
            found.tools.append(made)
    return found


load = tools_only(
    discover,
    """One tool per unary method of every service the server at ``target`` reflects.

    ``target`` is ``host:port`` (``[v6]:port``, ``dns:///host:port``); it passes the SSRF
    guard first, so a loopback or private server needs ``allow_hosts`` (names, addresses or
    networks, as for OpenAPI). ``metadata`` is sent with every call (e.g.
    ``{"authorization": "Bearer ..."}``); ``forward_caller_credentials`` sends the caller's own
    token instead. ``include`` holds glob patterns over ``Service.Method`` / full method names.
    ``descriptions`` maps ``Service.Method`` to a description for the model (reflection
    carries no proto comments). Streaming methods, and methods whose messages cannot be
    described, are skipped (see :func:`discover` for the reasons). Every address the name
    resolves to is checked and dialled; the name is resolved and checked again after
    ``recheck_s`` seconds, and after a call failed with ``UNAVAILABLE``.
    """,
)


def _tool(
    target: Target,
    method: MethodDescriptor,
    name: str,
    metadata: Mapping[str, str],
    forward: bool,
    timeout_s: float,
    policy: Policy | None,
    summary: str | None,
) -> Tool:
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    path = f"/{method.containing_service.full_name}/{method.name}"
    level = method.GetOptions().idempotency_level
    read_only = level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
    idempotent = read_only or level == descriptor_pb2.MethodOptions.IDEMPOTENT
    stubs: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    async def call_method(_tw_context: Context | None = None, **arguments: Any) -> Any:
        try:
            request = json_format.ParseDict(arguments, request_cls())
        except json_format.ParseError as exc:
            raise ToolFailure(
                "execution_error",
                f"The arguments do not fit {method.input_type.full_name}: {exc}",
            ) from exc
        headers = dict(metadata)
        if forward:
            caller = _tw_context.caller if _tw_context is not None else None
            if caller is None or not caller.credentials:
                raise ToolFailure(
                    "unauthorized",
                    "This tool acts with the caller's own credentials, and none were provided.",
                )
            headers["authorization"] = f"Bearer {caller.credentials}"
        left = _tw_context.time_left() if _tw_context is not None else None
        # the checked channel, re-resolved and re-checked first when it is due or failed
        live = dial.fresh(target) or await dial.refresh(target)
        live.inflight += 1  # no await since refresh: a retirement cannot slip in between
        error: BaseException | None = None
        try:
            stub = stubs.get(live.channel)
            if stub is None:  # one multicallable per channel, not one per call
                stub = stubs[live.channel] = live.channel.unary_unary(
                    path,
                    request_serializer=request_cls.SerializeToString,
                    response_deserializer=response_cls.FromString,
                )
            response = await stub(
                request,
                timeout=timeout_s if left is None else left,
                metadata=tuple(headers.items()) or None,
            )
        except grpc.aio.AioRpcError as exc:
            error = exc
            raise _failure(exc, f"gRPC {path}") from exc
        finally:
            dial.done(live, error)
        return json_format.MessageToDict(
            response,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )

    description = f"gRPC method {method.full_name} ({method.input_type.name} -> "
    description += f"{method.output_type.name})."
    if summary:
        description = f"{summary}\n\n{description}"
    return Tool.from_schema(
        {
            "name": name,
            "description": description,
            "parameters": input_schema(method.input_type),
        },
        handler=call_method,
        read_only=read_only,
        idempotent=idempotent,
        open_world=True,
        output_schema=output_schema(method.output_type),
        policy=policy,
        tags={"grpc", method.containing_service.full_name},
    )


def _failure(exc: Any, what: str) -> ToolFailure:
    code = exc.code()
    code_name = getattr(code, "name", str(code))
    kind = _CODE_KINDS.get(code_name, "remote_error")
    return ToolFailure(
        kind,
        f"{what} failed with {code_name}: {exc.details() or 'no details'}",
        details={"grpc_code": code_name},
    )
