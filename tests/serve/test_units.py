"""Status table, auth (API keys, HS256, RS256 + JWKS), limits, audit, config, bind refusal."""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st
from serve_helpers import serve_command

from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import ERROR_KINDS, InvalidArguments, ToolError, ToolFailure
from toolwire._status import STATUS, http_status
from toolwire.config import ConfigError, load_config, parse_config
from toolwire.runtime._policy import Policy, Retry
from toolwire.serve._audit import REDACTED, audit, audit_record
from toolwire.serve._auth import (
    ApiKey,
    AuthConfig,
    Authenticator,
    JwtSettings,
    hash_api_key,
    new_api_key,
)
from toolwire.serve._config import auth_from, limits_from
from toolwire.serve._limits import (
    InFlight,
    Limits,
    check_arguments,
    json_depth,
    parse_arguments,
)
from toolwire.serve._server import RefusedToStart, check_bind
from toolwire.serve._stats import CallStats


def test_every_kind_has_one_status() -> None:
    assert set(STATUS) == set(ERROR_KINDS)
    assert http_status("invalid_arguments") == 400
    assert http_status("rate_limited") == 429
    assert http_status("circuit_open") == 503
    assert STATUS["timeout"].grpc == "DEADLINE_EXCEEDED"
    import grpc

    for status in STATUS.values():
        assert getattr(grpc.StatusCode, status.grpc).value[0] == status.grpc_value


def test_api_keys_hashed_and_scoped() -> None:
    key = new_api_key()
    auth = Authenticator(
        AuthConfig(
            api_keys=(ApiKey(id="ci", hash=hash_api_key(key), scopes=frozenset({"read"})),),
            tool_scopes={"db_*": frozenset({"db"}), "*": frozenset({"read"})},
        )
    )
    caller = auth.authenticate(api_key=key)
    assert caller.id == "key:ci" and caller.credentials == key
    assert auth.authenticate(authorization=f"Bearer {key}").id == "key:ci"
    assert auth.allowed(caller, "get_weather")
    with pytest.raises(ToolFailure) as info:
        auth.authorize(caller, "db_query")
    assert info.value.kind == "forbidden" and "db" in info.value.message
    for bad in ({"api_key": key + "x"}, {"authorization": "Token abc"}, {}):
        with pytest.raises(ToolFailure) as info:
            auth.authenticate(**bad)
        assert info.value.kind == "unauthorized"
    with pytest.raises(ValueError, match="sha256"):
        ApiKey(id="x", hash="plaintext-key")
    assert key not in repr(caller)


def test_no_auth_means_anonymous_with_every_tool() -> None:
    auth = Authenticator()
    caller = auth.authenticate()
    assert caller.id == "anonymous"
    auth.authorize(caller, "anything")


def test_jwt_hs256() -> None:
    secret = "s" * 40
    auth = Authenticator(
        AuthConfig(
            jwt=JwtSettings(secret=secret, audience="tw"), tool_scopes={"x": frozenset({"x"})}
        )
    )
    now = time.time()
    good = jwt.encode({"sub": "ann", "aud": "tw", "exp": now + 60, "scope": "x y"}, secret)
    caller = auth.authenticate(authorization=f"Bearer {good}")
    assert caller.id == "jwt:ann" and caller.scopes == {"x", "y"} and caller.claims["aud"] == "tw"
    auth.authorize(caller, "x")
    cases = {
        "expired": jwt.encode({"sub": "a", "aud": "tw", "exp": now - 100}, secret),
        "wrong audience": jwt.encode({"sub": "a", "aud": "other", "exp": now + 60}, secret),
        "no exp": jwt.encode({"sub": "a", "aud": "tw"}, secret),
        "no sub": jwt.encode({"aud": "tw", "exp": now + 60}, secret),
        "other secret": jwt.encode({"sub": "a", "aud": "tw", "exp": now + 60}, "t" * 40),
        "none alg": jwt.encode({"sub": "a", "aud": "tw", "exp": now + 60}, None, algorithm="none"),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    }
    for name, token in cases.items():
        with pytest.raises(ToolFailure) as info:
            auth.authenticate(authorization=f"Bearer {token}")
        assert info.value.kind == "unauthorized", name
    with pytest.raises(ToolFailure, match="expired"):
        auth.authenticate(authorization=f"Bearer {cases['expired']}")


def test_jwt_rs256_with_jwks(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (tmp_path / "toolwire.toml").write_text(
        '[auth.jwt]\njwks_file = "jwks.json"\nissuer = "https://issuer.test"\n'
        '[auth.scopes]\n"get_*" = ["weather"]\n'
    )
    auth = Authenticator(auth_from(load_config(tmp_path / "toolwire.toml")))
    claims = {
        "sub": "svc",
        "iss": "https://issuer.test",
        "exp": time.time() + 60,
        "scope": "weather",
    }
    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    caller = auth.authenticate(authorization=f"Bearer {good}")
    assert caller.id == "jwt:https://issuer.test:svc"
    auth.authorize(caller, "get_weather")
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    unknown_kid = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k9"})
    # An HS256 token signed with the public key must not pass (algorithm confusion).
    for token in (forged, unknown_kid):
        with pytest.raises(ToolFailure) as info:
            auth.authenticate(authorization=f"Bearer {token}")
        assert info.value.kind == "unauthorized"
    no_scope = jwt.encode(
        {**claims, "scope": ""}, private, algorithm="RS256", headers={"kid": "k1"}
    )
    with pytest.raises(ToolFailure) as info:
        auth.authorize(auth.authenticate(authorization=f"Bearer {no_scope}"), "get_weather")
    assert info.value.kind == "forbidden"


def test_argument_limits() -> None:
    limits = Limits(max_argument_bytes=100, max_depth=3)
    value, text = parse_arguments("t", b'{"a": {"b": [1]}}', limits)
    assert value == {"a": {"b": [1]}} and text == b'{"a": {"b": [1]}}'
    assert parse_arguments("t", None, limits) == ({}, "{}")
    with pytest.raises(ToolFailure) as info:
        parse_arguments("t", b'{"a": "' + b"x" * 200 + b'"}', limits)
    assert info.value.kind == "too_large"
    with pytest.raises(ToolFailure) as info:
        parse_arguments("t", {"a": {"b": {"c": {}}}}, limits)
    assert info.value.kind == "too_large"
    for bad in (b"[1]", b"{oops", b'"text"'):
        with pytest.raises(InvalidArguments):
            parse_arguments("t", bad, limits)
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises((ToolFailure, InvalidArguments)):
        parse_arguments("t", deep, Limits(max_argument_bytes=20000, max_depth=3))


def test_check_arguments_passes_shallow_text_on_and_checks_the_rest() -> None:
    limits = Limits(max_argument_bytes=100, max_depth=3)
    # Shallow text goes on unparsed (the toolbox parses it once), bytes decoded to text.
    assert check_arguments("t", b'{"a": [1]}', limits) == '{"a": [1]}'
    assert check_arguments("t", "not json", limits) == "not json"
    assert check_arguments("t", None, limits) == "{}"
    assert check_arguments("t", {"a": 1}, limits) == b'{"a":1}'
    with pytest.raises(InvalidArguments) as bad:
        check_arguments("t", b'{"a": "\xff"}', limits)
    assert "UTF-8" in str(bad.value)
    with pytest.raises(ToolFailure) as info:
        check_arguments("t", "x" * 101, limits)
    assert info.value.kind == "too_large"
    with pytest.raises(ToolFailure) as info:
        check_arguments("t", '{"a": {"b": {"c": {"d": 1}}}}', limits)
    assert info.value.kind == "too_large"
    # Brackets inside strings only send text to the full check, which lets it through.
    assert check_arguments("t", '{"a": "[[[[{{{{"}', limits) == '{"a": "[[[[{{{{"}'


@given(
    st.recursive(
        st.integers() | st.text(max_size=3),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=2), c, max_size=3),
        max_leaves=20,
    )
)
def test_json_depth_matches_a_recursive_definition(value: object) -> None:
    def depth(v: object) -> int:
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        return 0

    assert json_depth(value) == depth(value)


def test_in_flight_limit() -> None:
    gate = InFlight(Limits(max_in_flight=2))
    gate.enter()
    gate.enter()
    with pytest.raises(ToolFailure) as info:
        gate.enter()
    assert info.value.kind == "rate_limited" and info.value.retry_after == 1.0
    gate.exit()
    gate.enter()


def test_audit_redacts_unless_the_tool_opts_in(caplog: pytest.LogCaptureFixture) -> None:
    result = ToolResult(
        call_id="c1", name="pay", ok=False, error=ToolError(kind="timeout", message="m")
    )
    caller = Caller(id="ann", credentials="secret-token")
    record = audit_record(
        transport="rest",
        caller=caller,
        tool="pay",
        result=result,
        latency_s=0.0123,
        arguments={"card": "4111"},
    )
    assert record["arguments"] == REDACTED and record["outcome"] == "timeout"
    assert record["caller"] == "ann" and record["latency_ms"] == 12.3
    with caplog.at_level(logging.INFO, logger="toolwire.audit"):
        audit(
            transport="grpc",
            caller=caller,
            tool="pay",
            result=result,
            latency_s=0.001,
            arguments={"card": "4111"},
            show_arguments=True,
        )
    line = json.loads(caplog.records[-1].getMessage())
    assert line["arguments"] == {"card": "4111"} and line["transport"] == "grpc"
    assert "secret-token" not in caplog.text


def test_config_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "toolwire.toml"
    path.write_text(
        """
[server]
port = 9000
[server.limits]
max_batch = 7
[state]
backend = "memory"
[policies."get_*"]
timeout = 2.0
retry = { attempts = 2, retry_on = ["timeout"] }
[policies."get_weather"]
concurrency = 4
[[sources]]
module = "json"
[models.local]
base_url = "http://127.0.0.1:1/v1"
model = "m"
api_key_env = "LOCAL_KEY"
"""
    )
    monkeypatch.setenv("TOOLWIRE_PORT", "9100")
    cfg = load_config(path)
    assert cfg.server["port"] == 9100  # env beats the file
    assert limits_from(cfg).max_batch == 7
    policy = cfg.policy_for("get_weather")
    assert policy == Policy(
        timeout=2.0, retry=Retry(attempts=2, retry_on=("timeout",)), concurrency=4
    )
    assert cfg.policy_for("other") is None
    assert cfg.models["local"]["api_key_env"] == "LOCAL_KEY"
    for bad in (
        {"nope": {}},
        {"state": {"backend": "etcd"}},
        {"policies": {"x": {"retry": {"attempts": 0, "retry_on": []}}}},
        {"policies": {"x": {"timeout": 1, "bogus": 2}}},
        {"sources": "x"},
    ):
        with pytest.raises(ConfigError):
            parse_config(bad)
    with pytest.raises(ConfigError, match="not set"):
        auth_from(parse_config({"auth": {"jwt": {"secret_env": "TW_UNSET_VAR_XYZ"}}}))
    with pytest.raises(ConfigError, match="limits"):
        limits_from(parse_config({"server": {"limits": {"max_body": 1}}}))


def test_bind_refusal() -> None:
    check_bind("127.0.0.1", auth_enabled=False, insecure=False)
    check_bind("::1", auth_enabled=False, insecure=False)
    check_bind("0.0.0.0", auth_enabled=True, insecure=False)
    check_bind("0.0.0.0", auth_enabled=False, insecure=True)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(RefusedToStart, match="--insecure"):
            check_bind(host, auth_enabled=False, insecure=False)


def test_cli_refuses_public_bind_without_auth(tmp_path: Path) -> None:
    done = subprocess.run(
        serve_command(
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--grpc-port",
            "-1",
            "--config",
            str(tmp_path / "absent.toml"),
        ),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert b"no such file" in done.stderr
    (tmp_path / "empty.toml").write_text("")
    done = subprocess.run(
        serve_command(
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--grpc-port",
            "-1",
            "--config",
            str(tmp_path / "empty.toml"),
        ),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert b"refusing to serve on '0.0.0.0' without authentication" in done.stderr


def test_serve_metrics_are_counted_in_dicts_and_exposed_at_scrape_time() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    stats = CallStats()
    result = ToolResult(call_id="c", name="metrics_probe", ok=True, value=1, attempts=1)
    for latency in (0.0004, 0.003, 0.003, 7.0):
        stats.record(transport="probe", caller=None, result=result, latency_s=latency)
    lines = prometheus_client.generate_latest().decode().splitlines()
    assert (
        'toolwire_serve_calls_total{outcome="ok",tool="metrics_probe",transport="probe"} 4.0'
        in lines
    )
    assert 'toolwire_serve_call_seconds_bucket{le="0.0005",transport="probe"} 1.0' in lines
    assert 'toolwire_serve_call_seconds_bucket{le="0.005",transport="probe"} 3.0' in lines
    assert 'toolwire_serve_call_seconds_bucket{le="+Inf",transport="probe"} 4.0' in lines
    assert 'toolwire_serve_call_seconds_count{transport="probe"} 4.0' in lines


@pytest.mark.anyio
async def test_state_table_tunes_the_redis_backend(tmp_path: Path) -> None:
    from toolwire.config import load_config
    from toolwire.serve._config import ConfigError, backend_from

    path = tmp_path / "toolwire.toml"
    head = '[state]\nbackend = "redis"\nurl = "redis://127.0.0.1:6379/0"\n'
    path.write_text(head + "concurrency_lease = 4\nmax_connections = 7\n")
    backend = backend_from(load_config(path))
    try:  # building the client connects to nothing: no Redis needed here
        assert backend.concurrency_lease == 4.0
        assert backend.client.connection_pool.max_connections == 7
    finally:
        await backend.aclose()
    for bad, problem in (
        ('concurrency_lease = "long"', "must be a number"),
        ("concurrency_lease = 0", "must be positive"),
        ("max_connections = true", "must be a number"),
        ("max_connections = 0", "at least 1"),
    ):
        path.write_text(head + bad + "\n")
        with pytest.raises(ConfigError, match=problem):
            backend_from(load_config(path))
