"""Who may talk to a loopback server: one definition of the allowed ``Host`` and ``Origin``
values, used by the REST app (:class:`LocalOnlyMiddleware`) and by the MCP transport
(``TransportSecuritySettings``).

A server bound to 127.0.0.1 without auth trusts everyone on the machine, but a web page in the
user's browser is not on the machine: it can send "simple" cross-site requests (CSRF) and, by
pointing its own domain at 127.0.0.1 (DNS rebinding), even read the answers. Requiring a
loopback ``Host`` with the server's port stops rebinding (the browser sends the attacker's
name); refusing a non-loopback ``Origin`` stops cross-site requests that carry one. The JSON
content type required on POST routes (``_rest.require_json``) forces a CORS preflight on the
rest, which this server never answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolwire import _json

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalOnly:
    """The ``Host``/``Origin`` rule of a loopback server listening on ``port`` (None: the
    port is not known, any port is accepted).

    Example::

        >>> rule = LocalOnly(port=8000)
        >>> rule.host_allowed("127.0.0.1:8000"), rule.host_allowed("evil.example:8000")
        (True, False)
    """

    port: int | None = None

    @property
    def allowed_hosts(self) -> list[str]:
        """``Host`` values, in the pattern language of the MCP SDK (``name:*`` = any port)."""
        port = "*" if self.port is None else str(self.port)
        hosts = [f"{name}:{port}" for name in LOOPBACK_NAMES]
        if self.port in (None, 80):  # a browser leaves the default port out
            hosts += LOOPBACK_NAMES
        return hosts

    @property
    def allowed_origins(self) -> list[str]:
        """``Origin`` values: a page served from any loopback origin (any port)."""
        return [f"http://{n}:*" for n in LOOPBACK_NAMES] + [f"http://{n}" for n in LOOPBACK_NAMES]

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and matches(host.lower(), self.allowed_hosts)

    def origin_allowed(self, origin: str | None) -> bool:
        # Browsers send no Origin on same-origin GETs, and non-browser clients send none.
        return origin is None or matches(origin.lower(), self.allowed_origins)


def matches(value: str, patterns: Sequence[str]) -> bool:
    """``value`` equals a pattern, or a ``base:*`` pattern's base followed by ``:<digits>``."""
    for pattern in patterns:
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-1]
            rest = value[len(base) :]
            if value.startswith(base) and rest.isdigit():
                return True
    return False


class LocalOnlyMiddleware:
    """ASGI middleware refusing requests whose ``Host`` or ``Origin`` breaks ``rule``
    (421 and 403, with the structured error body), before any route runs."""

    def __init__(self, app: Any, rule: LocalOnly) -> None:
        self.app = app
        self.rule = rule

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = origin = None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value.decode("latin-1")
                elif key == b"origin":
                    origin = value.decode("latin-1")
            problem = None
            if not self.rule.host_allowed(host):
                problem = (
                    421,
                    f"Host {host!r} is not this loopback server's address; use "
                    f"{self.rule.allowed_hosts[0].replace(':*', ':<port>')}.",
                    {"host": host},
                )
            elif not self.rule.origin_allowed(origin):
                problem = (
                    403,
                    f"Requests from origin {origin!r} are refused: this loopback server "
                    "answers only pages served from this machine.",
                    {"origin": origin},
                )
            if problem is not None:
                status, message, details = problem
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = _json.dumps_bytes(
                    {"error": {"kind": "forbidden", "message": message, "details": details}}
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
