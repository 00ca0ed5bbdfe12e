"""The three serve edges map one neutral view (``serve/_edge.py``): each transport's module
loads only its own framework, every wire describes a tool with the same facts, and
credentials are read alike from Starlette headers, an ASGI scope and gRPC metadata."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serve_helpers import KEY, child_env
from starlette.datastructures import Headers

import toolwire as tw
from toolwire._errors import ToolError, ToolFailure
from toolwire._spec import ToolAnnotations, ToolSpec
from toolwire.serve._auth import ApiKey, AuthConfig, Authenticator, hash_api_key
from toolwire.serve._edge import (
    Catalog,
    asgi_headers,
    caller_of,
    http_headers,
    http_status,
    tool_view,
)

FRAMEWORKS = ("starlette", "fastapi", "uvicorn", "grpc", "google.protobuf", "mcp")
# module -> the frameworks it may load (the rest must stay out of sys.modules)
MAY_LOAD = {
    "toolwire.serve._edge": (),
    "toolwire.serve._service": (),
    "toolwire.serve._grpc": ("grpc", "google.protobuf"),
    "toolwire.serve.grpc_client": ("grpc", "google.protobuf"),
    "toolwire.serve._rest": ("starlette",),
    # the mcp SDK itself serves streamable HTTP on Starlette (and imports uvicorn)
    "toolwire.serve._mcp": ("mcp", "starlette", "uvicorn"),
}


def loaded_frameworks(module: str) -> list[str]:
    """The frameworks a fresh interpreter has loaded after importing ``module``."""
    code = (
        f"import sys, json, {module}\n"
        f"names = {list(FRAMEWORKS)!r}\n"
        "print(json.dumps(sorted(n for n in names if n in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(MAY_LOAD))
def test_each_edge_loads_only_its_own_framework(module: str) -> None:
    assert set(loaded_frameworks(module)) <= set(MAY_LOAD[module])


def test_the_grpc_edge_loads_no_web_framework() -> None:
    loaded = loaded_frameworks("toolwire.serve._grpc")
    assert "grpc" in loaded  # the check sees what is loaded
    assert not {"starlette", "fastapi", "mcp"} & set(loaded)


schemas = st.sampled_from(
    [
        None,
        {"type": "integer"},
        {"type": "object", "properties": {"t": {"type": "number"}}, "required": ["t"]},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
    ]
)


@st.composite
def specs(draw: st.DrawFn) -> ToolSpec:
    return ToolSpec(
        name=draw(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)),
        description=draw(st.sampled_from(["", "Look the weather up.", "天气"])),
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        title=draw(st.sampled_from([None, "Weather"])),
        output_schema=draw(schemas),
        tags=frozenset(draw(st.lists(st.sampled_from(["b", "a", "geo"]), max_size=3))),
        task_support=draw(st.sampled_from(["forbidden", "optional", "required"])),
        annotations=ToolAnnotations(
            read_only=draw(st.booleans()),
            idempotent=draw(st.booleans()),
            destructive=draw(st.booleans()),
            open_world=draw(st.booleans()),
        ),
    )


@settings(max_examples=60, deadline=None)
@given(specs())
def test_every_wire_describes_a_tool_with_the_same_facts(spec: ToolSpec) -> None:
    from toolwire.dialects._export_mcp import output_schema_for
    from toolwire.serve._grpc import _map_tool
    from toolwire.serve._mcp import map_tool

    view = tool_view(SimpleNamespace(spec=spec))  # anything with a spec, as a Tool
    rest: dict[str, Any] = view.to_dict()
    info = _map_tool(view)
    mcp = map_tool(view)
    ann = spec.annotations
    facts = (spec.name, ann.read_only, ann.destructive, ann.open_world)
    assert (rest["name"], *[rest["annotations"][k] for k in ("read_only", "destructive")]) == (
        facts[:3]
    )
    assert rest["annotations"]["open_world"] == ann.open_world
    assert (info.name, info.read_only, info.destructive, info.open_world) == facts
    assert mcp.annotations is not None
    assert (
        mcp.name,
        mcp.annotations.read_only_hint,
        mcp.annotations.destructive_hint,
        mcp.annotations.open_world_hint,
    ) == facts
    # idempotent as declared on REST and gRPC; MCP hints a read-only tool idempotent
    assert rest["annotations"]["idempotent"] == info.idempotent == ann.idempotent
    assert mcp.annotations.idempotent_hint == (ann.idempotent or ann.read_only)
    # absence, as each wire encodes it
    assert rest["title"] == spec.title and info.title == (spec.title or "")
    assert mcp.title == spec.title == mcp.annotations.title
    assert rest["description"] == info.description == spec.description
    assert mcp.description == (spec.description or None)
    assert rest["input_schema"] == json.loads(info.input_schema_json) == mcp.input_schema
    assert rest["output_schema"] == spec.output_schema
    grpc_output = json.loads(info.output_schema_json) if info.output_schema_json else None
    assert grpc_output == spec.output_schema
    assert mcp.output_schema == output_schema_for(spec)
    assert rest["tags"] == list(info.tags) == sorted(spec.tags)
    assert rest["task_support"] == info.task_support == spec.task_support
    support = mcp.execution.task_support if mcp.execution is not None else "forbidden"
    assert support == spec.task_support


def test_the_catalog_filters_by_scope_and_follows_the_toolbox() -> None:
    auth = Authenticator(
        AuthConfig(
            api_keys=(ApiKey(id="u", hash=hash_api_key(KEY), scopes=frozenset({"weather"})),),
            tool_scopes={"admin_*": frozenset({"admin"})},
        )
    )

    @tw.tool
    def lookup() -> str:
        """Look."""
        return "x"

    @tw.tool
    def admin_reset() -> str:
        """Reset."""
        return "y"

    box = tw.Toolbox([lookup])
    catalog = Catalog(box, auth)
    user = auth.authenticate(api_key=KEY)
    first = catalog.views(user)
    assert [v.name for v in first] == ["lookup"]
    box.add(admin_reset)
    assert [v.name for v in catalog.views()] == ["lookup", "admin_reset"]
    assert [v.name for v in catalog.views(user)] == ["lookup"]
    assert catalog.views(user)[0] is first[0]  # unchanged tools keep their view
    assert catalog.find("admin_reset") is catalog.view(admin_reset)
    assert catalog.find("nothing") is None


def test_credentials_read_alike_from_every_header_form() -> None:
    auth = Authenticator(
        AuthConfig(api_keys=(ApiKey(id="u", hash=hash_api_key(KEY), scopes=frozenset()),))
    )
    from toolwire.serve._grpc import _process_metadata

    raw = [(b"X-API-Key".lower(), KEY.encode()), (b"x-api-key", b"tw_second")]
    forms = {
        "starlette": Headers(raw=raw),
        "asgi scope": asgi_headers({"type": "http", "headers": raw}),
        # gRPC metadata: keys lower case; the repeated key is sent once here
        "grpc metadata": _process_metadata((("x-api-key", KEY), ("user-agent", "grpc"))),
        "bearer": {"authorization": f"Bearer {KEY}"},
    }
    assert {name: caller_of(auth, h).id for name, h in forms.items()} == dict.fromkeys(
        forms, "key:u"
    )
    with pytest.raises(ToolFailure) as info:
        caller_of(auth, {})
    assert info.value.kind == "unauthorized"
    assert caller_of(Authenticator(), {}).id == "anonymous"  # no auth: nothing is read


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (ToolError(kind="invalid_arguments", message="x"), 400, {}),
        (
            ToolError(kind="unauthorized", message="x"),
            401,
            {"WWW-Authenticate": 'Bearer realm="toolwire"'},
        ),
        (ToolError(kind="rate_limited", message="x"), 429, {"Retry-After": "1"}),
        (ToolError(kind="circuit_open", message="x", retry_after=2.2), 503, {"Retry-After": "3"}),
        (ToolError(kind="remote_error", message="x", retry_after=0.1), 502, {"Retry-After": "1"}),
        (
            ToolError(
                kind="invalid_arguments", message="x", details={"reason": "idempotency_key_reused"}
            ),
            409,
            {},
        ),
    ],
)
def test_http_answers_for_errors(error: ToolError, status: int, headers: dict[str, str]) -> None:
    assert (http_status(error), http_headers(error)) == (status, headers)
