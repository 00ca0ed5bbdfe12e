"""Where gRPC tools connect: targets checked by the SSRF guard, and channels kept honest.

A target (``host:port``, ``[v6]:port``, ``dns:///host:port``) is resolved by the guard's
resolver and EVERY address is checked (one forbidden address refuses the target, the rule
:meth:`Guard.dial_addresses` applies to HTTP). The channel then dials exactly those addresses,
as a static gRPC address list (``ipv4:a:p,b:p`` / ``ipv6:[a]:p,...``) with ``pick_first``:
gRPC tries them in the resolver's order and moves on when one refuses, and never resolves the
name itself, so a name that re-resolves elsewhere gains nothing. The name stays the channel's
authority and, with TLS, the name the certificate must match.

A channel is not trusted forever: after ``recheck_s`` (5 minutes by default), or once a call
on it failed with ``UNAVAILABLE`` (the server moved, went away, or all its addresses
refuse), the next call resolves the name and checks the addresses again. The same addresses
keep the channel (gRPC's own reconnection carries on); new ones get a new channel, and the
old one is closed when its last call ends; a forbidden one is refused with ``forbidden``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from toolwire._errors import MissingExtra, ToolFailure
from toolwire.remote._ssrf import Guard, client_host, parse_ip

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("grpcio", "grpc") from exc

RECHECK_S = 300.0
"""How long a channel's checked addresses are used before the name is resolved again."""
_RESOLVE_RETRY_S = 5.0  # a failed re-resolution keeps a working channel this much longer


@dataclass(frozen=True, slots=True)
class Target:
    """A configured gRPC target: what to resolve and check, and the name the server knows."""

    text: str  # as configured, for messages
    url: str  # the URL the guard judges ("" for an allowlisted unix: socket)
    port: int
    secure: bool
    guard: Guard
    recheck_s: float = RECHECK_S
    authority: str | None = None  # "name:port" (or "address:port") the server is told
    server_name: str | None = None  # the TLS name to verify (the name, not the address)

    def options(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("grpc.lb_policy_name", "pick_first")]
        if self.authority:
            out.append(("grpc.default_authority", self.authority))
        if self.secure and self.server_name:
            out.append(("grpc.ssl_target_name_override", self.server_name))
        return out

    async def dial(self) -> str:
        """Resolve and check now; the gRPC target string listing every checked address."""
        if not self.url:
            return self.text
        try:
            addresses = await self.guard.dial_addresses(self.url)
        except ToolFailure as exc:  # say "gRPC target", not the URL the guard was given
            details = {k: v for k, v in exc.details.items() if k != "url"}
            raise ToolFailure(
                exc.kind,
                exc.message.replace(self.url, f"gRPC target {self.text}"),
                details={**details, "target": self.text},
            ) from exc
        return address_list(addresses, self.port)


def address_list(addresses: list[str], port: int) -> str:
    """``ipv4:a:p,b:p`` or ``ipv6:[a]:p,...``: a gRPC target naming exactly these addresses.

    A mix of families goes in one ``ipv6:`` list with IPv4 as IPv4-mapped addresses, which
    gRPC dials over IPv4. Scope ids are dropped (gRPC's list syntax has none).
    """
    ips = list(dict.fromkeys(ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses))
    if all(ip.version == 4 for ip in ips):
        return "ipv4:" + ",".join(f"{ip}:{port}" for ip in ips)
    mapped = (str(ip) if ip.version == 6 else f"::ffff:{ip}" for ip in ips)
    return "ipv6:" + ",".join(f"[{ip}]:{port}" for ip in mapped)


def split_target(target: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port``, ``host`` or ``dns:///host:port`` -> ``(host, port)``.

    Other gRPC target forms (``unix:``, ``ipv4:`` lists, ``xds:``...) name addresses the guard
    cannot check; they are refused with kind ``forbidden``.
    """
    text = target.strip()
    if text.startswith("dns:"):
        text = text[4:]
        if text.startswith("//"):  # dns://[authority]/host:port: we resolve, not that server
            text = text[2:].partition("/")[2]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    bad_host = not host or "/" in host or (":" in host and parse_ip(host) is None)
    if bad_host or not (port_text == "" or port_text.isdigit()):
        raise ToolFailure(
            "forbidden",
            f"Refused gRPC target {target!r}: only HOST:PORT targets can be checked by the "
            "SSRF guard (other target schemes are not supported; a unix: socket is dialled "
            "only when allow_hosts lists it exactly).",
            details={"target": target},
        )
    return host, int(port_text) if port_text else None


def target(text: str, secure: bool, guard: Guard, recheck_s: float = RECHECK_S) -> Target:
    """Parse ``text`` (nothing is resolved yet: the first call on it resolves and checks).

    A ``unix:`` socket names no network address; it is dialled only when ``allow_hosts``
    lists that exact target (the operator's explicit choice), else refused like the rest.
    """
    if text.startswith("unix:") and text in guard.allow_hosts:
        return Target(text=text, url="", port=0, secure=secure, guard=guard, recheck_s=recheck_s)
    host, port = split_target(text)
    port = port or 443
    url_host = f"[{host}]" if ":" in host else host
    url = f"{'https' if secure else 'http'}://{url_host}:{port}/"
    literal = parse_ip(host)
    if literal is not None:  # the server knows itself by this address, in its plain spelling
        shown = f"[{literal}]" if literal.version == 6 else str(literal)
        name = str(literal)
    else:
        name = client_host(url)[1]  # the ASCII (IDNA) form, as a certificate names it
        shown = name
    return Target(
        text=text,
        url=url,
        port=port,
        secure=secure,
        guard=guard,
        recheck_s=recheck_s,
        authority=f"{shown}:{port}",
        server_name=name,
    )


@dataclass(slots=True, eq=False)
class Live:
    """One open channel and what is known about it."""

    channel: Any
    dial: str  # the checked address list it dials
    due: float  # monotonic time of the next re-resolution
    stale: bool = False  # a call failed with UNAVAILABLE: re-resolve before the next one
    inflight: int = 0  # calls running on it (a retired channel closes after the last)
    retired: bool = False


@dataclass(slots=True, eq=False)
class _Pool:
    """One event loop's channels (gRPC channels are loop-bound)."""

    live: dict[Target, Live] = field(default_factory=dict)
    locks: dict[Target, asyncio.Lock] = field(default_factory=dict)
    retired: set[Live] = field(default_factory=set)  # waiting for their last call
    closing: set[asyncio.Task[None]] = field(default_factory=set)


POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()


def fresh(t: Target) -> Live | None:
    """The target's channel when it may be used as is (no await: the hot path), else None."""
    pool = POOLS.get(asyncio.get_running_loop())
    live = pool.live.get(t) if pool is not None else None
    if live is None or live.stale or time.monotonic() >= live.due:
        return None
    return live


async def refresh(t: Target) -> Live:
    """Resolve and check ``t`` again; the channel to use (kept when the addresses are the same).

    Raises ``forbidden`` when any address is refused (the old channel is dropped too), and
    ``remote_error`` when the name does not resolve, unless a channel that has not failed is
    at hand: it keeps serving and the lookup is tried again a little later.
    """
    pool = POOLS.setdefault(asyncio.get_running_loop(), _Pool())
    lock = pool.locks.setdefault(t, asyncio.Lock())
    async with lock:  # concurrent calls wait for one lookup instead of each doing one
        live = pool.live.get(t)
        now = time.monotonic()
        if live is not None and not live.stale and now < live.due:
            return live
        try:
            dial = await t.dial()
        except ToolFailure as exc:
            if live is not None and exc.kind != "forbidden" and not live.stale:
                live.due = now + min(t.recheck_s, _RESOLVE_RETRY_S)
                return live
            if live is not None and exc.kind == "forbidden":
                del pool.live[t]  # never again to those addresses without a new check
                retire(live)
            raise
        if live is not None and live.dial == dial:
            live.due, live.stale = now + t.recheck_s, False
            return live
        options = t.options()
        channel = (
            grpc.aio.secure_channel(dial, grpc.ssl_channel_credentials(), options=options)
            if t.secure
            else grpc.aio.insecure_channel(dial, options=options)
        )
        pool.live[t] = made = Live(channel=channel, dial=dial, due=now + t.recheck_s)
        if live is not None:
            retire(live)
        return made


def retire(live: Live) -> None:
    """No new calls go to ``live``; it is closed once the calls running on it end."""
    live.retired = True
    if live.inflight:
        pool = POOLS.get(asyncio.get_running_loop())
        if pool is not None:
            pool.retired.add(live)
        return
    close_later(live)


def close_later(live: Live) -> None:
    pool = POOLS.setdefault(asyncio.get_running_loop(), _Pool())
    pool.retired.discard(live)
    task = asyncio.get_running_loop().create_task(live.channel.close())
    pool.closing.add(task)
    task.add_done_callback(pool.closing.discard)


def done(live: Live, exc: BaseException | None) -> None:
    """A call on ``live`` ended (with ``exc`` when it failed)."""
    live.inflight -= 1
    code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else None
    if code == grpc.StatusCode.UNAVAILABLE:
        live.stale = True
    if live.retired and not live.inflight:
        close_later(live)


async def close_channels() -> None:
    """Close this event loop's channels (running calls on them are cancelled)."""
    pool = POOLS.pop(asyncio.get_running_loop(), None)
    if pool is None:
        return
    for live in [*pool.live.values(), *pool.retired]:
        await live.channel.close()
    if pool.closing:
        await asyncio.gather(*pool.closing, return_exceptions=True)
