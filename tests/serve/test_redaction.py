"""Error redaction: with it on, a handler's exception text (a DSN, a card number, a path) and an
upstream's answer never reach a remote caller on any transport; the caller gets the kind, a
generic message and an error id, the log keeps the full text under that id; validation errors
keep their messages so that a model can repair its call."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from serve_helpers import Started, start_serve, stop
from starlette.testclient import TestClient

import toolwire as tw
from toolwire.serve._app import create_app
from toolwire.serve._gen import tools_pb2, tools_pb2_grpc
from toolwire.serve._server import redacts_by_default
from toolwire.serve._service import ToolService

CARD = "4111111111111111"
DSN = "postgresql://admin:hunter2@10.0.0.5/pay"
TOKEN = "sk-live-0123456789"
SECRETS = (CARD, DSN, "hunter2", "/srv/pay/secrets.toml", TOKEN, "10.0.0.7")

TOOLS = f'''
import toolwire as tw


@tw.tool
def charge(card: str) -> str:
    """Charge a card."""
    raise RuntimeError(f"gateway rejected card {{card}} via {DSN}; see /srv/pay/secrets.toml")


@tw.tool
def upstream() -> str:
    """Ask the upstream service."""
    raise tw.ToolFailure("remote_error", "upstream 10.0.0.7 answered 500: token={TOKEN}")


@tw.tool
def count(n: int) -> int:
    """Echo a number."""
    return n
'''
ERROR_ID = re.compile(r"err_[0-9a-f]{16}")


def _serve(folder: Path, *flags: str) -> Started:
    (folder / "pay_tools.py").write_text(TOOLS)
    return start_serve(
        "--tools", str(folder / "pay_tools.py"), "--port", "0", "--grpc-port", "0", *flags
    )


@pytest.fixture(scope="module")
def redacting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    server = _serve(tmp_path_factory.mktemp("redacting"), "--redact-errors")
    try:
        yield server
    finally:
        stop(server.proc)


def _check_redacted(error: dict[str, object], kind: str, server: Started) -> str:
    """The error a caller got is generic; the server's log has the original under its id."""
    assert error["kind"] == kind
    text = json.dumps(error, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, (secret, text)
    details = error["details"]
    assert isinstance(details, dict)
    error_id = str(details["error_id"])
    assert ERROR_ID.fullmatch(error_id) and error_id in str(error["message"])
    logged = server.stderr.until(re.compile(re.escape(error_id)))
    line = json.loads(logged.string[logged.string.index("{") :])
    assert line["kind"] == kind and line["error_id"] == error_id
    return str(line["message"])


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.anyio
async def test_rest_grpc_and_mcp_send_only_the_kind_and_an_error_id(redacting: Started) -> None:
    card = {"card": CARD}
    async with httpx.AsyncClient(base_url=redacting.base, timeout=10) as http:
        one = await http.post("/v1/tools/charge/call", json=card)
        assert one.status_code == 500
        logged = _check_redacted(one.json()["error"], "execution_error", redacting)
        assert CARD in logged and DSN in logged  # the operator keeps the full text
        up = await http.post("/v1/tools/upstream/call", json={})
        assert up.status_code == 502
        assert TOKEN in _check_redacted(up.json()["error"], "remote_error", redacting)
        batch = await http.post(
            "/v1/calls", json={"calls": [{"name": "charge", "arguments": card}]}
        )
        _check_redacted(batch.json()["results"][0]["error"], "execution_error", redacting)
        # Errors toolwire writes itself stay repairable, echoed values and all.
        invalid = (await http.post("/v1/tools/count/call", json={"n": "七"})).json()["error"]
        assert invalid["kind"] == "invalid_arguments" and "七" in json.dumps(
            invalid, ensure_ascii=False
        )
        unknown = (await http.post("/v1/tools/cout/call", json={})).json()["error"]
        assert unknown["kind"] == "unknown_tool" and unknown["details"]["suggestions"] == ["count"]

    async with grpc.aio.insecure_channel(f"127.0.0.1:{redacting.grpc_port}") as channel:
        stub = tools_pb2_grpc.ToolServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CallTool(
                tools_pb2.CallToolRequest(name="charge", arguments_json=json.dumps(card))
            )
        assert info.value.code() == grpc.StatusCode.UNKNOWN
        for secret in SECRETS:
            assert secret not in (info.value.details() or "")
            for key, value in info.value.trailing_metadata() or ():
                shown = value.decode("latin-1") if isinstance(value, bytes) else value
                assert secret not in shown, key
        trailer = dict(info.value.trailing_metadata() or ())["toolwire-error"]
        _check_redacted(json.loads(trailer), "execution_error", redacting)

        async def requests() -> AsyncIterator[tools_pb2.CallToolRequest]:
            yield tools_pb2.CallToolRequest(name="upstream", call_id="s1")

        [streamed] = [m async for m in stub.CallTools(requests())]
        error = {
            "kind": streamed.error.kind,
            "message": streamed.error.message,
            "details": json.loads(streamed.error.details_json),
        }
        _check_redacted(error, "remote_error", redacting)

    http_client = httpx.AsyncClient(timeout=10)
    async with Client(
        streamable_http_client(f"{redacting.base}/mcp", http_client=http_client)
    ) as client:
        result = await client.call_tool("charge", card)
    assert result.is_error
    for secret in SECRETS:
        assert secret not in result.content[0].text
    # the error travels as the text content, as JSON
    _check_redacted(json.loads(result.content[0].text)["error"], "execution_error", redacting)


@pytest.mark.slow
def test_on_loopback_without_the_flag_the_text_is_sent(tmp_path: Path) -> None:
    for flags in ((), ("--no-redact-errors",)):
        server = _serve(tmp_path, *flags)
        try:
            assert "errors redacted" not in server.stderr.text
            with httpx.Client(base_url=server.base, timeout=10) as http:
                error = http.post("/v1/tools/charge/call", json={"card": CARD}).json()["error"]
        finally:
            stop(server.proc)
        assert CARD in error["message"] and "error_id" not in error["details"]


@pytest.mark.slow
def test_the_config_file_switches_it_and_the_ready_line_says_so(tmp_path: Path) -> None:
    config = tmp_path / "toolwire.toml"
    config.write_text("[server]\nredact_errors = true\n")
    server = _serve(tmp_path, "--config", str(config))
    try:
        assert "errors redacted" in server.stderr.text
        with httpx.Client(base_url=server.base, timeout=10) as http:
            error = http.post("/v1/tools/charge/call", json={"card": CARD}).json()["error"]
        assert CARD not in json.dumps(error)
    finally:
        stop(server.proc)
    config.write_text('[server]\nredact_errors = "yes"\n')
    with pytest.raises(RuntimeError, match="redact_errors must be true or false"):
        _serve(tmp_path, "--config", str(config))


def test_on_by_default_beyond_loopback() -> None:
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        assert redacts_by_default(host), host
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert not redacts_by_default(host), host


def test_readiness_problems_keep_their_text_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    async def redis() -> None:
        raise ConnectionError("cannot reach redis://:hunter2@10.0.0.5:6379/0")

    @tw.tool
    def noop() -> int:
        """Nothing."""
        return 0

    for redact, shown in ((True, False), (False, True)):
        service = ToolService(tw.Toolbox([noop]), ready_checks=[redis], redact_errors=redact)
        with TestClient(
            create_app(service, mcp=False, port=8765), base_url="http://127.0.0.1:8765"
        ) as client:
            answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["redis"].startswith("ConnectionError")
        assert ("hunter2" in answer.text) is shown
    assert "hunter2" in caplog.text  # the redacted run logged it
