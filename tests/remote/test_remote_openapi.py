"""OpenAPI import against a real local aiohttp server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from aiohttp import web

from toolwire._context import Caller, Context
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.remote import openapi
from toolwire.remote._http import close_clients
from toolwire.remote._refs import RefError, Refs

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "description": "The pet's name"},
        "tag": {"type": "string", "nullable": True},
        "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        "example": {"type": "string", "description": "a property named like a keyword"},
    },
}


def spec_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "/{prefix}", "variables": {"prefix": {"default": "api"}}}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "summary": "List pets",
                    "tags": ["pets"],
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {
                            "name": "tags",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                        {"$ref": "#/components/parameters/Trace"},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Pet"},
                                    }
                                }
                            },
                        }
                    },
                },
                "post": {
                    "operationId": "createPet",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    },
                    "responses": {"201": {"description": "created"}},
                },
            },
            "/pets/{petId}": {
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": {
                    "operationId": "getPet",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                            },
                        },
                        "404": {"$ref": "common.json#/components/responses/NotFound"},
                    },
                },
                "put": {
                    "operationId": "replacePet",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"petId": {"type": "string"}},
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                },
                "delete": {"responses": {"204": {"description": "gone"}}},
                "patch": {
                    "operationId": "renamePet",
                    "x-idempotent": True,
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"name": {"type": "string"}},
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                },
            },
            "/trees": {
                "post": {
                    "operationId": "plantTree",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/status/{code}": {
                "get": {
                    "operationId": "status",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/whoami": {
                "get": {
                    "operationId": "whoami",
                    "parameters": [
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                        {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/old": {"get": {"operationId": "oldPets", "responses": {"200": {"description": "x"}}}},
            "/upload": {
                "post": {
                    "operationId": "upload",
                    "requestBody": {"content": {"multipart/form-data": {"schema": {}}}},
                    "responses": {"200": {"description": "x"}},
                }
            },
        },
        "components": {
            "parameters": {
                "Trace": {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
            },
            "schemas": {
                "Pet": PET,
                "Node": {
                    "type": "object",
                    "properties": {
                        "label": {"$ref": "common.json#/components/schemas/Label"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                    },
                },
            },
        },
    }


COMMON = {
    "components": {
        "schemas": {
            "Label": {"type": "string", "maxLength": 20},
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        "responses": {
            "NotFound": {
                "description": "missing",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
    }
}


@dataclass
class Api:
    url: str = ""
    port: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    state = Api()

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        record = {
            "method": request.method,
            "path": request.path,
            "query": [list(kv) for kv in request.query.items()],
            "headers": dict(request.headers.items()),
            "body": body.decode(),
            "match": dict(request.match_info),
        }
        state.seen.append(record)
        return web.json_response(record)

    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        headers = {"Retry-After": "3"} if code == 429 else {}
        return web.json_response({"message": f"status {code}"}, status=code, headers=headers)

    async def old(request: web.Request) -> web.Response:
        target = request.query.get("to", "/api/pets")
        raise web.HTTPFound(target)

    async def spec(request: web.Request) -> web.Response:
        return web.json_response(spec_document())

    async def common(request: web.Request) -> web.Response:
        return web.json_response(COMMON)

    app = web.Application()
    app.router.add_get("/openapi.json", spec)
    app.router.add_get("/common.json", common)
    app.router.add_get("/api/status/{code}", status)
    app.router.add_get("/api/old", old)
    app.router.add_route("*", "/api/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{state.port}"
    yield state
    await close_clients()
    await runner.cleanup()


async def _call(t: Tool, args: dict[str, Any], caller: Caller | None = None) -> Any:
    ctx = Context(call_id="c1", tool_name=t.name, caller=caller)
    kwargs = t.bind(t.validate(args), ctx)
    return await t.require_handler()(**kwargs)


async def _load(api: Api, **kw: Any) -> dict[str, Tool]:
    kw.setdefault("allow_hosts", ["127.0.0.1"])
    tools = await openapi.load(f"{api.url}/openapi.json", **kw)
    return {t.name: t for t in tools}


@pytest.mark.anyio
async def test_operations_become_tools_with_hints(api: Api) -> None:
    tools = await _load(api)
    assert set(tools) == {
        "listPets", "createPet", "getPet", "replacePet", "delete_pets_petId", "renamePet",
        "plantTree", "status", "whoami", "oldPets",
    }  # fmt: skip  # multipart "upload" is skipped
    hints = {n: t.spec.annotations for n, t in tools.items()}
    assert hints["listPets"].read_only and hints["listPets"].idempotent
    assert hints["replacePet"].idempotent and not hints["replacePet"].read_only
    assert hints["delete_pets_petId"].idempotent and hints["delete_pets_petId"].destructive
    assert not hints["createPet"].idempotent
    assert hints["renamePet"].idempotent  # x-idempotent
    assert all(h.open_world for h in hints.values())
    assert tools["listPets"].description == "List pets"
    assert "pets" in tools["listPets"].spec.tags


@pytest.mark.anyio
async def test_schemas_merge_params_and_resolve_refs(api: Api) -> None:
    tools = await _load(api)
    listing = tools["listPets"].spec
    assert set(listing.input_schema["properties"]) == {"limit", "tags", "X-Trace"}
    assert listing.output_schema is not None
    assert listing.output_schema["items"]["properties"]["name"]["type"] == "string"
    create = tools["createPet"].spec.input_schema
    assert create["required"] == ["name"]
    assert create["properties"]["tag"]["type"] == ["string", "null"]
    assert create["properties"]["age"] == {"type": "integer", "exclusiveMinimum": 0}
    assert "example" in create["properties"]  # a property name, not the keyword
    replace = tools["replacePet"].spec.input_schema
    assert set(replace["properties"]) == {"petId", "body"}  # collision: body kept whole
    tree = tools["plantTree"].spec.input_schema
    node = tree["properties"]["children"]["items"]
    assert node == {"$ref": "#/$defs/Node"}
    assert tree["$defs"]["Node"]["properties"]["label"]["maxLength"] == 20
    jsonschema_rs.meta.validate(tree)
    good = {"label": "a", "children": [{"label": "b", "children": [{"label": "c"}]}]}
    assert jsonschema_rs.validator_for(tree).is_valid(good)
    bad = {"children": [{"children": [{"label": "x" * 30}]}]}
    assert not jsonschema_rs.validator_for(tree).is_valid(bad)


@pytest.mark.anyio
async def test_calls_send_every_parameter_kind(api: Api) -> None:
    tools = await _load(api)
    out = await _call(tools["listPets"], {"limit": 5, "tags": ["a", "b c"], "X-Trace": "t-1"})
    assert out["path"] == "/api/pets"
    assert out["query"] == [["limit", "5"], ["tags", "a"], ["tags", "b c"]]
    assert out["headers"]["X-Trace"] == "t-1"
    got = await _call(tools["getPet"], {"petId": "a/b?c"})
    assert got["match"]["tail"] == "pets/a/b?c" or got["path"] == "/api/pets/a/b?c"
    assert api.seen[-1]["path"].endswith("a/b?c")
    created = await _call(tools["createPet"], {"name": "北京狗", "age": 2})
    assert json.loads(created["body"]) == {"name": "北京狗", "age": 2}
    assert created["headers"]["Content-Type"] == "application/json"
    replaced = await _call(tools["replacePet"], {"petId": "7", "body": {"petId": "8"}})
    assert replaced["path"] == "/api/pets/7" and json.loads(replaced["body"]) == {"petId": "8"}
    renamed = await _call(tools["renamePet"], {"petId": "7", "name": "Rex & co"})
    assert renamed["method"] == "PATCH" and renamed["body"] == "name=Rex+%26+co"
    who = await _call(tools["whoami"], {"session": "s 1"})
    assert who["headers"]["Cookie"] == "session=s%201"
    assert "Accept" not in tools["whoami"].spec.input_schema["properties"]


@pytest.mark.anyio
async def test_auth_modes(api: Api) -> None:
    cases: list[tuple[Any, str, str]] = [
        (openapi.Bearer(token="t0k"), "Authorization", "Bearer t0k"),
        ({"type": "api_key", "name": "X-API-Key", "value": "k1"}, "X-API-Key", "k1"),
        (openapi.Basic(username="u", password="p"), "Authorization", "Basic dTpw"),
    ]
    for auth, header, value in cases:
        tools = await _load(api, auth=auth, include=["whoami"])
        out = await _call(tools["whoami"], {})
        assert out["headers"][header] == value
    in_query = await _load(
        api, auth=openapi.ApiKey(name="key", value="q1", location="query"), include=["whoami"]
    )
    assert ["key", "q1"] in (await _call(in_query["whoami"], {}))["query"]
    forwarding = await _load(api, forward_caller_credentials=True, include=["whoami"])
    out = await _call(forwarding["whoami"], {}, Caller(id="ann", credentials="ann-token"))
    assert out["headers"]["Authorization"] == "Bearer ann-token"
    with pytest.raises(ToolFailure) as info:
        await _call(forwarding["whoami"], {}, Caller(id="anonymous"))
    assert info.value.kind == "unauthorized"
    with pytest.raises(ValueError):
        openapi.auth_from_config({"type": "kerberos"})


@pytest.mark.anyio
async def test_include_exclude_prefix(api: Api) -> None:
    only = await _load(
        api, include=["*Pet*"], exclude=["DELETE *", "renamePet", "old*"], prefix="p_"
    )
    assert set(only) == {"p_listPets", "p_createPet", "p_getPet", "p_replacePet"}
    by_tag = await _load(api, include=["pets"])
    assert set(by_tag) == {"listPets"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "kind"),
    [(404, "remote_error"), (401, "remote_error"), (403, "remote_error"),
     (500, "remote_error"), (503, "remote_error"), (429, "rate_limited"), (504, "timeout")],
)  # fmt: skip
async def test_error_mapping(api: Api, code: int, kind: str) -> None:
    tools = await _load(api, include=["status"])
    with pytest.raises(ToolFailure) as info:
        await _call(tools["status"], {"code": code})
    assert info.value.kind == kind
    assert info.value.details["status"] == code
    if code == 429:
        assert info.value.retry_after == 3.0
    assert await _call(tools["status"], {"code": 200}) == {"message": "status 200"}


@pytest.mark.anyio
async def test_redirects_are_followed_and_checked(api: Api) -> None:
    tools = await _load(api, include=["oldPets"])
    out = await _call(tools["oldPets"], {})
    assert out["path"] == "/api/pets"
    sneaky = await openapi.load(
        spec_document(),
        base_url=f"{api.url}/api/old?to=http://127.0.0.2:{api.port}/api/pets&x=",
        allow_hosts=["127.0.0.1"],
        include=["whoami"],
        ref_base=f"{api.url}/openapi.json",
    )
    with pytest.raises(ToolFailure) as info:
        await _call(sneaky[0], {})
    assert info.value.kind == "forbidden" and "127.0.0.2" in info.value.message


@pytest.mark.anyio
async def test_ssrf_guard_applies_to_loading_and_calls(api: Api, tmp_path: Path) -> None:
    with pytest.raises(ToolFailure) as info:
        await openapi.load(f"{api.url}/openapi.json")
    assert info.value.kind == "forbidden"
    with pytest.raises(ToolFailure) as ref_info:
        await openapi.load(spec_document(), base_url=api.url, ref_base=f"{api.url}/x.json")
    assert ref_info.value.kind == "forbidden"
    (tmp_path / "common.json").write_text(json.dumps(COMMON))
    tools = await openapi.load(
        spec_document(),
        base_url=f"{api.url}/api",
        include=["whoami"],
        ref_base=(tmp_path / "api.json").as_uri(),
    )
    with pytest.raises(ToolFailure) as call_info:
        await _call(tools[0], {})
    assert call_info.value.kind == "forbidden"
    assert api.seen == []


@pytest.mark.anyio
async def test_file_spec_with_external_refs_and_base_url(api: Api, tmp_path: Path) -> None:
    (tmp_path / "common.json").write_text(json.dumps(COMMON))
    (tmp_path / "api.json").write_text(json.dumps(spec_document()))
    tools = {
        t.name: t
        for t in await openapi.load(
            str(tmp_path / "api.json"), base_url=f"{api.url}/api", allow_hosts=["127.0.0.1"]
        )
    }
    label = tools["plantTree"].spec.input_schema["$defs"]["Node"]["properties"]["label"]
    assert label == {"type": "string", "maxLength": 20}
    assert (await _call(tools["getPet"], {"petId": "1"}))["path"] == "/api/pets/1"
    (tmp_path / "common.json").unlink()
    with pytest.raises(RefError):
        await openapi.load(str(tmp_path / "api.json"), base_url=api.url)


@pytest.mark.anyio
async def test_bad_documents() -> None:
    with pytest.raises(ValueError):
        await openapi.load({"openapi": "3.1.0"})
    with pytest.raises(ValueError):
        await openapi.load({"openapi": "3.1.0", "paths": {}})  # no server
    refs = Refs({"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}})
    with pytest.raises(RefError):
        refs.deref({"$ref": "#/a"})
    with pytest.raises(RefError):
        refs.inline_schema({"$ref": "#/missing"})
    loop = Refs({"A": {"type": "object", "properties": {"self": {"$ref": "#/A"}}}})
    schema = loop.inline_schema({"$ref": "#/A"})
    assert schema["properties"]["self"] == {"$ref": "#/$defs/A"}
    jsonschema_rs.meta.validate(schema)


@pytest.mark.anyio
async def test_yaml_spec_file(api: Api, tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    (tmp_path / "common.json").write_text(json.dumps(COMMON))
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(spec_document(), allow_unicode=True))
    tools = await openapi.load(
        str(tmp_path / "api.yaml"), base_url=f"{api.url}/api", allow_hosts=["127.0.0.1"]
    )
    assert "listPets" in {t.name for t in tools}
    (tmp_path / "bad.yaml").write_text("paths: [unclosed")
    with pytest.raises(ValueError):
        await openapi.load(str(tmp_path / "bad.yaml"), base_url=api.url)


@pytest.mark.anyio
async def test_query_styles_read_only_fields_and_deprecation(api: Api) -> None:
    def q(name: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, **extra}

    strings = {"type": "array", "items": {"type": "string"}}
    obj = {"type": "object", "additionalProperties": {"type": "string"}}
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/search": {
                "get": {
                    "operationId": "search",
                    "deprecated": True,
                    "parameters": [
                        q("csv", strings, explode=False),
                        q("pipes", strings, style="pipeDelimited"),
                        q("filter", obj, style="deepObject", explode=True),
                        q("flat", obj, explode=False),
                    ],
                    "responses": {},
                },
                "post": {
                    "operationId": "addItem",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "name"],
                                    "properties": {
                                        "id": {"type": "integer", "readOnly": True},
                                        "name": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {},
                },
            }
        },
    }
    tools = {
        t.name: t
        for t in await openapi.load(doc, base_url=f"{api.url}/api", allow_hosts=["127.0.0.1"])
    }
    assert tools["search"].description.startswith("(Deprecated)")
    out = await _call(
        tools["search"],
        {"csv": ["a", "b"], "pipes": ["x", "y"], "filter": {"k": "v"}, "flat": {"a": "1"}},
    )
    assert out["query"] == [["csv", "a,b"], ["pipes", "x|y"], ["filter[k]", "v"], ["flat", "a,1"]]
    add = tools["addItem"].spec.input_schema
    assert set(add["properties"]) == {"name"} and add["required"] == ["name"]


@pytest.mark.anyio
async def test_api_key_placement_from_security_schemes(api: Api) -> None:
    doc = spec_document()
    doc["components"]["securitySchemes"] = {
        "key": {"type": "apiKey", "name": "token", "in": "query"}
    }
    tools = await openapi.load(
        doc,
        base_url=f"{api.url}/api",
        allow_hosts=["127.0.0.1"],
        include=["whoami"],
        auth={"type": "api_key", "value": "k9"},
        ref_base=f"{api.url}/openapi.json",
    )
    assert ["token", "k9"] in (await _call(tools[0], {}))["query"]
    with pytest.raises(ValueError):
        await openapi.load(
            spec_document(),
            base_url=api.url,
            allow_hosts=["127.0.0.1"],
            auth={"type": "api_key", "value": "k9"},
            ref_base=f"{api.url}/openapi.json",
        )


@pytest.mark.anyio
async def test_operations_that_cannot_become_tools_are_skipped(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    doc = spec_document()
    doc["paths"]["/codes/{code}"] = {
        "get": {
            "operationId": "getCode",
            "parameters": [
                {"name": "code", "in": "path", "schema": {"type": "string", "pattern": "(unclosed"}}
            ],
            "responses": {"200": {"description": "x"}},
        }
    }
    doc["paths"]["/ghost"] = {
        "get": {
            "operationId": "ghost",
            "parameters": [{"$ref": "#/components/parameters/Missing"}],
            "responses": {"200": {"description": "x"}},
        }
    }
    with caplog.at_level("WARNING", logger="toolwire.remote"):
        found = await openapi.discover(
            doc,
            base_url=f"{api.url}/api",
            allow_hosts=["127.0.0.1"],
            ref_base=f"{api.url}/openapi.json",
        )
    assert set(found.skipped) == {"getCode", "upload", "ghost"}
    assert found.skipped["getCode"].startswith("GET /codes/{code}: ")
    assert "pattern" in found.skipped["getCode"] or "regex" in found.skipped["getCode"].lower()
    assert "multipart/form-data" in found.skipped["upload"]
    assert "Missing" in found.skipped["ghost"]
    for name in found.skipped:
        assert any(f"{name} skipped" in r.getMessage() for r in caplog.records), name
    tools = {t.name: t for t in found.tools}
    assert "listPets" in tools and not set(found.skipped) & set(tools)
    assert "getCode" not in {t.name for t in await openapi.load(
        doc, base_url=f"{api.url}/api", allow_hosts=["127.0.0.1"],
        ref_base=f"{api.url}/openapi.json",
    )}  # fmt: skip
    assert (await _call(tools["getPet"], {"petId": "7"}))["path"] == "/api/pets/7"
