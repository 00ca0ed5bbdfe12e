"""One pooled aiohttp client per SSRF policy, with timeouts and guarded manual redirects.

Sources that share an allowlist share a connection pool (keep-alive matters: a fresh TCP
connection per call costs more than the call). Sources with different allowlists never share
one, so a connection opened to an allowlisted private address is never reused by a source
that may not reach it.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from toolwire._errors import MissingExtra, ToolFailure
from toolwire._json import loads
from toolwire._retry_after import retry_after_seconds
from toolwire.remote._ssrf import Guard, client_host

try:
    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult
    from aiohttp.tracing import Trace
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("aiohttp", "http") from exc

MAX_REDIRECTS = 10
MAX_BODY = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PORTABLE_HEADERS = frozenset({"accept", "content-type", "user-agent", "accept-language"})


def _origin(url: str) -> tuple[str, str, int | None]:
    return client_host(url)


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """A fully read response (bodies are capped at ``MAX_BODY`` bytes)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        return loads(self.body)

    def value(self) -> Any:
        """The body as JSON when it says so (or parses as JSON), else as text."""
        if not self.body:
            return None
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype or self.body[:1] in (b"{", b"["):
            try:
                return self.json()
            except ValueError:
                pass
        return self.body.decode("utf-8", errors="replace")


class _GuardedResolver(AbstractResolver):
    """Resolves through the guard and refuses forbidden addresses at connect time."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._guard.resolver(host, port)
        self._guard.check_addresses(f"//{host}:{port}", host, addresses, port)
        out: list[ResolveResult] = []
        for address in addresses:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family not in (socket.AF_UNSPEC, fam):
                continue
            out.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": fam,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not out:
            raise OSError(f"no usable address for {host}")
        return out

    async def close(self) -> None:
        return None


class _GuardedConnector(aiohttp.TCPConnector):
    """The backstop: every address the connector is about to dial is checked, literal ones too.

    aiohttp never asks the resolver about a literal address, so without this a host that
    only *becomes* ``127.0.0.1`` inside the client (IDNA mapping, a spelling the URL check
    missed) would be dialled unchecked. After connecting, the peer address is checked again.
    """

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        super().__init__(resolver=_GuardedResolver(guard), **kwargs)
        self._guard = guard

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        hosts = await super()._resolve_host(host, port, traces=traces)
        self._guard.check_addresses(f"//{host}:{port}", host, [h["host"] for h in hosts], port)
        return hosts

    async def _wrap_create_connection(
        self, *args: Any, **kwargs: Any
    ) -> tuple[asyncio.Transport, aiohttp.client_proto.ResponseHandler]:
        transport, proto = await super()._wrap_create_connection(*args, **kwargs)
        peer = transport.get_extra_info("peername")
        req = kwargs.get("req")
        host = (req.url.raw_host if req is not None else None) or ""
        if isinstance(peer, tuple) and len(peer) >= 2:
            try:
                self._guard.check_addresses(
                    f"//{host}:{peer[1]}", host, [str(peer[0])], int(peer[1])
                )
            except ToolFailure:
                transport.close()
                raise
        return transport, proto


class HttpClient:
    """A pooled client bound to one :class:`Guard`; use :func:`client_for` to share it."""

    def __init__(self, guard: Guard, *, limit: int = 256) -> None:
        self.guard = guard
        connector = _GuardedConnector(
            guard,
            limit=limit,
            use_dns_cache=False,
            family=socket.AF_UNSPEC,
        )
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=True, trust_env=False
        )

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def aclose(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT,
    ) -> Response:
        """Send one request, following up to ``MAX_REDIRECTS`` redirects, each one checked.

        Failures become :class:`ToolFailure`: ``forbidden`` (SSRF guard), ``timeout``,
        ``remote_error`` (connection problems, too many redirects), ``too_large``.
        """
        deadline = None if timeout_s is None else asyncio.get_running_loop().time() + timeout_s
        hdrs = dict(headers or {})
        for _ in range(MAX_REDIRECTS + 1):
            # names are resolved and checked when the connector connects (_GuardedResolver);
            # here: scheme, literal addresses in every spelling, metadata names
            await self.guard.check_url(url, resolve=False)
            left = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if left is not None and left <= 0:
                raise ToolFailure("timeout", f"{method} {url} timed out", details={"url": url})
            response = await self._send(method, url, params, hdrs, body, left)
            if response.status not in _REDIRECTS or "Location" not in response.headers:
                return response
            target = urljoin(response.url, response.headers["Location"])
            if _origin(target) != _origin(url):
                # credentials were meant for the first host only
                hdrs = {k: v for k, v in hdrs.items() if k.lower() in _PORTABLE_HEADERS}
            url = target
            params = None  # the Location carries its own query
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
                hdrs.pop("Content-Type", None)
        raise ToolFailure(
            "remote_error",
            f"{method} {url}: more than {MAX_REDIRECTS} redirects",
            details={"url": url},
        )

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float | None,
    ) -> Response:
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                content = await resp.content.read(MAX_BODY + 1)
                if len(content) > MAX_BODY:
                    raise ToolFailure(
                        "too_large",
                        f"{method} {url}: the response is larger than {MAX_BODY} bytes",
                        details={"url": url, "limit": MAX_BODY},
                    )
                return Response(
                    status=resp.status,
                    headers=dict(resp.headers),
                    body=content,
                    url=str(resp.url),
                )
        except TimeoutError as exc:
            raise ToolFailure("timeout", f"{method} {url} timed out", details={"url": url}) from exc
        except aiohttp.ClientError as exc:
            raise ToolFailure(
                "remote_error",
                f"{method} {url} failed: {exc.__class__.__name__}: {exc}",
                details={"url": url},
            ) from exc


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Guard, HttpClient]] = (
    weakref.WeakKeyDictionary()
)


def client_for(guard: Guard) -> HttpClient:
    """The shared client of this event loop for ``guard`` (created on first use)."""
    loop = asyncio.get_running_loop()
    clients = _CLIENTS.setdefault(loop, {})
    client = clients.get(guard)
    if client is None or client.closed:
        client = clients[guard] = HttpClient(guard)
    return client


async def close_clients() -> None:
    """Close this event loop's shared clients (call before the loop ends)."""
    clients = _CLIENTS.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.aclose()


def failure_for(response: Response, what: str) -> ToolFailure | None:
    """The :class:`ToolFailure` an HTTP status means, or None for a success (2xx).

    429 -> ``rate_limited`` (with Retry-After), 408/504 -> ``timeout``, any other status ->
    ``remote_error`` with the status and the start of the body in the details (401/403 from
    an upstream are its business, not the caller's authorization: still ``remote_error``).
    """
    status = response.status
    if 200 <= status < 300:
        return None
    excerpt = response.body[:500].decode("utf-8", errors="replace")
    details = {"status": status, "url": response.url, "body": excerpt}
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return ToolFailure(
            "rate_limited",
            f"{what}: the service is rate limiting calls (HTTP 429); wait and try again.",
            details=details,
            retry_after=wait,
        )
    if status in (408, 504):
        return ToolFailure(
            "timeout", f"{what}: the service timed out (HTTP {status}).", details=details
        )
    hint = "the request was rejected" if status < 500 else "the service failed"
    return ToolFailure(
        "remote_error", f"{what}: {hint} (HTTP {status}): {excerpt[:200]}", details=details
    )
