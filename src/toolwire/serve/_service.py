"""The transport-neutral core of ``toolwire serve``: every REST, gRPC and MCP call goes here.

It authenticates nothing itself (transports turn their headers or metadata into a
:class:`~toolwire.Caller` with the shared :class:`Authenticator`), then for each call: looks the
tool up, checks the caller's scopes, applies the argument limits, counts the call in flight,
runs it through ``Toolbox.call`` (the one execution path: policies, cache, breaker...), and
writes the audit line and the dashboard/metrics record. Call-level problems never raise: they
come back as a failed :class:`~toolwire.ToolResult` with an error kind.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from toolwire._calls import ToolResult
from toolwire._context import Caller, ProgressCallback
from toolwire._errors import ERROR_KINDS, ToolError, ToolwireError, UnknownTool
from toolwire.observe import UNKNOWN_TOOL  # names that are no tool: one label (metrics, dashboard)
from toolwire.serve._audit import audit
from toolwire.serve._audit import logger as audit_logger
from toolwire.serve._auth import Authenticator
from toolwire.serve._edge import Catalog
from toolwire.serve._limits import InFlight, Limits, check_arguments
from toolwire.serve._redact import redact, redact_problem
from toolwire.serve._stats import CallStats
from toolwire.serve._tasks import refuse_plain_call

ReadyCheck = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    name: str
    arguments: Any = None
    call_id: str | None = None
    idempotency_key: str | None = None


def failed(name: str, error: ToolError, call_id: str | None = None) -> ToolResult:
    return ToolResult(call_id=call_id or _new_id(), name=name, ok=False, error=error, attempts=0)


def _new_id() -> str:
    return "call_" + uuid.uuid4().hex[:20]


class ToolService:
    """Serves one toolbox to every transport.

    Example::

        service = ToolService(box, auth=Authenticator(), limits=Limits())
        result = await service.call("get_weather", b'{"location": "Paris"}', caller=caller,
                                    transport="rest")
    """

    def __init__(
        self,
        box: Any,
        *,
        auth: Authenticator | None = None,
        limits: Limits | None = None,
        ready_checks: Sequence[ReadyCheck] = (),
        stats: CallStats | None = None,
        redact_errors: bool | None = None,
    ) -> None:
        self.box = box
        self.auth = auth or Authenticator()
        self.catalog = Catalog(box, self.auth)  # the tool views every edge lists
        self.limits = limits or Limits()
        self.in_flight = InFlight(self.limits)
        self.draining = False  # set when the server starts shutting down (/readyz 503)
        self.ready_checks = tuple(ready_checks)
        self.stats = stats or CallStats()
        # Send only kind + generic message (+ error id) for handler and upstream failures
        # (see _redact). None: undecided, and off until ``serve_async`` decides by the bind
        # address (on for non-loopback).
        self.redact_errors = redact_errors

    # --- tools -------------------------------------------------------------------------

    def tools(self, caller: Caller | None = None) -> list[Any]:
        """The tools ``caller`` may call (all of them for ``None``: the server's own view)."""
        tools = list(self.box)
        if caller is None or not self.auth.enabled:
            return tools
        return [t for t in tools if self.auth.allowed(caller, t.name)]

    def get(self, name: str, caller: Caller | None = None) -> Any:
        """The tool, or raises ``UnknownTool`` (the toolbox's lookup; its suggestions only
        name tools ``caller`` may call) or, when ``caller`` may not call it, ``forbidden``."""
        try:
            tool = self.box.get(name)
        except UnknownTool as exc:
            raise self._unknown(exc, caller) from None
        if caller is not None:
            self.auth.authorize(caller, tool.name)
        return tool

    def _unknown(self, exc: UnknownTool, caller: Caller | None) -> UnknownTool:
        if caller is None or not self.auth.enabled or not exc.suggestions:
            return exc
        shown = [s for s in exc.suggestions if self.auth.allowed(caller, s)]
        return exc if len(shown) == len(exc.suggestions) else UnknownTool(exc.name, shown)

    def export(self, dialect: str, caller: Caller | None = None) -> Any:
        """The tools ``caller`` may call, exported to ``dialect``."""
        if caller is None or not self.auth.enabled:
            return self.box.export(dialect)
        from toolwire.dialects._export import export_specs  # loaded with the exporters

        return export_specs([t.spec for t in self.tools(caller)], dialect)

    # --- calls -------------------------------------------------------------------------

    async def call(
        self,
        name: str,
        arguments: str | bytes | Mapping[str, Any] | None,
        *,
        caller: Caller,
        transport: str,
        idempotency_key: str | None = None,
        call_id: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> ToolResult:
        """Run one call end to end; never raises for a call-level problem."""
        started = time.perf_counter()
        text: str | bytes | None = None
        tool: Any = None
        entered = False
        try:
            try:
                tool = self.box.get(name)
            except UnknownTool as exc:
                raise self._unknown(exc, caller) from None
            name = tool.name
            if self.auth.enabled:  # (with auth off every caller may call every tool)
                self.auth.authorize(caller, name)
            refuse_plain_call(tool)
            text = check_arguments(name, arguments, self.limits)
            self.in_flight.enter()
            entered = True
            result: ToolResult = await self.box.call(
                name,
                text,
                caller=caller,
                idempotency_key=idempotency_key,
                call_id=call_id,
                deadline=deadline,
                progress=progress,
            )
        except ToolwireError as exc:
            result = failed(name, exc.to_error(), call_id)
        except TimeoutError:
            result = failed(
                name,
                ToolError(kind="timeout", message=f"`{name}` did not finish before the deadline."),
                call_id,
            )
        finally:
            if entered:
                self.in_flight.exit()
        if result.error is not None and result.error.kind not in ERROR_KINDS:
            # A handler raised ToolFailure with a made-up kind: keep its message, fix the kind.
            result = replace(
                result,
                error=ToolError(
                    kind="execution_error",
                    message=result.error.message or "The tool failed.",
                    details={**result.error.details, "raised_kind": str(result.error.kind)},
                ),
            )
        if call_id is not None and result.call_id != call_id:
            result = replace(result, call_id=call_id)
        if self.redact_errors and result.error is not None:
            result = redact(result, caller=caller, transport=transport)
        latency = time.perf_counter() - started
        self.stats.record(
            transport=transport,
            caller=caller,
            result=result,
            latency_s=latency,
            tool=name if tool is not None else UNKNOWN_TOOL,
        )
        if audit_logger.isEnabledFor(logging.INFO):  # checked here: the call has 7 arguments
            audit(
                transport=transport,
                caller=caller,
                tool=name if tool is not None else UNKNOWN_TOOL,
                requested=None if tool is not None else name,
                result=result,
                latency_s=latency,
                arguments=text,
                show_arguments=bool(getattr(tool, "audit_arguments", False)),
            )
        return result

    async def run_batch(
        self, items: Sequence[BatchItem], *, caller: Caller, transport: str
    ) -> list[ToolResult]:
        """Run calls concurrently; one result per item, in order."""
        if not items:
            return []
        return list(
            await asyncio.gather(
                *(
                    self.call(
                        item.name,
                        item.arguments,
                        caller=caller,
                        transport=transport,
                        idempotency_key=item.idempotency_key,
                        call_id=item.call_id,
                    )
                    for item in items
                )
            )
        )

    # --- health ------------------------------------------------------------------------

    async def readiness(self) -> dict[str, str]:
        """Run every readiness check; maps check name -> "ok" or the problem."""
        out: dict[str, str] = {}
        for check in self.ready_checks:
            label = getattr(check, "__name__", "check")
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                out[label] = "ok"
            except Exception as exc:
                # /readyz needs no credentials: with redaction on, a Redis URL in the
                # exception's text stays in the log
                problem = f"{type(exc).__name__}: {exc}"
                out[label] = redact_problem(label, exc) if self.redact_errors else problem
        return out
