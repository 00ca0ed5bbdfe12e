"""A set of uniquely named tools plus the runtime that executes their calls."""

from __future__ import annotations

import fnmatch
import itertools
import os
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._context import Caller, ProgressCallback
from toolwire._errors import ToolDefinitionError, UnknownTool
from toolwire._tools import Tool, tool
from toolwire.runtime._resolve import check_policy

if TYPE_CHECKING:
    from toolwire.runtime._executor import Executor
    from toolwire.runtime._tasks import TaskHandle, Tasks

# Dialects with distinct name rules: a wire name from any of them resolves back.
_ALIAS_DIALECTS = ("openai", "gemini", "mcp")
_CALL_PREFIX = f"tw_{os.urandom(4).hex()}_"
# Call ids are "<prefix><n>", n = 1000, 1001, ...: made a thousand at a time, as a block's
# decimal prefix joined to each precomputed three-digit ending. An id formatted one at a time
# cost ~1,550 instructions per call, ~640 this way (callgrind, docs/benchmarks.md); the hot
# path only takes the next one from a list iterator (atomic under the GIL; a block emptied by two
# threads at once gets two fresh blocks, whose ids are still all distinct).
_call_blocks = itertools.count(1)
_ENDINGS = tuple(f"{i:03d}" for i in range(1000))
_call_ids: Iterator[str] = iter(())


def _next_block_of_call_ids() -> str:
    """Starts the next block of call ids and returns its first."""
    global _call_ids
    head = f"{_CALL_PREFIX}{next(_call_blocks)}"
    ids = iter([head + ending for ending in _ENDINGS])
    _call_ids = ids
    return next(ids)


def new_call_id() -> str:
    """A process-unique call id, cheap enough for the hot path."""
    return next(_call_ids, None) or _next_block_of_call_ids()


class Toolbox:
    """Tools with unique names, and the entry points that validate and execute their calls.

    Plain callables are wrapped with :func:`~toolwire.tool`. The runtime (an ``Executor``
    with in-memory state) is created on first use unless one is passed.

    Example::

        box = tw.Toolbox([get_weather])
        box.export("openai")
        box.validate("get_weather", '{"location": "北京"}')
        result = await box.call("get_weather", {"location": "北京"})
    """

    __slots__ = ("_aliases", "_runtime", "_tasks", "_tools")

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        runtime: Executor | None = None,
        tasks: Tasks | None = None,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self._aliases: dict[str, dict[str, str]] | None = None
        self._runtime: Executor | _SharedRuntime | None = runtime
        self._tasks: Tasks | Toolbox | None = tasks
        if tasks is not None:
            tasks._attach(self)
        for item in tools:
            self.add(item)

    # the set ----------------------------------------------------------------------------------

    def add(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (or a function, wrapped with ``@tool``); a duplicate name is an error."""
        if not isinstance(item, Tool):
            if not callable(item):
                raise ToolDefinitionError(
                    f"a toolbox holds tools or functions, got {type(item).__name__}"
                )
            item = tool(item)
        if item.name in self._tools:
            raise ToolDefinitionError(f"duplicate tool name {item.name!r} in this toolbox")
        check_policy(item)
        # Compiled when defined through the constructors; a Tool built directly is checked here,
        # where calls become possible (an uncompilable schema raises ToolDefinitionError).
        item._get_validator()
        self._tools[item.name] = item
        self._aliases = None
        return item

    def get(self, name: str) -> Tool:
        """The tool called ``name``, or whose exported wire name is ``name`` (``spotify_play``
        finds ``spotify.play``). Raises :class:`~toolwire.UnknownTool` with close names."""
        found = self._tools.get(name)
        if found is not None:
            return found
        original = self._resolve_alias(name)
        if original is not None:
            return self._tools[original]
        raise UnknownTool(name, self._suggest(name))

    def _alias_maps(self) -> dict[str, dict[str, str]]:
        aliases = self._aliases
        if aliases is None:
            # Imported on first use (hashlib, regexes): most lookups hit a name directly.
            from toolwire.dialects._names import build_name_map

            names = list(self._tools)
            aliases = {d: build_name_map(names, d) for d in _ALIAS_DIALECTS}
            self._aliases = aliases
        return aliases

    def _resolve_alias(self, name: str) -> str | None:
        for mapping in self._alias_maps().values():
            original = mapping.get(name)
            if original is not None and original in self._tools:
                return original
        return None

    def _suggest(self, name: Any) -> list[str]:
        if not isinstance(name, str) or not self._tools:
            return []
        candidates: dict[str, str] = {n: n for n in self._tools}
        for mapping in self._alias_maps().values():
            for wire, original in mapping.items():
                candidates.setdefault(wire, original)
        # Imported on first use: only an unknown tool name needs suggestions.
        import difflib

        close = difflib.get_close_matches(name, list(candidates), n=5, cutoff=0.6)
        lowered = {n.lower(): n for n in candidates}
        if name.lower() in lowered:
            close.insert(0, lowered[name.lower()])
        out: list[str] = []
        for match in close:
            original = candidates[match]
            if original not in out:
                out.append(original)
        return out[:3]

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Tool):
            return self._tools.get(item.name) is item
        if isinstance(item, str):
            return item in self._tools or self._resolve_alias(item) is not None
        return False

    def __repr__(self) -> str:
        return f"<Toolbox {len(self._tools)} tools: {', '.join(list(self._tools)[:8])}>"

    def names(self) -> list[str]:
        """Tool names in the order they were added."""
        return list(self._tools)

    def subset(
        self,
        names: Iterable[str] | None = None,
        globs: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
    ) -> Toolbox:
        """A toolbox (sharing this one's runtime) with the tools matching ANY of the names,
        glob patterns (``"sql.*"``) or tags given; with no filter at all, every tool."""
        if isinstance(names, str) or isinstance(globs, str) or isinstance(tags, str):
            raise TypeError("subset() takes lists of names, globs and tags, not a single string")
        wanted = [self.get(n).name for n in names] if names is not None else []
        patterns = list(globs or ())
        tag_set = frozenset(tags or ())
        everything = names is None and globs is None and tags is None
        chosen = [
            t
            for t in self._tools.values()
            if everything
            or t.name in wanted
            or any(fnmatch.fnmatchcase(t.name, p) for p in patterns)
            or (tag_set and t.spec.tags & tag_set)
        ]
        box = Toolbox(chosen)
        box._runtime = self._runtime if self._runtime is not None else _SharedRuntime(self)
        box._tasks = self  # the parent's tasks: its worker runs them
        return box

    # describe and validate --------------------------------------------------------------------

    def export(
        self, dialect: str, *, strict: bool = False
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """The tools as ``dialect`` expects them (``"openai"``, ``"openai-functions"``,
        ``"openai-responses"``, ``"anthropic"``, ``"gemini"``, ``"mcp"``, ``"openapi"``)."""
        # Imported on first use: every dialect's exporter is loaded with it.
        from toolwire.dialects._export import export_specs

        return export_specs([t.spec for t in self._tools.values()], dialect, strict=strict)

    def validate(
        self, name: str, arguments: str | bytes | Mapping[str, Any], *, strict: bool = False
    ) -> dict[str, Any]:
        """Validate a call's arguments for the named tool (see :meth:`Tool.validate`)."""
        return self.get(name).validate(arguments, strict=strict)

    # execute ----------------------------------------------------------------------------------

    @property
    def runtime(self) -> Executor:
        """The executor running this toolbox's calls (created on first use)."""
        runtime = self._runtime
        if isinstance(runtime, _SharedRuntime):
            runtime = self._runtime = runtime.resolve()
        if runtime is None:
            # Imported here, not at the top: ``import toolwire`` must not pay for the executor
            # (asyncio, thread and process pools) until a toolbox actually runs a call.
            from toolwire.runtime._executor import Executor

            runtime = self._runtime = Executor()
        return runtime

    @property
    def tasks(self) -> Tasks:
        """The tasks of this toolbox (in memory unless ``Toolbox(tasks=...)`` says otherwise;
        a subset's are its parent's)."""
        tasks = self._tasks
        if isinstance(tasks, Toolbox):
            return tasks.tasks
        if tasks is None:
            # Imported here: ``import toolwire`` must not pay for the task machinery.
            from toolwire.runtime._tasks import Tasks

            tasks = self._tasks = Tasks()
            tasks._attach(self)
        return tasks

    async def start(
        self,
        name: str,
        arguments: str | bytes | Mapping[str, Any] = "{}",
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
    ) -> TaskHandle:
        """Start a durable task running the tool in the background; returns its handle.

        The tool must declare ``task_support="optional"`` or ``"required"``. The run goes
        through :meth:`call` (validation, policies), so ``await handle.result()`` is the
        :class:`~toolwire.ToolResult` that call gives. See ``docs/tasks.md``.

        Example::

            handle = await box.start("build_report", {"year": 2025})
            print((await handle.status()).status)   # "working"
            result = await handle.result()
        """
        tool = self.get(name)  # a subset starts only its own tools
        return await self.tasks.start(
            tool.name, arguments, caller=caller, idempotency_key=idempotency_key
        )

    def call(
        self,
        name: str,
        arguments: str | bytes | Mapping[str, Any] = "{}",
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
        call_id: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Coroutine[Any, Any, ToolResult]:
        """Validate and execute one call (await it); always returns a
        :class:`~toolwire.ToolResult`.

        ``progress`` receives what the tool reports through ``ctx.report_progress``.
        Not a coroutine function itself: it hands back the runtime's coroutine, one layer
        less on every served call.
        """
        if type(arguments) is not str:
            arguments = _arguments_text(arguments)
        runtime = self._runtime
        if runtime is None or type(runtime) is _SharedRuntime:
            runtime = self.runtime
        # the runtime's own entry from the call's parts: no ToolCall is built for it, and the
        # tool is looked up here already (None: an alias or unknown, the runtime asks get())
        return runtime._run_one(  # type: ignore[union-attr]
            self,
            self._tools.get(name),
            call_id or next(_call_ids, None) or _next_block_of_call_ids(),  # new_call_id()
            name,
            arguments,
            caller,
            idempotency_key,
            deadline,
            progress,
        )

    async def run(
        self,
        calls: Sequence[ToolCall],
        *,
        caller: Caller | None = None,
        deadline: float | None = None,
    ) -> list[ToolResult]:
        """Execute calls concurrently; one result per call, in call order."""
        results: list[ToolResult] = await self.runtime.run(
            self, calls, caller=caller, deadline=deadline
        )
        return results

    def run_iter(
        self,
        calls: Sequence[ToolCall],
        *,
        caller: Caller | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[ToolResult]:
        """Execute calls concurrently, yielding each result as it completes."""
        iterator: AsyncIterator[ToolResult] = self.runtime.run_iter(
            self, calls, caller=caller, deadline=deadline
        )
        return iterator


class _SharedRuntime:
    """A subset's pointer to its parent's runtime, resolved when first needed."""

    __slots__ = ("parent",)

    def __init__(self, parent: Toolbox) -> None:
        self.parent = parent

    def resolve(self) -> Executor:
        return self.parent.runtime


def _arguments_text(arguments: str | bytes | Mapping[str, Any]) -> str:
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, (bytes, bytearray, memoryview)):
        # Keep undecodable bytes visible to validation (which reports them) instead of failing.
        return bytes(arguments).decode("utf-8", "surrogateescape")
    try:
        return _json.dumps(arguments)
    except (TypeError, ValueError):
        # Not JSON-serializable: pass the repr so validation reports it as a structured error.
        return repr(arguments)
