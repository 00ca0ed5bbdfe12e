"""Tasks for every transport: the checks a served task start goes through, in one place.

REST, gRPC and MCP authenticate the caller their own way, then come here: the tool is looked
up and authorized for the caller (scopes), the arguments pass the server's limits, and the
toolbox's :class:`~toolwire.runtime.Tasks` stores the task (its worker runs it through
``Toolbox.call``, like any call). Reading, listing, watching and cancelling are scoped to the
caller: another caller's task is answered as one that does not exist.

A plain call of a tool whose ``task_support`` is ``required`` is refused by
:func:`refuse_plain_call` (every transport's call goes through ``ToolService.call``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from toolwire._context import Caller
from toolwire._errors import ToolFailure
from toolwire.runtime._tasks import TaskInfo, TaskPage, Tasks, TaskUpdate
from toolwire.serve._limits import check_arguments


def refuse_plain_call(tool: Any) -> None:
    """Raise ``invalid_arguments`` when ``tool`` runs only as a task."""
    if tool.spec.task_support == "required":
        raise ToolFailure(
            "invalid_arguments",
            f"`{tool.name}` runs only as a task: start it with POST /v1/tools/{tool.name}/tasks "
            "(gRPC TaskService.StartTask, an MCP task-augmented tools/call).",
            details={"reason": "task_required", "tool": tool.name},
        )


def supports_tasks(service: Any) -> bool:
    """Whether any tool of ``service`` may run as a task (else no worker is started)."""
    return any(t.spec.task_support != "forbidden" for t in service.box)


class TaskFront:
    """The task operations of one served toolbox (see the module docstring).

    Example::

        front = TaskFront(service)
        info = await front.start("build_report", b'{"year": 2025}', caller=caller)
    """

    def __init__(self, service: Any) -> None:
        self.service = service

    @property
    def tasks(self) -> Tasks:
        tasks: Tasks = self.service.box.tasks
        return tasks

    async def start(
        self,
        name: str,
        arguments: str | bytes | Mapping[str, Any] | None,
        *,
        caller: Caller,
        idempotency_key: str | None = None,
    ) -> TaskInfo:
        """Start a task; raises ``ToolwireError`` (unknown tool, forbidden, bad arguments,
        task_support forbidden, too many tasks, a reused key)."""
        tool = self.service.get(name, caller)
        text = check_arguments(tool.name, arguments, self.service.limits)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "surrogateescape")
        handle = await self.tasks.start(
            tool.name, text, caller=caller, idempotency_key=idempotency_key
        )
        return await self.tasks.get(handle.id, caller=caller)

    async def get(self, task_id: str, *, caller: Caller) -> TaskInfo:
        return await self.tasks.get(task_id, caller=caller)

    async def list(
        self, *, caller: Caller, limit: int = 100, cursor: str | None = None
    ) -> TaskPage:
        return await self.tasks.list(caller=caller, limit=limit, cursor=cursor)

    async def cancel(self, task_id: str, *, caller: Caller) -> TaskInfo:
        return await self.tasks.cancel(task_id, caller=caller)

    def watch(
        self, task_id: str, *, caller: Caller, after: str | None = None
    ) -> AsyncIterator[TaskUpdate]:
        return self.tasks.watch(task_id, caller=caller, after=after)


def tasks_from(
    config: Any, backend: Any = None, *, tools: Iterable[Any] = (), several: bool = False
) -> Tasks:
    """The toolbox's ``Tasks`` from ``[tasks]``: in Redis (sharing the state backend's client
    and prefix) when ``[state] backend = "redis"``, else in this process's memory.

    ``several``: this process is one of several sharing the port (``--workers``): a request
    may reach any of them, so tasks kept in one process's memory would be missing from the
    others. That is refused when one of ``tools`` may run as a task.
    """
    from toolwire.config import ConfigError
    from toolwire.config._tasks import tasks_options

    shared = backend is not None and getattr(backend, "shared", False)
    if several and not shared and any(t.spec.task_support != "forbidden" for t in tools):
        raise ConfigError(
            f"{config.path or 'configuration'}: tasks with --workers > 1 need "
            '[state] backend = "redis" (each worker process would keep tasks of its own)'
        )
    store = None
    if shared:
        from toolwire.state._tasks_redis import RedisTaskStore

        store = RedisTaskStore.from_backend(backend)
    return Tasks(store, **tasks_options(config.tasks))


@contextlib.asynccontextmanager
async def tasks_running(service: Any) -> AsyncIterator[None]:
    """Run the toolbox's task worker while serving (only when a tool supports tasks): tasks
    left by a replica that stopped are taken over even before this one starts any."""
    if not supports_tasks(service):
        yield
        return
    tasks = service.box.tasks
    await tasks.run()
    try:
        yield
    finally:
        await tasks.aclose()
