"""The SSRF guard: outbound calls may only reach public addresses unless a host is allowlisted.

A model chooses URLs and arguments, so a remote tool must never become a way into the
network it runs in. Every outbound HTTP request is checked *after* DNS resolution (a public
name can point at ``127.0.0.1``), again on every redirect hop, and the connection is made to
the very addresses that were checked (see :mod:`toolwire.remote._http`), so a name that
re-resolves between check and connect (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from toolwire._errors import ToolFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``async resolver(host, port) -> [address, ...]``; injectable so tests need no DNS server."""

# Names that cloud providers answer with instance credentials, refused before any lookup
# (they resolve to link-local addresses there, but a local /etc/hosts may say otherwise).
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.oraclecloud.com",
    }
)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form smuggles (mapped, 6to4, NAT64, Teredo, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _IPV4_COMPAT and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be reached by default, or None for an ordinary public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = forbidden_reason(inner)
            return f"embeds {inner}, which is {reason}" if reason else None
    if ip in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a globally routable address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def parse_ip(host: str) -> IPAddress | None:
    """``host`` as an IP address, accepting the legacy forms C libraries accept.

    ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` all mean ``127.0.0.1`` to
    ``inet_aton``; treating them as names would let them slip past the checks.
    """
    text = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 or n < 0 for n in head) or last < 0 or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = (value << (8 * (5 - len(numbers)))) | last
    return ipaddress.IPv4Address(value) if value < 2**32 else None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve through the operating system (``getaddrinfo`` in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _forbidden(url: str, host: str, address: str, reason: str) -> ToolFailure:
    return ToolFailure(
        "forbidden",
        f"Refused to call {url}: {host} resolves to {address}, which is {reason}. "
        "Outbound calls may only reach public addresses unless the host is allowlisted "
        "(allow_hosts).",
        details={"url": url, "host": host, "address": address, "reason": reason},
    )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Guard:
    """Checks outbound URLs and resolved addresses; ``allow_hosts`` lifts the checks.

    ``allow_hosts`` entries are host names (``api.internal``), wildcards (``*.corp.example``),
    IP addresses and networks (``10.0.0.0/8``, ``::1``, ``fd00::/8``), each alone or with a
    port: ``api.internal:8443``, ``127.0.0.1:8080``, ``[::1]:8080`` (IPv6 in brackets when a
    port follows). An entry without a port opens every port of that host; one with a port
    opens that port only, compared with the URL's port (or its scheme's default: 80, 443).
    A malformed entry raises ``ValueError`` naming it. ``unix:...`` entries are kept for gRPC,
    which matches them exactly.

    Example::

        guard = Guard(allow_hosts=("127.0.0.1:8000",))
        await guard.check_url("http://127.0.0.1:8000/weather")  # allowed
        await guard.check_url("http://127.0.0.1:6379/")         # ToolFailure("forbidden")
        await Guard().check_url("http://169.254.169.254/")       # ToolFailure("forbidden")
    """

    allow_hosts: tuple[str, ...] = ()
    resolver: Resolver = system_resolver
    # (host or suffix or network, port or None for every port)
    _names: frozenset[tuple[str, int | None]] = field(init=False, repr=False, default=frozenset())
    _suffixes: tuple[tuple[str, int | None], ...] = field(init=False, repr=False, default=())
    _networks: tuple[tuple[Network, int | None], ...] = field(init=False, repr=False, default=())
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __hash__(self) -> int:  # guards key connection pools and caches: hash once
        return self._hash

    def __post_init__(self) -> None:
        names: set[tuple[str, int | None]] = set()
        suffixes: list[tuple[str, int | None]] = []
        networks: list[tuple[Network, int | None]] = []
        for raw in self.allow_hosts:
            if raw.startswith("unix:"):
                continue
            host, port = _parse_entry(raw)
            try:
                networks.append((ipaddress.ip_network(host, strict=False), port))
                continue
            except ValueError:
                pass
            if host.startswith("*."):
                suffixes.append((host[1:], port))
            else:
                names.add((host, port))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_suffixes", tuple(suffixes))
        object.__setattr__(self, "_networks", tuple(networks))
        object.__setattr__(self, "_hash", hash((self.allow_hosts, self.resolver)))

    def allows_host(self, host: str, port: int | None) -> bool:
        """True when ``host`` (a name or an address) is allowlisted for ``port``.

        ``port=None`` (unknown) matches only the entries that open every port.
        """
        host = host.lower().strip("[]").rstrip(".")
        names = self._names
        if (host, None) in names or (port is not None and (host, port) in names):
            return True
        if any(host.endswith(s) and p in (None, port) for s, p in self._suffixes):
            return True
        ip = parse_ip(host)
        return ip is not None and self.allows_address(ip, port)

    def allows_address(self, ip: IPAddress, port: int | None) -> bool:
        return any(
            ip.version == net.version and ip in net and p in (None, port)
            for net, p in self._networks
        )

    def check_addresses(
        self, url: str, host: str, addresses: Iterable[str], port: int | None
    ) -> None:
        """Raise ``ToolFailure("forbidden")`` when any address ``host`` resolved to is refused
        (``port`` is the one about to be dialled: allowlist entries may name one)."""
        if self.allows_host(host, port):
            return
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            reason = None if self.allows_address(ip, port) else forbidden_reason(ip)
            if reason:
                raise _forbidden(url, host, address, reason)

    async def check_url(self, url: str, *, resolve: bool = True) -> list[str]:
        """Check one URL (scheme, host, resolved addresses); returns the addresses checked.

        ``resolve=False`` skips the DNS lookup of host names: the HTTP client does that when
        it connects (through :meth:`check_addresses`), so a call does not resolve twice.
        """
        scheme, host, explicit = client_host(url)
        if scheme not in ("http", "https"):
            raise ToolFailure(
                "forbidden",
                f"Refused to call {url}: only http and https URLs are allowed.",
                details={"url": url, "scheme": scheme},
            )
        if not host:
            raise ToolFailure("forbidden", f"Refused to call {url}: the URL has no host.")
        port = explicit or _DEFAULT_PORTS[scheme]
        verdict, detail = _host_verdict(self, host, port)
        if verdict == "allow":
            return []
        if verdict == "forbid":
            raise _forbidden(url, host, *detail)
        if verdict == "address":
            return [detail[0]]
        if not resolve:
            return []
        addresses = await self.resolve(url, host, port)
        self.check_addresses(url, host, addresses, port)
        return addresses

    async def dial_addresses(self, url: str) -> list[str]:
        """The addresses a client should connect to for ``url``, in the resolver's order.

        Every address is checked (a refused one raises ``forbidden``), except for an
        allowlisted host, whose addresses are looked up the same way but not judged. Clients
        that connect to these very addresses (not to the name) gain nothing from a name that
        re-resolves elsewhere between the check and the connection.
        """
        addresses = await self.check_url(url)
        if addresses:
            return addresses
        scheme, host, port = client_host(url)
        literal = parse_ip(host)
        if literal is not None:
            return [str(literal)]
        return await self.resolve(url, host, port or _DEFAULT_PORTS[scheme])

    async def resolve(self, url: str, host: str, port: int) -> list[str]:
        """``host``'s addresses through :attr:`resolver` (unchecked); a lookup failure is a
        ``remote_error`` naming the host."""
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise ToolFailure(
                "remote_error",
                f"Could not resolve {host}: {exc}",
                details={"url": url, "host": host},
            ) from exc
        if not addresses:
            raise ToolFailure(
                "remote_error", f"{host} has no address", details={"url": url, "host": host}
            )
        return addresses


def client_host(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url`` with the host exactly as the HTTP client dials it.

    The client (yarl) applies IDNA/UTS 46 mapping to the host, which turns look-alike dots
    (``\u3002``, ``\uff0e``, ``\uff61``) and digits (fullwidth, circled) into ASCII:
    ``127\u30020\u30020\u30021`` is dialled as ``127.0.0.1``. The guard must judge that
    ASCII form, never the text as written. Invalid hosts are refused.
    """
    try:
        from yarl import URL
    except ImportError:  # pragma: no cover - yarl comes with the http extra
        parts = urlsplit(url)
        raw = parts.hostname or ""
        try:
            host = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
            port = parts.port
        except (UnicodeError, ValueError) as exc:
            raise _invalid(url, exc) from exc
        return parts.scheme.lower(), host.rstrip(".").lower(), port
    try:
        parsed = URL(url)
        host = parsed.raw_host or ""
        port = parsed.explicit_port
    except (UnicodeError, ValueError, TypeError) as exc:
        raise _invalid(url, exc) from exc
    return parsed.scheme.lower(), host.rstrip(".").lower(), port


def _invalid(url: str, exc: Exception) -> ToolFailure:
    return ToolFailure(
        "forbidden",
        f"Refused to call {url}: the URL is not valid ({exc}).",
        details={"url": url, "reason": str(exc)},
    )


@functools.lru_cache(maxsize=4096)
def _host_verdict(guard: Guard, host: str, port: int) -> tuple[str, tuple[str, ...]]:
    """What the guard says about a host and port before any DNS lookup (cached: it never
    changes).

    ``("allow", ())``, ``("address", (ip,))`` for a public literal address,
    ``("forbid", (address, reason))`` or ``("name", ())`` when only DNS can tell.
    """
    if guard.allows_host(host, port):
        return "allow", ()
    if host in METADATA_NAMES:
        return "forbid", (host, "a cloud metadata service name")
    ip = parse_ip(host)
    if ip is None:
        return "name", ()
    reason = None if guard.allows_address(ip, port) else forbidden_reason(ip)
    if reason:
        return "forbid", (str(ip), reason)
    return "address", (str(ip),)


def _parse_entry(raw: str) -> tuple[str, int | None]:
    """An ``allow_hosts`` entry -> ``(host, port or None)``.

    ``host``, ``host:port``, ``[v6]:port``, ``[v6]`` or a bare IPv6 address/network (more
    than one colon: no port can follow it unbracketed).
    """
    entry = raw.strip().lower()
    port_text: str | None = None
    if entry.startswith("["):
        host, closed, rest = entry[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"allow_hosts entry {raw!r}: write an IPv6 address as [addr]:port")
        port_text = rest[1:] if rest else None
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    else:
        host = entry
    host = host.rstrip(".")
    if not host:
        raise ValueError(f"allow_hosts entry {raw!r} names no host")
    if port_text is None:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(
            f"allow_hosts entry {raw!r}: the port must be a number from 1 to 65535 "
            "(write host:port, or [ipv6]:port)"
        )
    return host, int(port_text)
