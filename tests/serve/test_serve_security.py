"""Browser-borne attacks on a loopback server (CSRF, DNS rebinding), and what stays behind auth."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from serve_helpers import Server
from starlette.testclient import TestClient

import toolwire as tw
from toolwire.serve._app import create_app
from toolwire.serve._origin import LocalOnly, matches
from toolwire.serve._service import ToolService

PORT = 8765
LOCAL = f"http://127.0.0.1:{PORT}"


def _app(calls: list[bool], *, loopback: bool = True) -> TestClient:
    @tw.tool
    def delete_all(confirm: bool) -> str:
        """Destructive."""
        calls.append(confirm)
        return "deleted"

    app = create_app(ToolService(tw.Toolbox([delete_all])), mcp=True, loopback=loopback, port=PORT)
    return TestClient(app, base_url=LOCAL)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None],
)
def test_posts_need_a_json_content_type(content_type: str | None) -> None:
    calls: list[bool] = []
    headers = {"content-type": content_type} if content_type else {}
    with _app(calls) as client:
        one = client.post(
            "/v1/tools/delete_all/call", content=b'{"confirm": true}', headers=headers
        )
        batch = client.post(
            "/v1/calls",
            content=b'{"calls": [{"name": "delete_all", "arguments": {"confirm": true}}]}',
            headers=headers,
        )
    for answer in (one, batch):
        assert answer.status_code == 415
        error = answer.json()["error"]
        assert error["kind"] == "invalid_arguments"
        assert "application/json" in error["message"]
    assert calls == []


def test_json_with_parameters_is_accepted() -> None:
    calls: list[bool] = []
    with _app(calls) as client:
        answer = client.post(
            "/v1/tools/delete_all/call",
            content=b'{"confirm": true}',
            headers={"content-type": "Application/JSON; charset=utf-8", "origin": LOCAL},
        )
    assert answer.status_code == 200, answer.text
    assert calls == [True]


@pytest.mark.parametrize(
    "host",
    ["attacker.example:8765", "attacker.example", "127.0.0.1:9999", "127.0.0.1.evil.example:8765"],
)
def test_rebound_host_is_refused(host: str) -> None:
    calls: list[bool] = []
    with _app(calls) as client:
        for path in ("/v1/tools", "/", "/mcp"):
            assert client.get(path, headers={"host": host}).status_code == 421
        answer = client.post(
            "/v1/tools/delete_all/call", json={"confirm": True}, headers={"host": host}
        )
    assert answer.status_code == 421
    assert answer.json()["error"]["kind"] == "forbidden"
    assert calls == []


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost.evil.example"])
def test_foreign_origin_is_refused(origin: str) -> None:
    calls: list[bool] = []
    with _app(calls) as client:
        answer = client.post(
            "/v1/tools/delete_all/call", json={"confirm": True}, headers={"origin": origin}
        )
    assert answer.status_code == 403
    assert answer.json()["error"]["kind"] == "forbidden"
    assert calls == []


@pytest.mark.parametrize("host", [f"localhost:{PORT}", f"[::1]:{PORT}", f"127.0.0.1:{PORT}"])
def test_loopback_names_and_origins_pass(host: str) -> None:
    calls: list[bool] = []
    with _app(calls) as client:
        answer = client.post(
            "/v1/tools/delete_all/call",
            json={"confirm": True},
            headers={"host": host, "origin": f"http://{host}"},
        )
    assert answer.status_code == 200, answer.text
    assert calls == [True]


def test_a_public_bind_checks_content_type_but_not_host() -> None:
    calls: list[bool] = []
    with _app(calls, loopback=False) as client:
        host = {"host": "tools.example.com"}
        assert client.get("/v1/tools", headers=host).status_code == 200
        plain = {**host, "content-type": "text/plain"}
        refused = client.post("/v1/tools/delete_all/call", content=b'{"confirm":1}', headers=plain)
        assert refused.status_code == 415
    assert calls == []


def test_one_rule_for_rest_and_mcp() -> None:
    rule = LocalOnly(port=PORT)
    assert rule.host_allowed(f"LOCALHOST:{PORT}")
    assert not rule.host_allowed(None)
    assert not rule.host_allowed(f"localhost:{PORT}0")
    assert LocalOnly().host_allowed("127.0.0.1:1") and LocalOnly().host_allowed("localhost")
    assert rule.origin_allowed(None) and rule.origin_allowed("http://127.0.0.1:3000")
    assert not rule.origin_allowed("https://127.0.0.1.nip.io")
    assert not matches("localhost:80x", ["localhost:*"])
    # The MCP transport is built from the same lists.
    from toolwire.serve._mcp import build_mcp_server, session_manager

    service = ToolService(tw.Toolbox([]))
    manager = session_manager(build_mcp_server(service), local_only=rule)
    settings = manager.security_settings
    assert settings is not None and settings.enable_dns_rebinding_protection
    assert settings.allowed_hosts == rule.allowed_hosts
    assert settings.allowed_origins == rule.allowed_origins


def test_openapi_documents_415() -> None:
    with _app([]) as client:
        doc = client.get("/openapi.json").json()
    assert "415" in doc["paths"]["/v1/tools/delete_all/call"]["post"]["responses"]
    assert "415" in doc["paths"]["/v1/calls"]["post"]["responses"]


def test_live_server_refuses_rebound_host_with_its_real_port(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        for host in (f"evil.example:{server.port}", f"127.0.0.1:{server.port + 1}"):
            assert client.get("/healthz", headers={"host": host}).status_code == 421
        origin = {"origin": "http://evil.example"}
        assert client.post("/mcp", json={}, headers=origin).status_code == 403


def test_openapi_and_metrics_need_auth_when_auth_is_on() -> None:
    from toolwire.serve._auth import ApiKey, AuthConfig, Authenticator, hash_api_key

    @tw.tool
    def secret_tool(x: int) -> int:
        """Private."""
        return x

    key = "k" * 40
    keys = (ApiKey(id="a", hash=hash_api_key(key), scopes=frozenset({"ops"})),)
    auth = Authenticator(AuthConfig(api_keys=keys))
    app = create_app(ToolService(tw.Toolbox([secret_tool]), auth=auth), mcp=False, port=PORT)
    with TestClient(app, base_url=LOCAL) as client:
        for path in ("/openapi.json", "/metrics", "/v1/tools", "/v1/dashboard"):
            answer = client.get(path)
            assert answer.status_code == 401, path
            assert answer.json()["error"]["kind"] == "unauthorized"
            assert "secret_tool" not in answer.text
            assert client.get(path, headers={"x-api-key": "wrong" * 8}).status_code == 401
            assert client.get(path, headers={"x-api-key": key}).status_code == 200, path
        assert "secret_tool" in client.get("/openapi.json", headers={"x-api-key": key}).text
        for path in ("/healthz", "/readyz"):
            assert client.get(path).status_code == 200


def test_openapi_and_metrics_stay_public_without_auth() -> None:
    with _app([]) as client:
        assert "delete_all" in client.get("/openapi.json").text
        assert client.get("/metrics").status_code == 200


def _jwk(public: object, kid: str) -> dict[str, object]:
    import json

    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    algo = RSAAlgorithm if kid.startswith("r") else ECAlgorithm
    jwk: dict[str, object] = json.loads(algo.to_jwk(public))  # type: ignore[arg-type]
    jwk["kid"] = kid
    return jwk


@pytest.mark.parametrize(
    ("secret", "algorithms"),
    [
        (None, ("RS256", "HS256")),
        (None, ("none",)),
        ("s" * 40, ("HS256", "RS256")),
        ("s" * 40, ("ES256",)),
        (None, ("rs256",)),
    ],
)
def test_jwt_algorithms_must_fit_the_key(secret: str | None, algorithms: tuple[str, ...]) -> None:
    from toolwire.serve._auth import JwtSettings

    jwks = None if secret else {"keys": []}
    with pytest.raises(ValueError, match=r"need (jwks|secret)"):
        JwtSettings(secret=secret, jwks=jwks, algorithms=algorithms)
    assert JwtSettings(jwks={"keys": []}, algorithms=("RS256", "ES256", "PS256")).algorithms
    assert JwtSettings(secret="s" * 40, algorithms=("HS256", "HS512")).algorithms


def test_jwt_config_with_mismatched_algorithms_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolwire.config import ConfigError, parse_config
    from toolwire.serve._config import auth_from

    monkeypatch.setenv("TW_SEC_TEST", "s" * 40)
    table = {"auth": {"jwt": {"secret_env": "TW_SEC_TEST", "algorithms": ["HS256", "RS256"]}}}
    with pytest.raises(ConfigError, match="need jwks"):
        auth_from(parse_config(table))


def test_a_token_the_key_cannot_check_is_401_not_500() -> None:
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from toolwire.serve._auth import AuthConfig, Authenticator, JwtSettings

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks = {"keys": [_jwk(rsa_key.public_key(), "r1"), _jwk(ec_key.public_key(), "e1")]}
    auth = Authenticator(AuthConfig(jwt=JwtSettings(jwks=jwks, algorithms=("RS256", "ES256"))))
    claims = {"sub": "u", "exp": int(time.time()) + 60}
    good = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "e1"})
    # Signed ES256 but naming the RSA key: PyJWT raises TypeError, not a PyJWTError.
    crossed = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "r1"})

    @tw.tool
    def whoami(ctx: tw.Context) -> str:
        """Who called."""
        return ctx.caller.id if ctx.caller else ""

    app = create_app(ToolService(tw.Toolbox([whoami]), auth=auth), mcp=False, port=PORT)
    with TestClient(app, base_url=LOCAL) as client:
        ok = client.post(
            "/v1/tools/whoami/call", json={}, headers={"authorization": f"Bearer {good}"}
        )
        assert ok.status_code == 200 and ok.json()["value"] == "jwt:u"
        bad = client.post(
            "/v1/tools/whoami/call", json={}, headers={"authorization": f"Bearer {crossed}"}
        )
    assert bad.status_code == 401, bad.text
    error = bad.json()["error"]
    assert error["kind"] == "unauthorized" and error["details"]["reason"] == "invalid"
