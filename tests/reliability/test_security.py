"""Hostile requests against a real ``toolwire serve``: path and header tricks around auth,
oversized and deeply nested payloads. Never a 200 without credentials, never a 5xx, and the
server keeps answering afterwards. (Per-transport bad-credential cases live in tests/serve.)
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from reliability_serve import start_serve, stop
from yarl import URL

from toolwire.serve._auth import hash_api_key

pytestmark = pytest.mark.anyio
KEY = "tw_rel_key_0123456789abcdef0123"
CONFIG = f"""
[server]
log_level = "error"

[server.limits]
max_body_bytes = 262144

[auth]
api_keys = [{{ id = "rel", hash = "{hash_api_key(KEY)}", scopes = ["*"] }}]
"""

PATHS = [
    "/v1/tools/get_weather/call",
    "/v1/tools/get_weather/call/",
    "//v1/tools/get_weather/call",
    "/v1/tools/%67et_weather/call",
    "/v1/tools/get_weather/call?api_key=" + KEY,
    "/v1/tools/./get_weather/call",
    "/v1/tools/x/../get_weather/call",
    "/V1/tools/get_weather/call",
    "/v1/calls",
    "/v1/tools",
    "/mcp",
    "/mcp/",
]
HEADERS = [
    {},
    {"X-API-Key": ""},
    {"X-API-Key": KEY[:-1]},
    {"X-API-Key": KEY + "x"},
    {"X-API-Key": KEY.upper()},
    {"Authorization": KEY},
    {"Authorization": f"Bearer {KEY}x"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer e30.e30."},  # alg-less token: {} . {} .
    {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},  # alg=none
    {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
    {"X-HTTP-Method-Override": "GET"},
    {"X-Original-URL": "/healthz", "X-Rewrite-URL": "/healthz"},
]


@pytest.fixture
async def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    served = start_serve(tmp_path / "serve", CONFIG)
    try:
        yield served
    finally:
        stop(served.proc)


async def test_no_way_around_auth(server) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"location": "北京"}).encode()
    seen = {}
    async with aiohttp.ClientSession() as s:
        for path in PATHS:
            url = URL(server.base + path, encoded=True)  # sent exactly as written
            for headers in HEADERS:
                method = "GET" if path == "/v1/tools" else "POST"
                # JSON content type on every attempt: the request must reach authentication,
                # not be turned away earlier as 415
                sent = {"Content-Type": "application/json", **headers}
                async with s.request(method, url, data=body, headers=sent) as r:
                    seen[(path, json.dumps(headers))] = r.status
        ok_url = URL(server.base + PATHS[0])
        ok_headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
        async with s.post(ok_url, data=body, headers=ok_headers) as r:
            assert r.status == 200  # the same request with the key works
    allowed = {k: v for k, v in seen.items() if v < 300}
    errors = {k: v for k, v in seen.items() if v >= 500}
    assert allowed == {}, f"answered without valid credentials: {allowed}"
    assert errors == {}, f"server errors: {errors}"


async def test_oversized_and_deep_payloads_get_clear_errors(server) -> None:  # type: ignore[no-untyped-def]
    # a JSON content type, so that every payload reaches the argument parser and its limits
    auth = {"X-API-Key": KEY, "Content-Type": "application/json"}
    payloads = {
        "deep object": '{"location": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
        "deep array": '{"location": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "unclosed deep": '{"location": ' + "[" * 100_000,
        "huge number": '{"location": ' + "9" * 100_000 + "}",
        "huge string": '{"location": "' + "x" * 200_000 + '"}',
        "many keys": "{" + ",".join(f'"k{i}": {i}' for i in range(20_000)) + "}",
        "over the body limit": '{"location": "' + "x" * 400_000 + '"}',
        "nul bytes": '{"location": "\u0000\u0000"}',
        "lone surrogate": '{"location": "\\ud800"}',
        "not utf-8": b'{"location": "\xff\xfe"}',
    }
    async with aiohttp.ClientSession(base_url=server.base) as s:
        for name, payload in payloads.items():
            data = payload if isinstance(payload, bytes) else payload.encode()
            async with s.post("/v1/tools/get_weather/call", data=data, headers=auth) as r:
                assert r.status < 500, (name, r.status, await r.text())
                if r.status >= 400:
                    err = (await r.json())["error"]
                    assert err["kind"] in ("invalid_arguments", "too_large"), (name, err)
                    assert err["message"]
            batch = {"calls": [{"name": "get_weather", "arguments": payload}]}
            if isinstance(payload, str) and len(payload) < 250_000:
                async with s.post("/v1/calls", json=batch, headers=auth) as r:
                    assert r.status < 500, (name, r.status)
        async with s.get("/healthz") as r:  # still alive and well
            assert r.status == 200
        async with s.post(
            "/v1/tools/get_weather/call", json={"location": "北京"}, headers=auth
        ) as r:
            assert r.status == 200
