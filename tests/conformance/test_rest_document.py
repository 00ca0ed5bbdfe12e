"""The REST server does what its own ``/openapi.json`` says (the regressions schemathesis found).

Limits are read from the served document, not restated here: the ``Idempotency-Key`` header and
batch ``idempotency_key`` are strings of ``minLength`` to ``maxLength`` characters, batch ``id``
is a string, ``dialect`` is one of its enum, the body is the arguments object, and a key used
again with other arguments is a 409 conflict (it was a 400 ``invalid_arguments``, which says the
arguments are wrong when they are not). Every refusal body is checked against the response
schema the document gives for its status. Before the fix an empty key was one key shared by
every call of the caller (on a server without auth: by everyone), and none of these limits was
enforced.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import jsonschema
import pytest
from conformance_helpers import USER_KEY, Served, serve

pytestmark = pytest.mark.anyio
HEADERS = {"X-API-Key": USER_KEY}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("rest"), grpc=False) as server:
        yield server


@pytest.fixture
async def http(served: Served) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(served.base, headers=HEADERS) as session:
        yield session


async def document(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/openapi.json") as r:
        assert r.status == 200
        doc: dict[str, Any] = await r.json()
        return doc


def check_against(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """``body`` matches the schema the document declares for ``status`` of that operation."""
    responses = doc["paths"][path][method]["responses"]
    declared = responses.get(str(status)) or responses["default"]
    schema = declared["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]})


async def call(
    http: aiohttp.ClientSession, tool: str, body: Any, key: str | None = None, raw: bool = False
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if raw else None
    async with http.post(
        f"/v1/tools/{tool}/call", data=data, json=None if raw else body, headers=headers
    ) as r:
        return r.status, await r.json()


async def test_idempotency_key_length_is_what_the_document_says(
    http: aiohttp.ClientSession,
) -> None:
    doc = await document(http)
    path = "/v1/tools/as_int/call"
    [header] = [p for p in doc["paths"][path]["post"]["parameters"] if p["in"] == "header"]
    low, high = header["schema"]["minLength"], header["schema"]["maxLength"]
    assert (low, high) == (1, 200)
    for key in ("", "k" * (high + 1)):
        status, body = await call(http, "as_int", {"n": 1}, key)
        assert status == 400, (len(key), body)
        assert body["error"]["kind"] == "invalid_arguments" and body["attempts"] == 0
        check_against(doc, path, "post", status, body)
    status, body = await call(http, "as_int", {"n": 1}, (uuid.uuid4().hex * 7)[:high])
    assert status == 200, body


async def test_an_empty_key_is_not_one_key_shared_by_every_call(
    http: aiohttp.ClientSession,
) -> None:
    first = await call(http, "as_str", {"text": "a"}, "")
    second = await call(http, "as_str", {"text": "b"}, "")
    assert [first[0], second[0]] == [400, 400]  # before: 200, then "already used" or 'a'


async def test_a_key_reused_with_other_arguments_is_a_conflict(
    http: aiohttp.ClientSession,
) -> None:
    doc = await document(http)
    key = uuid.uuid4().hex
    assert (await call(http, "as_int", {"n": 1}, key))[0] == 200
    again = await call(http, "as_int", {"n": 1}, key)
    assert again[0] == 200 and again[1]["value"] == 1  # the same call: answered once
    status, body = await call(http, "as_int", {"n": 2}, key)
    assert status == 409, body
    assert body["error"]["details"]["reason"] == "idempotency_key_reused"
    check_against(doc, "/v1/tools/as_int/call", "post", status, body)
    assert "409" in doc["paths"]["/v1/tools/as_int/call"]["post"]["responses"]


async def test_the_body_is_the_arguments_object(http: aiohttp.ClientSession) -> None:
    doc = await document(http)
    for body in (b"null", b"[]", b'"x"', b"3"):
        status, answer = await call(http, "as_none", body, raw=True)
        assert status == 400, (body, answer)
        check_against(doc, "/v1/tools/as_none/call", "post", status, answer)
    assert (await call(http, "as_none", b"", raw=True))[0] == 200  # no body: no arguments
    assert (await call(http, "as_none", {}))[0] == 200


async def test_dialect_must_be_one_of_the_enum(http: aiohttp.ClientSession) -> None:
    doc = await document(http)
    [param] = doc["paths"]["/v1/tools"]["get"]["parameters"]
    for dialect in ("", "OPENAI", "北京"):
        async with http.get("/v1/tools", params={"dialect": dialect}) as r:
            assert r.status == 400, (dialect, await r.text())
            check_against(doc, "/v1/tools", "get", 400, await r.json())
    for dialect in param["schema"]["enum"]:
        async with http.get("/v1/tools", params={"dialect": dialect}) as r:
            assert r.status == 200, dialect


BAD_BATCH_ITEMS = [
    {"name": "as_int", "arguments": {"n": 1}, "idempotency_key": 5},
    {"name": "as_int", "arguments": {"n": 1}, "idempotency_key": ""},
    {"name": "as_int", "arguments": {"n": 1}, "idempotency_key": "k" * 201},
    {"name": "as_int", "arguments": {"n": 1}, "id": 5},
    {"name": "as_int", "arguments": 5},
    {"name": 5},
]


async def test_batch_body_is_an_object_with_calls(http: aiohttp.ClientSession) -> None:
    doc = await document(http)
    for body in ([], [{"name": "as_none"}], {"calls": {}}, {}):
        async with http.post("/v1/calls", json=body) as r:
            assert r.status == 400, (body, await r.text())  # a bare list was taken as the calls
            check_against(doc, "/v1/calls", "post", 400, await r.json())


@pytest.mark.parametrize("item", BAD_BATCH_ITEMS, ids=[str(i) for i in range(6)])
async def test_batch_fields_have_the_documented_types(
    http: aiohttp.ClientSession, item: dict[str, Any]
) -> None:
    doc = await document(http)
    async with http.post("/v1/calls", json={"calls": [item]}) as r:
        assert r.status == 400, (item, await r.text())
        check_against(doc, "/v1/calls", "post", 400, await r.json())


async def test_batch_accepts_what_the_document_allows(http: aiohttp.ClientSession) -> None:
    calls = [
        {"name": "as_int", "arguments": '{"n": 3}', "id": "text"},
        {"name": "as_int", "arguments": {"n": 4}, "id": None, "idempotency_key": None},
        {"name": "as_int", "arguments": {"n": 5}, "idempotency_key": uuid.uuid4().hex},
    ]
    async with http.post("/v1/calls", json={"calls": calls}) as r:
        assert r.status == 200, await r.text()
        results = (await r.json())["results"]
    assert [x["value"] for x in results] == [3, 4, 5]
