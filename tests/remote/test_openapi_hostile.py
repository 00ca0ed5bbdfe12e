"""Hostile OpenAPI documents: local file inclusion through ``$ref``, YAML alias bombs, and
documents too large or too deep.

A document fetched over HTTP is the remote server's to write, so it must not be able to read
this machine's files into a tool schema (which then goes to the model and every export), nor
exhaust memory while being read.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from toolwire.remote import _refs, openapi
from toolwire.remote._http import close_clients
from toolwire.remote._refs import RefError, parse_document

SECRET = "tw-secret-7f3a"


def _doc(schema: dict[str, Any]) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": schema}}}
    return {
        "openapi": "3.1.0",
        "paths": {"/things": {"post": {"operationId": "make", "requestBody": body}}},
    }


@dataclass
class Served:
    """Documents served over HTTP on loopback, by path."""

    url: str = ""
    files: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    state = Served()

    async def document(request: web.Request) -> web.Response:
        state.hits.append(request.path)
        text = state.files.get(request.path)
        if text is None:
            return web.Response(status=404)
        return web.Response(text=text, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", document)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        async with asyncio.timeout(10):
            try:
                await close_clients()
            finally:
                await runner.cleanup()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.json"
    path.write_text(json.dumps({"type": "string", "description": SECRET}))
    return path


async def _load(url: str, **kw: Any) -> list[Any]:
    kw.setdefault("base_url", "http://127.0.0.1:9")
    return await openapi.load(url, allow_hosts=["127.0.0.1"], **kw)


# --- local file inclusion -------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_document_fetched_over_http_cannot_read_a_local_file(
    served: Served, secret_file: Path
) -> None:
    ref = secret_file.as_uri()
    served.files["/api.json"] = json.dumps(_doc({"$ref": ref}))
    with pytest.raises(RefError) as info:
        await _load(f"{served.url}/api.json")  # main put SECRET into the tool's schema
    assert ref in str(info.value) and "HTTP" in str(info.value)
    # deeper down: an HTTP document that an HTTP document refers to
    served.files["/outer.json"] = json.dumps(_doc({"$ref": "inner.json#/S"}))
    served.files["/inner.json"] = json.dumps({"S": {"$ref": f"{ref}#"}})
    with pytest.raises(RefError, match=r"secret\.json"):
        await _load(f"{served.url}/outer.json")


@pytest.mark.anyio
@pytest.mark.parametrize("ref", ["file:/etc/hostname", "ftp://127.0.0.1/x.json", "data:,{}"])
async def test_an_http_document_resolves_refs_only_over_http(served: Served, ref: str) -> None:
    served.files["/api.json"] = json.dumps(_doc({"$ref": ref}))
    with pytest.raises(RefError, match="only"):
        await _load(f"{served.url}/api.json")


@pytest.mark.anyio
async def test_relative_refs_of_an_http_document_are_fetched_over_http(
    served: Served, tmp_path: Path
) -> None:
    # a file beside the process's working directory with the same name must not be read
    (tmp_path / "common.json").write_text(json.dumps({"S": {"description": SECRET}}))
    served.files["/specs/api.json"] = json.dumps(_doc({"$ref": "common.json#/S"}))
    served.files["/specs/common.json"] = json.dumps({"S": {"type": "object", "title": "remote"}})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        tools = await _load(f"{served.url}/specs/api.json")
    finally:
        os.chdir(cwd)
    assert tools[0].spec.input_schema["properties"]["body"]["title"] == "remote"
    assert "/specs/common.json" in served.hits


@pytest.mark.anyio
async def test_a_dict_spec_with_an_http_base_cannot_read_files(
    served: Served, secret_file: Path
) -> None:
    with pytest.raises(RefError, match="only"):
        await openapi.load(
            _doc({"$ref": secret_file.as_uri()}),
            base_url="http://127.0.0.1:9",
            ref_base=f"{served.url}/api.json",
            allow_hosts=["127.0.0.1"],
        )


@pytest.mark.anyio
async def test_a_file_document_may_refer_to_files_and_to_http(
    served: Served, secret_file: Path, tmp_path: Path
) -> None:
    served.files["/remote.json"] = json.dumps({"R": {"type": "integer"}})
    spec = _doc(
        {
            "type": "object",
            "properties": {
                "local": {"$ref": "secret.json"},
                "remote": {"$ref": f"{served.url}/remote.json#/R"},
            },
        }
    )
    (tmp_path / "api.json").write_text(json.dumps(spec))
    tools = await _load(str(tmp_path / "api.json"))
    props = tools[0].spec.input_schema["properties"]
    assert props["local"]["description"] == SECRET and props["remote"] == {"type": "integer"}
    # ...but the HTTP document it fetched may not, even by a path relative to nothing local
    served.files["/remote.json"] = json.dumps({"R": {"$ref": secret_file.as_uri()}})
    with pytest.raises(RefError, match="HTTP"):
        await _load(str(tmp_path / "api.json"))


# --- YAML aliases ---------------------------------------------------------------------------


def _laughs(levels: int) -> str:
    """The classic alias bomb, as an OpenAPI document: each level aliases the one below 9 times."""
    lines = ["openapi: 3.1.0", "x-lol:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    lines.append("paths:")
    lines.append("  /x:")
    lines.append("    post:")
    lines.append("      requestBody:")
    lines.append("        content:")
    lines.append("          application/json:")
    lines.append(f"            schema: {{type: object, enum: *l{levels}}}")
    return "\n".join(lines) + "\n"


def test_yaml_alias_expansion_is_bounded() -> None:
    text = _laughs(6)  # 9**6 * 6 = 3.2 million strings once expanded
    assert len(text) < 1000
    with pytest.raises(RefError, match="alias"):
        parse_document(text, "bomb.yaml")


def test_ordinary_yaml_aliases_still_work() -> None:
    text = textwrap.dedent(
        """\
        openapi: 3.1.0
        x-common: &err {type: object, properties: {message: {type: string}}}
        paths:
          /a: {get: {responses: {'404': {content: {application/json: {schema: *err}}}}}}
          /b: {get: {responses: {'404': {content: {application/json: {schema: *err}}}}}}
        base: &base {a: 1, b: 2}
        merged: {<<: *base, c: 3}
        """
    )
    doc = parse_document(text, "ok.yaml")
    assert doc["paths"]["/b"]["get"]["responses"]["404"]["content"]["application/json"][
        "schema"
    ] == {"type": "object", "properties": {"message": {"type": "string"}}}
    assert doc["merged"] == {"a": 1, "b": 2, "c": 3}


def test_a_recursive_yaml_alias_is_refused() -> None:
    with pytest.raises(RefError, match="alias"):
        parse_document("a: &a [1, *a]\n", "loop.yaml")


def test_an_8_level_bomb_stays_within_a_memory_cap(tmp_path: Path) -> None:
    """The reported shape (a 642-byte document took 1 GB at 7 levels and aborted the process
    at 8; this one is 587 bytes), loaded in a child that may use 1 GB of address space."""
    spec = tmp_path / "bomb.yaml"
    spec.write_text(_laughs(8))
    script = textwrap.dedent(
        f"""\
        import asyncio, resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from toolwire.remote import openapi
        from toolwire.remote._refs import RefError
        try:
            asyncio.run(openapi.load({str(spec)!r}, base_url="http://127.0.0.1:9"))
        except RefError as exc:
            print("refused:", exc)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused:") and "alias" in done.stdout


# --- size and depth -------------------------------------------------------------------------


def test_deep_documents_are_refused_with_a_clear_error() -> None:
    deep_yaml = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(RefError, match="deep"):
        parse_document(deep_yaml, "deep.yaml")
    deep_json = '{"a": ' + "[" * 900 + "]" * 900 + "}"
    with pytest.raises(RefError, match="deep"):
        parse_document(deep_json, "deep.json")


@pytest.mark.anyio
async def test_a_deeply_nested_schema_fails_cleanly_not_with_recursion_error(
    served: Served,
) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(400):  # 800 levels of JSON: within orjson's limit, beyond any real schema
        schema = {"type": "object", "properties": {"x": schema}}
    served.files["/deep.json"] = json.dumps(_doc(schema))
    with pytest.raises(RefError, match="deep"):
        await _load(f"{served.url}/deep.json")


@pytest.mark.anyio
async def test_refs_cannot_stack_into_a_schema_deeper_than_the_limit(served: Served) -> None:
    """Each document is shallow, but inlining 60 refs of 20 levels each would nest 1,200 deep."""
    defs: dict[str, Any] = {}
    for i in range(60):
        inner: dict[str, Any] = {"$ref": f"#/$x/D{i + 1}"} if i < 59 else {"type": "string"}
        for _ in range(10):
            inner = {"type": "object", "properties": {"y": inner}}
        defs[f"D{i}"] = inner
    served.files["/stack.json"] = json.dumps({**_doc({"$ref": "#/$x/D0"}), "$x": defs})
    found = await openapi.discover(
        f"{served.url}/stack.json", base_url="http://127.0.0.1:9", allow_hosts=["127.0.0.1"]
    )
    assert found.tools == []  # one operation that cannot be a tool is skipped, with the reason
    assert "levels deep once its $refs are inlined" in found.skipped["make"]


@pytest.mark.anyio
async def test_document_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_refs, "MAX_DOCUMENT_BYTES", 4096, raising=False)
    big = _doc({"type": "object", "description": "x" * 5000})
    (tmp_path / "big.json").write_text(json.dumps(big))
    with pytest.raises(RefError, match="4096 bytes"):
        await openapi.load(str(tmp_path / "big.json"), base_url="http://127.0.0.1:9")
    with pytest.raises(RefError, match="4096 bytes"):
        parse_document(json.dumps(big), "big.json")
