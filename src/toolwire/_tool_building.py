"""How a :class:`~toolwire.Tool` is built: its options, its spec, and what its handler takes.

The three constructors (``@tool``, ``Tool.from_schema``, ``Tool.from_model`` in ``_tools``)
share these parts: the keyword options, the checked :class:`~toolwire.ToolSpec`, the
handler's ``Context`` parameters and accepted names, and the binding that turns validated
JSON into the handler's keyword arguments.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from toolwire._errors import ToolDefinitionError
from toolwire._spec import TASK_SUPPORT, TaskSupport, ToolAnnotations, ToolSpec
from toolwire._validate import ToKwargs
from toolwire.runtime._policy import Policy
from toolwire.schema._hints import is_context_type, type_hints
from toolwire.schema._normalize import SchemaShapeError, normalize_schema

if TYPE_CHECKING:
    from pydantic import BaseModel

    from toolwire.schema._from_types import FunctionShape

Isolation = Literal["thread", "inline", "process"]
ISOLATIONS: tuple[Isolation, ...] = ("thread", "inline", "process")
_BAD_NAME = re.compile(r"[\s\x00-\x1f\x7f]")


class ToolOptions(TypedDict, total=False):
    """Keyword options shared by ``@tool``, ``Tool.from_schema`` and ``Tool.from_model``."""

    name: str
    description: str
    title: str
    read_only: bool
    idempotent: bool
    destructive: bool
    open_world: bool
    tags: Iterable[str]
    strict: bool | None
    policy: Policy | None
    isolation: Isolation
    sequential: bool
    requires_approval: bool
    audit_arguments: bool
    output_schema: Mapping[str, Any] | None
    max_argument_bytes: int
    max_depth: int
    task_support: TaskSupport


class Binding:
    """How validated JSON becomes keyword arguments for this tool's handler (build-once)."""

    __slots__ = ("known", "model", "plain", "to_kwargs")

    def __init__(
        self,
        *,
        model: type[BaseModel] | None = None,
        to_kwargs: ToKwargs | None = None,
        plain: Mapping[str, tuple[type, ...] | None] | None = None,
        known: frozenset[str] | None = None,
    ) -> None:
        self.model = model
        self.to_kwargs = to_kwargs
        self.plain = plain
        self.known = known


def check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ToolDefinitionError(f"a tool name must be a non-empty string, got {name!r}")
    if len(name) > 256 or _BAD_NAME.search(name):
        raise ToolDefinitionError(
            f"invalid tool name {name!r}: no whitespace or control characters, at most 256 chars"
        )


def is_async(handler: Any) -> bool:
    if handler is None:
        return False
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def handler_facts(
    handler: Callable[..., Any] | None,
) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """``(context parameter names, accepted argument names or None for any)``."""
    if handler is None:
        return (), None
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return (), None
    try:
        shape_hints = type_hints(handler)
    except TypeError:
        shape_hints = {}
    context: list[str] = []
    names: list[str] = []
    any_kwargs = False
    for pname, param in signature.parameters.items():
        annotation = shape_hints.get(pname, param.annotation)
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            any_kwargs = True
        elif is_context_type(annotation):
            context.append(pname)
        elif param.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            names.append(pname)
    return tuple(context), None if any_kwargs else frozenset(names)


def model_parameter(handler: Callable[..., Any], model: type[BaseModel]) -> str | None:
    try:
        signature = inspect.signature(handler)
        hints = type_hints(handler)
    except (TypeError, ValueError):
        return None
    params = [
        (pname, hints.get(pname, p.annotation))
        for pname, p in signature.parameters.items()
        if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        and not is_context_type(hints.get(pname, p.annotation))
    ]
    if len(params) == 1 and params[0][1] is model:
        return params[0][0]
    return None


def function_binding(shape: FunctionShape) -> Binding:
    fields = shape.fields
    extras = shape.accepts_any_kwargs

    def to_kwargs(instance: BaseModel, data: Mapping[str, Any]) -> dict[str, Any]:
        out = {pname: getattr(instance, attr) for pname, attr in fields.items() if pname in data}
        if extras and instance.__pydantic_extra__:
            out.update(instance.__pydantic_extra__)
        return out

    return Binding(
        model=shape.model,
        to_kwargs=to_kwargs,
        plain=shape.plain,
        known=None if extras else frozenset(fields),
    )


def make_spec(
    name: Any,
    description: Any,
    input_schema: Mapping[str, Any],
    output_schema: Any,
    options: ToolOptions,
    doc: Mapping[str, Any],
) -> ToolSpec:
    check_name(name)
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ToolDefinitionError(f"tool {name!r}: description must be a string")
    hints = doc.get("hints", {})
    annotations = ToolAnnotations(
        read_only=bool(options.get("read_only", hints.get("read_only", False))),
        idempotent=bool(options.get("idempotent", hints.get("idempotent", False))),
        destructive=bool(options.get("destructive", hints.get("destructive", False))),
        open_world=bool(options.get("open_world", hints.get("open_world", False))),
    )
    tags_option = options.get("tags", ())
    if isinstance(tags_option, str):
        tags_option = (tags_option,)
    tags = frozenset(tags_option)
    if not all(isinstance(t, str) for t in tags):
        raise ToolDefinitionError(f"tool {name!r}: tags must be strings")
    strict = options.get("strict", doc.get("strict"))
    if strict is not None and not isinstance(strict, bool):
        raise ToolDefinitionError(f"tool {name!r}: strict must be true, false or null")
    if output_schema is not None:
        if not isinstance(output_schema, Mapping):
            raise ToolDefinitionError(f"tool {name!r}: the output schema must be an object")
        try:
            output_schema = normalize_schema(output_schema, path="$.output_schema")
        except SchemaShapeError as exc:
            raise ToolDefinitionError(f"tool {name!r}: {exc}") from exc
    meta_check(name, input_schema, "input")
    if output_schema is not None:
        meta_check(name, output_schema, "output")
    task_support = options.get("task_support", doc.get("task_support", "forbidden"))
    if task_support not in TASK_SUPPORT:
        raise ToolDefinitionError(
            f"tool {name!r}: task_support must be one of {TASK_SUPPORT}, not {task_support!r}"
        )
    return ToolSpec(
        name=name,
        description=description,
        input_schema=input_schema,
        output_schema=output_schema,
        annotations=annotations,
        tags=tags,
        strict=strict,
        title=options.get("title", doc.get("title")),
        task_support=task_support,
    )


def meta_check(name: str, schema: Mapping[str, Any], which: str) -> None:
    # Imported on first use: ``import toolwire`` alone must not pay for jsonschema-rs.
    import jsonschema_rs

    try:
        jsonschema_rs.meta.validate(dict(schema))
    except jsonschema_rs.ValidationError as exc:
        where = "".join(f"[{p!r}]" for p in exc.instance_path) or " (top level)"
        raise ToolDefinitionError(
            f"tool {name!r}: the {which} schema is not valid JSON Schema at{where}: {exc.message}"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ToolDefinitionError(
            f"tool {name!r}: the {which} schema is not valid JSON Schema: {exc}"
        ) from exc
