"""MCP servers' tools as local tools, over ONE long-lived session per server.

A session per call costs a process spawn (stdio) or a handshake (HTTP) every time, which is
where peer proxies lose 10-100x. Here each server gets one :class:`Session`: opened on first
use, shared by every concurrent call, and reopened on the next call after the connection
breaks (the server process died, the HTTP endpoint went away). ``readOnlyHint`` and
``idempotentHint`` become the tool's annotations, which drive retries and caching.

Example::

    tools = await toolwire.remote.mcp.load("http://127.0.0.1:8000/mcp", allow_hosts=["127.0.0.1"])
    tools = await toolwire.remote.mcp.load("python -m my_server --stdio")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal

from toolwire._context import Context
from toolwire._errors import MissingExtra, ToolFailure
from toolwire._tools import Tool
from toolwire.remote._discovery import CONVERSION_ERRORS, Discovery, tools_only
from toolwire.remote._ssrf import Guard, Resolver, system_resolver
from toolwire.runtime._policy import Policy

__all__ = ["Session", "close_sessions", "discover", "load", "server_parameters", "session_of"]

try:
    import anyio
    import mcp_types
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.exceptions import MCPError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("mcp", "mcp") from exc

from toolwire.remote._mcp_http import (
    GuardedTransport,
    guarded_client,
    no_request_scope,
    request_scope,
)
from toolwire.remote._mcp_tasks import Progress, TaskCall, needs_tasks, speaks_tasks

log = logging.getLogger("toolwire.remote")

_BROKEN = (
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    ConnectionError,
    EOFError,
)


def _is_broken(exc: BaseException) -> bool:
    if isinstance(exc, MCPError):
        return exc.code == mcp_types.CONNECTION_CLOSED
    if isinstance(exc, _BROKEN):
        return True
    # httpx (the SDK's HTTP client) transport errors, without importing httpx here
    return type(exc).__module__.startswith(("httpx", "httpcore")) and "Error" in type(exc).__name__


def server_parameters(url_or_command: str) -> str | StdioServerParameters:
    """``http(s)://...`` -> the URL (streamable HTTP); anything else -> a stdio command line."""
    text = url_or_command.strip()
    if text.startswith(("http://", "https://")):
        return text
    argv = shlex.split(text)
    if not argv:
        raise ValueError("an MCP source needs a URL or a command")
    return StdioServerParameters(command=argv[0], args=argv[1:])


class Session:
    """One long-lived MCP client session for one server, shared by all calls on a loop.

    The SDK's client must be entered and left in the same task, so a small owner task holds
    it open; calls from any task use it. :attr:`opened` counts the sessions ever opened (one,
    unless the connection broke and was reopened).
    """

    def __init__(
        self,
        target: str | StdioServerParameters,
        *,
        read_timeout_s: float,
        guard: Guard,
        protocol: str = "auto",
    ) -> None:
        self.target = target
        self.read_timeout_s = read_timeout_s
        self.guard = guard
        self.protocol = protocol
        self.opened = 0
        # progress of running tasks, by the progressToken of the call that created each: it
        # arrives after the call's response, so the SDK hands it to the message handler
        self.progress_routes: dict[str, Progress] = {}
        self._client: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self._client is not None and self._owner is not None and not self._owner.done()

    async def client(self) -> Client:
        """The open client, opening (or reopening) the session when needed."""
        if self.alive and self._client is not None:
            return self._client
        async with self._lock:
            if self.alive and self._client is not None:
                return self._client
            await self._shutdown()
            return await self._open()

    async def _open(self) -> Client:
        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()

        async def own() -> None:
            no_request_scope()  # the handshake and the event stream belong to no call
            try:
                async with self._connected() as c:
                    self._client = c
                    self.opened += 1
                    ready.set_result(c)
                    await stop.wait()
            except BaseException as exc:  # the session ends; the next call reopens it
                if not ready.done():
                    ready.set_exception(exc if isinstance(exc, Exception) else ConnectionError())
                elif not isinstance(exc, asyncio.CancelledError):
                    log.debug("MCP session to %s ended: %r", self.describe(), exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            finally:
                self._client = None

        self._stop = stop
        self._owner = asyncio.create_task(own(), name=f"toolwire-mcp:{self.describe()}")
        try:
            return await ready
        except Exception as exc:
            refused = _refusal_in(exc)  # the guard refused a request of the handshake
            if refused is not None:
                raise refused from exc
            raise ToolFailure(
                "remote_error",
                f"Could not connect to the MCP server {self.describe()}: {exc}",
                details={"server": self.describe()},
            ) from exc

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[Client]:
        """The SDK client; over HTTP through a fresh guarded transport (one per session)."""
        if not isinstance(self.target, str):
            async with Client(self.target, **self._options()) as client:
                yield client
            return
        async with guarded_client(GuardedTransport(self.guard)) as http:
            server = streamable_http_client(self.target, http_client=http)
            async with Client(server, **self._options()) as client:
                yield client

    def _options(self) -> dict[str, Any]:
        return {
            "read_timeout_seconds": self.read_timeout_s,
            "mode": self.protocol,
            "message_handler": self._notified,
        }

    async def _notified(self, message: Any) -> None:
        if isinstance(message, mcp_types.ProgressNotification):
            route = self.progress_routes.get(str(message.params.progress_token))
            if route is not None:
                params = message.params
                await route(params.progress, params.total, params.message)

    def describe(self) -> str:
        if isinstance(self.target, str):
            return self.target
        return " ".join([self.target.command, *self.target.args])

    async def invalidate(self) -> None:
        """Drop a broken session; the next call opens a new one."""
        async with self._lock:
            await self._shutdown()

    async def _shutdown(self) -> None:
        owner, stop = self._owner, self._stop
        self._owner = self._stop = None
        self._client = None
        if owner is None or stop is None:
            return
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(owner), timeout=5)
        except TimeoutError:
            owner.cancel()
        except Exception as exc:  # a broken transport may complain on the way out
            log.debug("closing MCP session to %s: %r", self.describe(), exc)

    async def aclose(self) -> None:
        await self.invalidate()


class _Source:
    """A server as configured; its sessions are per event loop (sessions are loop-bound)."""

    def __init__(
        self,
        target: str | StdioServerParameters,
        read_timeout_s: float,
        guard: Guard,
        protocol: str = "auto",
        tasks: str = "required",
    ) -> None:
        self.target = target
        self.read_timeout_s = read_timeout_s
        self.guard = guard
        self.protocol = protocol
        self.tasks = tasks  # the taskSupport values called as tasks: "required" or "optional"
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Session] = (
            weakref.WeakKeyDictionary()
        )

    def session(self) -> Session:
        loop = asyncio.get_running_loop()
        found = self._sessions.get(loop)
        if found is None:
            found = self._sessions[loop] = Session(
                self.target,
                read_timeout_s=self.read_timeout_s,
                guard=self.guard,
                protocol=self.protocol,
            )
            _ALL.setdefault(loop, []).append(found)
        return found


_ALL: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Session]] = (
    weakref.WeakKeyDictionary()
)


async def close_sessions() -> None:
    """Close every MCP session opened on this event loop (call before the loop ends)."""
    for session in _ALL.pop(asyncio.get_running_loop(), []):
        await session.aclose()


def session_of(tool: Tool) -> Session:
    """The session a tool imported from MCP calls through (for inspection and tests)."""
    source = getattr(tool.handler, "source", None)
    if not isinstance(source, _Source):
        raise TypeError(f"{tool.name} is not an MCP tool")
    return source.session()


async def discover(
    url_or_command: str | StdioServerParameters,
    *,
    prefix: str = "",
    include: Sequence[str] | None = None,
    allow_hosts: Sequence[str] = (),
    read_timeout_s: float = 60.0,
    policy: Policy | None = None,
    resolver: Resolver = system_resolver,
    protocol: str = "auto",
    tasks: Literal["required", "optional"] = "required",
) -> Discovery:
    """Like :func:`load`, also returning the tools that were skipped and why."""
    import fnmatch

    if tasks not in ("required", "optional"):
        raise ValueError(f'tasks must be "required" or "optional", not {tasks!r}')
    target = (
        url_or_command
        if isinstance(url_or_command, StdioServerParameters)
        else server_parameters(url_or_command)
    )
    guard = Guard(allow_hosts=tuple(allow_hosts), resolver=resolver)
    source = _Source(target, read_timeout_s, guard, protocol, tasks)
    session = source.session()
    listed: list[Any] = []
    cursor: str | None = None
    for _ in range(100):  # pages
        client = await session.client()
        try:
            with request_scope() as scope:
                page = await client.list_tools(cursor=cursor)
        except MCPError as exc:
            refused = scope.refused() if _is_broken(exc) else None
            if refused is not None:
                raise refused from exc
            raise ToolFailure("remote_error", f"MCP tools/list failed: {exc}") from exc
        listed.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    found = Discovery(tools=[])
    for remote in listed:
        if include is not None and not any(fnmatch.fnmatchcase(remote.name, p) for p in include):
            continue
        try:
            found.tools.append(_tool(source, remote, prefix, policy))
        except CONVERSION_ERRORS as exc:
            found.skip(f"MCP server {session.describe()}", prefix + remote.name, str(exc))
    return found


load = tools_only(
    discover,
    """Every tool of an MCP server (streamable-HTTP URL or stdio command line).

    Every HTTP request of the session passes the SSRF guard (``allow_hosts`` opens private
    hosts). ``include`` holds glob patterns over tool names; ``prefix`` is prepended to every
    name. A tool whose schema cannot be used is skipped (see :func:`discover`). ``protocol``
    picks the revision: ``"auto"`` (the newest both sides speak), ``"legacy"`` (the
    ``initialize`` handshake, up to 2025-11-25) or a modern version such as ``"2026-07-28"``.
    A tool whose ``taskSupport`` is ``required`` is called as a task on revisions with tasks;
    ``tasks="optional"`` calls ``optional`` ones as tasks too (for long calls: polled, so a
    short call gets slower; 2026-07-28 listings carry no ``taskSupport``, so there only
    ``required`` tools, known by the server's refusal of a plain call, run as tasks).
    """,
)


class _Caller:
    """The handler of one imported tool: calls the remote tool through the shared session
    (as a task when the tool's ``taskSupport`` is ``required``, see ``_mcp_tasks``)."""

    def __init__(
        self, source: _Source, name: str, safe_to_repeat: bool, task_support: str | None = None
    ) -> None:
        self.source = source
        self.name = name
        self.safe_to_repeat = safe_to_repeat
        self.task_support = task_support

    def _as_task(self) -> bool:
        support = self.task_support
        return support == "required" or (support == "optional" and self.source.tasks == support)

    async def __call__(self, _tw_context: Context | None = None, **arguments: Any) -> Any:
        session = self.source.session()
        left = _tw_context.time_left() if _tw_context is not None else None
        progress = _progress_forwarder(_tw_context)
        attempt = 0
        while True:
            attempt += 1
            client = await session.client()  # opening a session is no part of the scope
            task: TaskCall | None = None
            if self._as_task() and speaks_tasks(client.protocol_version):
                task = TaskCall(
                    session,
                    self.name,
                    arguments,
                    _tw_context,
                    is_broken=_is_broken,
                    read_timeout_s=session.read_timeout_s,
                )
            try:
                with request_scope() as scope:
                    if task is not None:
                        raw = await task.create(client)
                    else:
                        result = await client.call_tool(
                            self.name,
                            arguments,
                            read_timeout_seconds=left,
                            progress_callback=progress,
                        )
            except Exception as exc:
                if not _is_broken(exc):
                    if task is None and needs_tasks(exc) and self.task_support != "required":
                        # 2026-07-28 listings carry no taskSupport: the server's refusal of
                        # a plain call (it ran nothing) says so; the call is made as a task
                        self.task_support = "required"
                        attempt -= 1
                        continue
                    raise _failure(exc, self.name) from exc
                await session.invalidate()
                refused = scope.refused()
                if refused is not None:
                    # the guard refused this call's own request and the SDK dropped the
                    # session: the server's name now resolves somewhere forbidden. Never
                    # repeated here; the next call opens a session and is checked again.
                    # (A refusal of another request, e.g. the background event stream or a
                    # concurrent call, is not this call's: it broke, as below.)
                    raise refused from exc
                # A broken connection may or may not have delivered the call (or created
                # the task): repeat it only when doing so is harmless; otherwise the next
                # call gets the new session.
                if attempt == 1 and self.safe_to_repeat:
                    continue
                raise ToolFailure(
                    "remote_error",
                    f"The connection to the MCP server broke during {self.name}; it will be "
                    "reopened for the next call.",
                    details={"server": session.describe()},
                ) from exc
            if task is not None:
                # the task id is durable on the server: polling may go on over a new session
                raw = raw if raw is not None else await task.outcome()
                result = _call_result(self.name, raw)
            return _process_result(self.name, result)


def _call_result(name: str, raw: Mapping[str, Any]) -> Any:
    try:
        return mcp_types.CallToolResult.model_validate(raw, by_name=False)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise ToolFailure(
            "remote_error", f"MCP tool {name}: its task ended in no usable result: {exc}"
        ) from exc


def _refusal_in(exc: BaseException) -> ToolFailure | None:
    """The guard's refusal among ``exc``, its causes and (task) group members, or None."""
    stack, seen = [exc], set()
    while stack:
        found = stack.pop()
        if id(found) in seen:
            continue
        seen.add(id(found))
        if isinstance(found, ToolFailure):
            return found
        if isinstance(found, BaseExceptionGroup):
            stack.extend(found.exceptions)
        stack.extend(e for e in (found.__cause__, found.__context__) if e is not None)
    return None


def _progress_forwarder(ctx: Context | None) -> Any:
    """The server's progress notifications, passed on to whoever follows the call."""
    if ctx is None or ctx.progress is None:
        return None

    async def forward(progress: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(progress, total, message)

    return forward


def _failure(exc: BaseException, name: str) -> ToolFailure:
    if isinstance(exc, MCPError):
        if exc.code == mcp_types.REQUEST_TIMEOUT:
            return ToolFailure("timeout", f"MCP tool {name} timed out: {exc.message}")
        return ToolFailure(
            "remote_error",
            f"MCP tool {name} failed: {exc.message}",
            details={"mcp_code": exc.code},
        )
    if isinstance(exc, TimeoutError):
        return ToolFailure("timeout", f"MCP tool {name} timed out")
    return ToolFailure("remote_error", f"MCP tool {name} failed: {exc!r}")


def _process_result(name: str, result: Any) -> Any:
    parts = [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in result.content]
    texts = [p.get("text", "") for p in parts if p.get("type") == "text"]
    if result.is_error:
        raise ToolFailure(
            "execution_error",
            "\n".join(texts) or f"MCP tool {name} reported an error",
            details={"content": parts},
        )
    if result.structured_content is not None:
        return result.structured_content
    if len(parts) == 1 and texts:
        return texts[0]
    return parts


def _tool(source: _Source, remote: Any, prefix: str, policy: Policy | None) -> Tool:
    hints = remote.annotations
    read_only = bool(getattr(hints, "read_only_hint", None))
    idempotent = read_only or bool(getattr(hints, "idempotent_hint", None))
    destructive = bool(getattr(hints, "destructive_hint", None)) and not read_only
    open_world = getattr(hints, "open_world_hint", None)
    document: dict[str, Any] = {
        "name": prefix + remote.name,
        "description": remote.description or remote.title or remote.name,
        "inputSchema": _plain(remote.input_schema),
    }
    output = _plain(remote.output_schema) if remote.output_schema else None
    title = remote.title or getattr(hints, "title", None)
    if title:
        document["title"] = str(title)
    support = getattr(getattr(remote, "execution", None), "task_support", None)
    if support in ("optional", "required"):
        # the server runs it as a task: so may we (a "required" one is called as a task; an
        # "optional" one plainly, which its server accepts and which costs no polling)
        document["execution"] = {"taskSupport": support}
    return Tool.from_schema(
        document,
        handler=_Caller(source, remote.name, safe_to_repeat=idempotent, task_support=support),
        read_only=read_only,
        idempotent=idempotent,
        destructive=destructive,
        open_world=True if open_world is None else bool(open_world),
        output_schema=output,
        policy=policy,
        tags={"mcp"},
    )


def _plain(schema: Any) -> dict[str, Any]:
    if isinstance(schema, Mapping):
        return dict(schema)
    dump = getattr(schema, "model_dump", None)
    return dict(dump(by_alias=True, exclude_none=True)) if dump else {}
