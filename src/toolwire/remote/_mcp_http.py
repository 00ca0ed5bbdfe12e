"""The HTTP client MCP sessions talk through: every request passes the SSRF guard.

The MCP SDK sends its own requests (the handshake, each call's POST, the server-event GET
stream, the closing DELETE) and follows same-origin redirects itself, one ``send`` per hop.
Giving it a client whose transport checks each request therefore checks every request and
every redirect hop, not only the URL once when the source is loaded: a name that later
resolves somewhere forbidden (DNS rebinding, a redirect that races a DNS change) is refused
mid-session. The request is then sent to the very address that was checked (the host in the
URL is swapped for it; the ``Host`` header and the TLS server name keep the original name), so
a second lookup by the HTTP library can never land elsewhere.

A refusal is reported to the call whose request was refused, and to no other: the SDK sends
each request in a copy of the sender's context (its context-carrying streams exist for this),
so a call opens a :func:`request_scope` around its request and the transport records a
refusal in the scope current where the refused request runs. Requests that belong to no call
(the background server-event GET, the closing DELETE) run in the session's own context,
which has no scope: their refusals are logged by the SDK and never blamed on a call that later
fails for another reason.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from toolwire._errors import MissingExtra, ToolFailure
from toolwire.remote._ssrf import Guard, parse_ip

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - httpx2 comes with the mcp extra
    raise MissingExtra("httpx2", "mcp") from exc

# The SDK's own defaults: a server may hold an event stream open for minutes.
_TIMEOUT = httpx2.Timeout(30.0, read=300.0)


class RequestScope:
    """What the guard refused among the requests sent on behalf of one call (or None)."""

    __slots__ = ("failure",)

    def __init__(self) -> None:
        self.failure: ToolFailure | None = None

    def refused(self) -> ToolFailure | None:
        """The refusal as a fresh copy (the caller raises it), or None."""
        found = self.failure
        if found is None:
            return None
        return ToolFailure(found.kind, found.message, details=dict(found.details))


_SCOPE: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "toolwire_mcp_request_scope", default=None
)


@contextlib.contextmanager
def request_scope() -> Iterator[RequestScope]:
    """Collects the guard's refusals of the requests sent inside the ``with`` block."""
    scope = RequestScope()
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def no_request_scope() -> None:
    """Detach the current context from any call's scope (for a session's own task, whose
    background requests belong to no call even when a call happened to open the session)."""
    _SCOPE.set(None)


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Checks each request with ``guard`` and dials the checked address.

    A refused request raises :class:`ToolFailure` (``forbidden``, naming the address, or
    ``remote_error`` when the name did not resolve), which is also recorded in the
    :class:`RequestScope` of the call that sent it: the SDK turns a failing call request into
    a dead session, and that call reports this failure instead of a bare "connection closed".
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self._inner = httpx2.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            pinned = await self._pin(request)
        except ToolFailure as exc:
            scope = _SCOPE.get()
            if scope is not None and scope.failure is None:
                scope.failure = exc
            raise
        return await self._inner.handle_async_request(pinned)

    async def _pin(self, request: httpx2.Request) -> httpx2.Request:
        addresses = await self.guard.dial_addresses(str(request.url))
        host = request.url.raw_host.decode("ascii")
        extensions = dict(request.extensions)
        if parse_ip(host) is None:
            extensions.setdefault("sni_hostname", host)  # TLS verifies the name, not the address
        return httpx2.Request(
            request.method,
            request.url.copy_with(host=addresses[0].split("%", 1)[0]),
            headers=request.headers,  # keeps Host: the original name
            stream=request.stream,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(transport: GuardedTransport) -> httpx2.AsyncClient:
    """An httpx2 client sending through ``transport`` (environment proxies ignored: a proxy
    would dial the address itself, unchecked)."""
    return httpx2.AsyncClient(transport=transport, timeout=_TIMEOUT, trust_env=False)
