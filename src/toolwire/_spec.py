"""What a tool *is*, independent of how it runs: name, description, schemas, hints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

# Whether a tool runs as a background task (MCP's ``execution.taskSupport``): ``forbidden`` (only
# plain calls), ``optional`` (either) or ``required`` (only as a task, through ``Toolbox.start``
# or a transport's task routes).
TaskSupport = Literal["forbidden", "optional", "required"]
TASK_SUPPORT: tuple[TaskSupport, ...] = get_args(TaskSupport)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolAnnotations:
    """Behaviour hints, named as in MCP (``readOnlyHint``, ``idempotentHint``...).

    ``read_only`` implies ``idempotent``. The runtime uses them to decide what may be cached
    and retried; dialects that carry hints (MCP, OpenAPI) export them.
    """

    read_only: bool = False
    idempotent: bool = False
    destructive: bool = False
    open_world: bool = False

    @property
    def safe_to_repeat(self) -> bool:
        """True when running the call twice has the same effect as running it once."""
        return self.read_only or self.idempotent


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    """The portable description of a tool: everything a dialect exporter needs.

    ``input_schema`` is JSON Schema 2020-12 with ``"type": "object"`` at the top.
    ``task_support`` says whether calls may (``optional``) or must (``required``) run as
    durable tasks (see ``docs/tasks.md``); the default ``forbidden`` allows plain calls only.
    """

    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    output_schema: Mapping[str, Any] | None = None
    annotations: ToolAnnotations = field(default_factory=ToolAnnotations)
    tags: frozenset[str] = frozenset()
    strict: bool | None = None
    title: str | None = None
    task_support: TaskSupport = "forbidden"
