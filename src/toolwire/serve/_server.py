"""Run REST (+ dashboard + MCP at /mcp) on uvicorn and gRPC on grpcio aio, in one event loop;
``workers > 1`` starts that many such processes sharing the ports.

With workers the parent binds the REST socket once and hands it to every worker (as uvicorn
does), so ``--port 0`` means one port, not one per worker; for gRPC (grpcio binds its own
sockets) it reserves the port with SO_REUSEPORT and the workers bind that same port with
SO_REUSEPORT. The parent prints the ports once every worker is listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolwire.serve._limits import Limits
from toolwire.serve._service import ToolService


class RefusedToStart(RuntimeError):
    """The server will not start as configured (the message says why and what to do)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    grpc_port: int | None = 50051  # None: no gRPC
    mcp: bool = True
    insecure: bool = False
    workers: int = 1
    reuse_port: bool = False  # set in worker processes: gRPC binds with SO_REUSEPORT
    fd: int | None = None  # set in worker processes: the REST socket the parent bound
    ready_fd: int | None = None  # set in worker processes: write one byte there when ready
    limits: Limits = field(default_factory=Limits)
    title: str = "toolwire"
    log_level: str = "warning"
    mcp_stateless: bool = False
    mcp_json_response: bool = False
    # the drain on SIGTERM/SIGINT: /readyz answers 503 at once, new connections are still
    # taken for ``shutdown_delay`` s (a load balancer stops sending meanwhile), then the
    # listener closes and in-flight calls get up to ``shutdown_grace`` s to finish
    shutdown_delay: float = 0.0
    shutdown_grace: float = 25.0


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, auth_enabled: bool, insecure: bool) -> None:
    """Refuse to expose tools beyond this machine without authentication."""
    if is_loopback(host) or auth_enabled or insecure:
        return
    raise RefusedToStart(
        f"refusing to serve on {host!r} without authentication: anyone who can reach it could "
        "call every tool. Configure [auth] api_keys or jwt in toolwire.toml, bind 127.0.0.1, "
        "or pass --insecure if this is really what you want."
    )


def _bind_socket(
    host: str, port: int, *, reuse_port: bool, listen: bool = True, what: str = ""
) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise RefusedToStart(f"cannot listen{what} on {host}:{port}: {exc.strerror}") from None
    if listen:
        sock.listen(2048)
        sock.setblocking(False)
    return sock


def _rest_socket(options: ServeOptions) -> socket.socket:
    if options.fd is not None:  # a worker: the parent's socket, already listening
        sock = socket.socket(fileno=options.fd)
        sock.setblocking(False)
        return sock
    return _bind_socket(options.host, options.port, reuse_port=False)


def redacts_by_default(host: str) -> bool:
    """Error redaction is on unless the server listens on loopback only."""
    return not is_loopback(host)


async def serve_async(
    service: ToolService,
    options: ServeOptions,
    *,
    on_ready: Callable[[int, int | None], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set, or, without ``stop``, until SIGTERM/SIGINT; then drain:
    ``service.draining`` (``/readyz`` 503), ``options.shutdown_delay`` seconds more of
    accepting, then no new connections and up to ``options.shutdown_grace`` seconds for the
    calls in flight. A second signal ends the wait at once."""
    import uvicorn

    from toolwire.serve._app import create_app

    check_bind(options.host, auth_enabled=service.auth.enabled, insecure=options.insecure)
    if service.redact_errors is None:
        service.redact_errors = redacts_by_default(options.host)
    sock = _rest_socket(options)
    grpc_server: Any = None
    grpc_port: int | None = None
    try:
        if options.grpc_port is not None:
            from toolwire.serve._grpc import start_grpc

            try:
                grpc_server, grpc_port = await start_grpc(
                    service,
                    host=options.host,
                    port=options.grpc_port,
                    options=[("grpc.so_reuseport", 1 if options.reuse_port else 0)],
                )
            except RuntimeError:  # grpcio's "Failed to bind to address"
                grpc_port = 0
            if grpc_port == 0:
                raise RefusedToStart(
                    f"cannot listen for gRPC on {options.host}:{options.grpc_port} (in use? "
                    "--grpc-port -1 turns gRPC off)"
                )
        port = sock.getsockname()[1]
        app = create_app(
            service,
            title=options.title,
            mcp=options.mcp,
            loopback=is_loopback(options.host),
            port=port,
            grpc_port=grpc_port,
            mcp_stateless=options.mcp_stateless,
            mcp_json_response=options.mcp_json_response,
        )
        config = uvicorn.Config(
            app,
            http="httptools",
            lifespan="on",
            access_log=False,
            log_level=options.log_level,
            timeout_graceful_shutdown=max(1, round(options.shutdown_grace)),
        )
        server = _server(config)
        if stop is None:
            stop = asyncio.Event()
            _on_signals(stop, server)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        # uvicorn exposes a flag, not an event, for "listening".
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if serving.done():
            await serving  # surfaces the startup error
            return
        if on_ready is not None:
            on_ready(port, grpc_port)
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        service.draining = True
        if not serving.done() and options.shutdown_delay > 0:
            await asyncio.wait({serving}, timeout=options.shutdown_delay)
        server.should_exit = True
        await serving
    finally:
        service.draining = True
        if grpc_server is not None:
            await grpc_server.stop(grace=options.shutdown_grace)
        sock.close()


def _server(config: Any) -> Any:
    """uvicorn's server without its own signal handling: ``serve_async`` drains on a signal
    and returns, so the process exits 0 (uvicorn re-raises the signal after its shutdown)."""
    import uvicorn

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer(config)


def _on_signals(stop: asyncio.Event, server: Any) -> None:
    """SIGTERM/SIGINT start the drain (``stop``); a second one stops waiting for calls."""
    loop = asyncio.get_running_loop()

    def handle() -> None:
        if stop.is_set():
            server.force_exit = True
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, handle)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (uvicorn[standard] brings it), else the default loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(
    service_factory: Callable[[], Any],
    options: ServeOptions,
    *,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Build the service (in the serving loop) and serve until interrupted; ``cleanup`` runs
    in that loop at the end, however serving ended (it closes what remote tools opened)."""

    async def main() -> None:
        try:
            await _main()
        finally:
            if cleanup is not None:
                await cleanup()

    async def _main() -> None:
        service = await service_factory()

        def ready(port: int, grpc_port: int | None) -> None:
            if options.ready_fd is not None:  # a worker: the parent reports for all of them
                os.write(options.ready_fd, b"r")
                os.close(options.ready_fd)
                return
            notes = ["errors redacted"] if service.redact_errors else []
            announce(options, port, grpc_port, notes)

        await serve_async(service, options, on_ready=ready)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


def announce(
    options: ServeOptions, port: int, grpc_port: int | None, notes: Sequence[str] = ()
) -> None:
    """The ready line on stderr, with the ports really listened on (``--port 0``)."""
    where = f"http://{options.host}:{port}"
    parts = [f"REST {where}/v1", f"dashboard {where}/"]
    if options.mcp:
        parts.append(f"MCP {where}/mcp")
    if grpc_port:
        parts.append(f"gRPC {options.host}:{grpc_port}")
    print("toolwire serve: " + " · ".join([*parts, *notes]), file=sys.stderr, flush=True)


def run_workers(argv: Sequence[str], options: ServeOptions) -> int:
    """Start ``options.workers`` copies of this command sharing one REST socket (bound here)
    and one gRPC port (reserved here), report the ports once all listen, and wait;
    SIGINT/SIGTERM are forwarded. Returns the first non-zero exit status."""
    rest = _bind_socket(options.host, options.port, reuse_port=False)
    port = rest.getsockname()[1]
    grpc_port: int | None = None
    held: list[socket.socket] = [rest]
    if options.grpc_port is not None:
        # Bound, never listening: it keeps the port (and its number, for --grpc-port 0)
        # while the workers bind it with SO_REUSEPORT; it receives no connections.
        reserved = _bind_socket(
            options.host, options.grpc_port, reuse_port=True, listen=False, what=" for gRPC"
        )
        held.append(reserved)
        grpc_port = reserved.getsockname()[1]
    read_end, write_end = os.pipe()
    args = [sys.executable, "-m", "toolwire", *argv, "--workers", "1", "--reuse-port"]
    args += ["--fd", str(rest.fileno()), "--ready-fd", str(write_end)]
    args += ["--grpc-port", str(grpc_port if grpc_port is not None else -1)]
    procs: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: Any) -> None:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        fds = (rest.fileno(), write_end)
        procs.extend(subprocess.Popen(args, pass_fds=fds) for _ in range(options.workers))
        os.close(write_end)
        rest.close()  # the workers hold it now
        if _wait_ready(read_end, options.workers):
            notes = [f"{options.workers} workers"]
            announce(options, port, grpc_port, notes)
        else:
            forward(signal.SIGTERM, None)  # one worker failed to start: stop the others
        codes = [p.wait() for p in procs]
    finally:
        os.close(read_end)
        for sock in held:
            sock.close()
    return next((c for c in codes if c not in (0, -signal.SIGINT, -signal.SIGTERM)), 0)


def _wait_ready(read_end: int, workers: int) -> bool:
    """True once every worker wrote its byte; False when they all closed the pipe first
    (a worker exited during startup: its error is on stderr)."""
    seen = 0
    while seen < workers:
        try:
            chunk = os.read(read_end, workers)
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        if not chunk:
            return False
        seen += len(chunk)
    return True
