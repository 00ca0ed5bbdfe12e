"""Who sees what, and whose records are whose, on a real ``toolwire serve``:

- a caller limited to some scopes lists only the tools it may call (REST list and dialect
  export, ``/openapi.json``, MCP ``tools/list``, gRPC ``ListTools``), and suggestions for a
  misspelt name never name a tool it may not call;
- the operational views (``/metrics``, ``/v1/dashboard``) need the ops scope;
- API-key ids and JWT subjects are different callers (``key:ops`` vs ``jwt:ops``) for
  per-caller caches, rate limits and idempotency records;
- names that are no tool, and callers, never become Prometheus series or dashboard rows.

Clients nobody here wrote: httpx for REST, PyJWT for tokens, the MCP SDK client, grpcio stubs.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import httpx2 as httpx
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from serve_helpers import ADMIN_KEY, KEY, SECRET, Server, child_env, start_serve, stop, token

from toolwire.serve._auth import hash_api_key
from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

pytestmark = pytest.mark.anyio
USER = {"X-API-Key": KEY}  # scopes: weather
ADMIN = {"X-API-Key": ADMIN_KEY}  # scopes: *
SERVED = {"get_weather", "fail", "slow", "admin_only", "whoami", "worker_pid"}


def _mcp(server: Server, headers: dict[str, str]) -> Client:
    http = create_mcp_http_client(headers=headers)
    return Client(streamable_http_client(f"{server.base}/mcp", http_client=http))


async def _grpc_names(server: Server, api_key: str) -> set[str]:
    async with grpc.aio.insecure_channel(server.grpc) as channel:
        stub = tools_pb2_grpc.ToolServiceStub(channel)
        listed = await stub.ListTools(
            tools_pb2.ListToolsRequest(dialect="openai"), metadata=(("x-api-key", api_key),)
        )
    exported = {t["function"]["name"] for t in json.loads(listed.export_json)}
    names = {t.name for t in listed.tools}
    assert names == exported
    return names


async def test_every_listing_shows_only_the_tools_a_caller_may_call(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for headers, hidden in ((USER, True), (ADMIN, False)):
            listed = {
                t["name"] for t in (await http.get("/v1/tools", headers=headers)).json()["tools"]
            }
            exported = (await http.get("/v1/tools?dialect=anthropic", headers=headers)).json()
            doc = (await http.get("/openapi.json", headers=headers)).json()
            paths = {p.split("/")[3] for p in doc["paths"] if p.startswith("/v1/tools/")}
            assert listed == {t["name"] for t in exported["tools"]}
            assert ("admin_only" not in listed) is hidden
            assert ("admin_only" not in paths) is hidden
            assert listed <= SERVED and listed >= {"get_weather", "whoami"}
        # Describing a tool one may not call is refused like calling it.
        assert (await http.get("/v1/tools/admin_only", headers=USER)).status_code == 403
        assert (await http.get("/v1/tools/admin_only", headers=ADMIN)).status_code == 200
        # Suggestions for a misspelt name name only tools the caller may call.
        for headers, suggested in ((USER, []), (ADMIN, ["admin_only"])):
            answer = await http.post("/v1/tools/admin_onl/call", json={}, headers=headers)
            error = answer.json()["error"]
            assert error["kind"] == "unknown_tool"
            assert error["details"]["suggestions"] == suggested
            assert ("admin_only" in error["message"]) is bool(suggested)

    async with _mcp(server, USER) as client:
        assert {t.name for t in (await client.list_tools()).tools} == listed - {"admin_only"}
    async with _mcp(server, ADMIN) as client:
        assert "admin_only" in {t.name for t in (await client.list_tools()).tools}
    assert "admin_only" not in await _grpc_names(server, KEY)
    assert "admin_only" in await _grpc_names(server, ADMIN_KEY)


async def test_operational_views_need_the_ops_scope(server: Server) -> None:
    ops_token = {"Authorization": f"Bearer {token('watcher', scope='ops')}"}
    weather_token = {"Authorization": f"Bearer {token('caller', scope='weather')}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for path in ("/metrics", "/v1/dashboard"):
            for headers in (USER, weather_token):
                refused = await http.get(path, headers=headers)
                assert refused.status_code == 403, path
                error = refused.json()["error"]
                assert error["kind"] == "forbidden" and error["details"]["missing_scopes"] == [
                    "ops"
                ]
                assert "get_weather" not in refused.text
            for headers in (ADMIN, ops_token):
                assert (await http.get(path, headers=headers)).status_code == 200, path
        # The page itself renders for anyone (it names no tool when auth is on).
        page = await http.get("/")
        assert page.status_code == 200 and "admin_only" not in page.text


async def test_names_that_are_no_tool_and_callers_add_no_series(server: Server) -> None:
    marker = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for i in range(300):
            caller = {"Authorization": f"Bearer {token(f'sub-{marker}-{i}')}"}
            answer = await http.post(f"/v1/tools/nope-{marker}-{i}/call", json={}, headers=caller)
            assert answer.status_code == 404
            assert answer.json()["name"] == f"nope-{marker}-{i}"  # the caller still sees its name
        async with grpc.aio.insecure_channel(server.grpc) as channel:
            stub = tools_pb2_grpc.ToolServiceStub(channel)
            for i in range(50):
                with pytest.raises(grpc.aio.AioRpcError):
                    await stub.CallTool(
                        tools_pb2.CallToolRequest(name=f"grpc-{marker}-{i}"),
                        metadata=(("x-api-key", KEY),),
                    )
        async with _mcp(server, USER) as client:
            for i in range(20):
                assert (await client.call_tool(f"mcp-{marker}-{i}", {})).is_error
        metrics = (await http.get("/metrics", headers=ADMIN)).text
        dashboard = (await http.get("/v1/dashboard", headers=ADMIN)).json()
    assert marker not in metrics
    labels = set(re.findall(r'toolwire_serve_calls_total\{[^}]*tool="([^"]*)"', metrics))
    assert labels <= SERVED | {"__unknown__"} and "__unknown__" in labels
    transports = re.findall(r'outcome="unknown_tool",tool="__unknown__",transport="(\w+)"', metrics)
    assert {"rest", "grpc", "mcp"} <= set(transports)
    assert set(dashboard["tools"]) <= SERVED | {"__unknown__"}
    assert dashboard["tools"]["__unknown__"]["errors_by_kind"]["unknown_tool"] >= 370
    assert marker not in json.dumps(dashboard["tools"])
    # The recent table is bounded (the last 200 calls) and shows the folded name.
    assert len(dashboard["recent"]) <= 200
    assert all(marker not in row["tool"] for row in dashboard["recent"])


TOOLS = '''
import itertools

import toolwire as tw

_n = itertools.count(1)


@tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=600.0, per_caller=True)))
def balance(ctx: tw.Context) -> dict:
    """A private figure, cached per caller."""
    return {"n": next(_n), "who": ctx.caller.id}


@tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=2, per=600.0, per_caller=True)))
def ping(ctx: tw.Context) -> str:
    """Two calls per caller per ten minutes."""
    return ctx.caller.id


@tw.tool
def order(item: str, ctx: tw.Context) -> dict:
    """Not idempotent: runs once per idempotency key and caller."""
    return {"n": next(_n), "who": ctx.caller.id, "item": item}
'''


@pytest.fixture(scope="module")
def namespaced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("namespaced")
    (folder / "ns_tools.py").write_text(TOOLS)
    config = folder / "toolwire.toml"
    config.write_text(
        f'[auth]\napi_keys = [{{ id = "ops", hash = "{hash_api_key(KEY)}", scopes = ["*"] }}]\n'
        '[auth.jwt]\nsecret_env = "TW_NS_SECRET"\n'
    )
    started = start_serve(
        "--config",
        str(config),
        "--tools",
        str(folder / "ns_tools.py"),
        "--port",
        "0",
        "--grpc-port",
        "-1",
        env=child_env(TW_NS_SECRET=SECRET),
    )
    try:
        yield started
    finally:
        stop(started.proc)


def _sub(subject: str, issuer: str | None = None) -> dict[str, str]:
    claims: dict[str, Any] = {"sub": subject, "scope": "*", "exp": int(time.time()) + 300}
    if issuer:
        claims["iss"] = issuer
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def test_a_token_subject_is_not_the_api_key_of_the_same_name(namespaced: Any) -> None:
    key = {"X-API-Key": KEY}  # the key configured with id "ops"
    as_token = _sub("ops")  # a token whose subject is "ops"
    other_issuer = _sub("ops", "https://other.idp")
    with httpx.Client(base_url=namespaced.base, timeout=10) as http:

        def call(tool: str, headers: dict[str, str], body: Any = None, **extra: str) -> Any:
            answer = http.post(
                f"/v1/tools/{tool}/call", json=body or {}, headers={**headers, **extra}
            )
            return answer.status_code, answer.json()

        # Per-caller cache: the token must not read the key's cached private result.
        _, mine = call("balance", key)
        _, again = call("balance", key)
        _, theirs = call("balance", as_token)
        _, elsewhere = call("balance", other_issuer)
        assert mine["value"] == again["value"] and again["cached"] is True
        assert theirs["cached"] is False and theirs["value"]["n"] != mine["value"]["n"]
        assert mine["value"]["who"] == "key:ops"
        assert theirs["value"]["who"] == "jwt:ops"
        assert elsewhere["value"]["who"] == "jwt:https://other.idp:ops"
        assert elsewhere["cached"] is False

        # Per-caller rate limit: the key's budget is its own.
        assert [call("ping", key)[0] for _ in range(3)] == [200, 200, 429]
        status, pong = call("ping", as_token)
        assert (status, pong["value"]) == (200, "jwt:ops")
        assert [call("ping", as_token)[0] for _ in range(2)] == [200, 429]

        # Idempotency records: the same key from the two callers runs twice, once each.
        idem = {"Idempotency-Key": f"order-{uuid.uuid4().hex}"}
        _, first = call("order", key, {"item": "a"}, **idem)
        _, replay = call("order", key, {"item": "a"}, **idem)
        _, token_first = call("order", as_token, {"item": "a"}, **idem)
        assert first["value"] == replay["value"]
        assert token_first["value"]["who"] == "jwt:ops"
        assert token_first["value"]["n"] != first["value"]["n"]


def test_the_ops_scope_is_configurable() -> None:
    from toolwire.config import ConfigError, parse_config
    from toolwire.serve._auth import Authenticator
    from toolwire.serve._config import auth_from

    entry = {"id": "mon", "hash": hash_api_key(KEY), "scopes": ["monitoring"]}
    auth = Authenticator(
        auth_from(parse_config({"auth": {"api_keys": [entry], "ops_scope": "monitoring"}}))
    )
    caller = auth.authenticate(api_key=KEY)
    assert caller.id == "key:mon" and auth.is_ops(caller)
    default = Authenticator(auth_from(parse_config({"auth": {"api_keys": [entry]}})))
    assert not default.is_ops(default.authenticate(api_key=KEY))
    for bad in ("", "two words", 3):
        with pytest.raises(ConfigError, match="ops_scope"):
            auth_from(parse_config({"auth": {"api_keys": [entry], "ops_scope": bad}}))


@pytest.mark.slow
def test_the_dashboard_page_without_the_ops_scope(server: Server) -> None:
    """In headless Chromium: a key without the ops scope sees its own tools, may call them,
    and is told why the live figures are hidden (the page stops asking); an ops key sees them."""
    from pathlib import Path as _Path

    from service_checks import need

    need(
        _Path("/usr/bin/chromium").exists(), "chromium is not installed (apt-get install chromium)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/v1/dashboard" in r.url else None)
            page.goto(server.base + "/")
            assert "admin_only" not in page.content()
            page.fill("#token", KEY)
            page.click("#auth button")
            page.wait_for_selector("#tool-list button[data-tool='get_weather']")
            page.wait_for_function(
                "document.querySelector('#status').textContent.includes(\"scope 'ops'\")"
            )
            assert page.query_selector("#tool-list button[data-tool='admin_only']") is None
            page.click("#tool-list button[data-tool='get_weather']")
            page.fill("#args", '{"location": "杭州"}')
            page.click("#call-btn")
            page.wait_for_selector("#call-result.ok")
            page.wait_for_timeout(1500)  # would have polled again by now
            assert len(asked) == 1, asked

            ops = browser.new_page()
            ops.goto(server.base + "/")
            ops.fill("#token", ADMIN_KEY)
            ops.click("#auth button")
            ops.wait_for_selector("#tool-list button[data-tool='admin_only']")
            ops.wait_for_selector("#stats tbody tr:has-text('get_weather')")
            assert not errors, errors
        finally:
            browser.close()


def test_the_mcp_inspector_and_curl_see_the_same(server: Server, tmp_path: Path) -> None:
    """Third-party clients: the MCP Inspector CLI lists only the caller's tools; curl is refused
    /metrics without the ops scope."""
    import shutil
    import subprocess

    from service_checks import need

    root = Path(__file__).parents[1] / "conformance" / "node_modules" / "@modelcontextprotocol"
    launcher = root / "inspector" / "clients" / "launcher" / "build" / "index.js"
    node = shutil.which("node")
    need(node is not None and launcher.exists(), "npm ci in tests/conformance for the Inspector")
    curl = shutil.which("curl")
    need(curl is not None, "curl is not installed")
    assert node is not None and curl is not None

    def inspector(key: str) -> set[str]:
        headers = ("--header", f"X-API-Key: {key}", "--method", "tools/list")
        done = subprocess.run(
            [node, str(launcher), "--cli", f"{server.base}/mcp", "--transport", "http", *headers],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MCP_CATALOG_PATH": str(tmp_path / f"{key[-6:]}.json")},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return {t["name"] for t in json.loads(done.stdout)["tools"]}

    assert "admin_only" not in inspector(KEY) and "get_weather" in inspector(KEY)
    assert "admin_only" in inspector(ADMIN_KEY)
    url = f"{server.base}/metrics"
    for key, status in ((KEY, "403"), (ADMIN_KEY, "200")):
        done = subprocess.run(
            [curl, "-s", "-o", os.devnull, "-w", "%{http_code}", "-H", f"X-API-Key: {key}", url],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.stdout == status, (key, done.stdout, done.stderr)
