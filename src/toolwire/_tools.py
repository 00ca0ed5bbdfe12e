"""Tools: a :class:`~toolwire.ToolSpec` plus the handler that runs it and how to run it.

Three ways to define one, all ending in the same :class:`Tool`:

* ``@tool`` on a sync or async function (schema from type hints and the docstring);
* :meth:`Tool.from_schema` on a JSON document in any common shape (seed/OpenAI legacy,
  OpenAI chat and Responses, Anthropic, MCP, Gemini, BFCL), with or without a handler;
* :meth:`Tool.from_model` on a pydantic model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, overload

from toolwire._context import Context
from toolwire._errors import ToolDefinitionError, ToolFailure
from toolwire._spec import ToolAnnotations, ToolSpec
from toolwire._tool_building import (
    ISOLATIONS,
    Binding,
    Isolation,
    ToolOptions,
    check_name,
    function_binding,
    handler_facts,
    is_async,
    make_spec,
    model_parameter,
)
from toolwire._validate import MAX_ARGUMENT_BYTES, MAX_DEPTH, ArgumentValidator, ToKwargs, Validated
from toolwire.runtime._policy import Policy
from toolwire.schema._documents import read_document

if TYPE_CHECKING:
    from pydantic import BaseModel


__all__ = ["ISOLATIONS", "Isolation", "Tool", "ToolOptions", "tool"]

F = TypeVar("F", bound=Callable[..., Any])


class Tool:
    """A callable tool: its portable :class:`~toolwire.ToolSpec`, handler and execution options.

    Build one with :func:`tool`, :meth:`from_schema` or :meth:`from_model`. A tool is also
    directly callable (``get_weather("北京")`` runs the handler), which keeps decorated
    functions usable as functions.

    Example::

        @tw.tool(read_only=True)
        async def get_weather(location: str) -> dict[str, int]:
            '''获取指定城市的天气信息

            Args:
                location: 城市名称
            '''
            return {"temp": 25}

        get_weather.validate('{"location": "北京"}')  # {'location': '北京'}
    """

    __slots__ = (
        "__weakref__",
        "_binding",
        "_validator",
        "audit_arguments",
        "context_params",
        "handler",
        "is_async",
        "isolation",
        "max_argument_bytes",
        "max_depth",
        "policy",
        "requires_approval",
        "sequential",
        "spec",
    )

    def __init__(
        self,
        spec: ToolSpec,
        handler: Callable[..., Any] | None = None,
        *,
        policy: Policy | None = None,
        isolation: Isolation = "thread",
        sequential: bool = False,
        requires_approval: bool = False,
        audit_arguments: bool = False,
        max_argument_bytes: int = MAX_ARGUMENT_BYTES,
        max_depth: int = MAX_DEPTH,
        _binding: Binding | None = None,
        _context_params: tuple[str, ...] | None = None,
    ) -> None:
        check_name(spec.name)
        if isolation not in ISOLATIONS:
            raise ToolDefinitionError(
                f"tool {spec.name!r}: isolation must be one of {ISOLATIONS}, not {isolation!r}"
            )
        if policy is not None and not isinstance(policy, Policy):
            raise ToolDefinitionError(f"tool {spec.name!r}: policy must be a toolwire.Policy")
        if handler is not None and not callable(handler):
            raise ToolDefinitionError(f"tool {spec.name!r}: the handler is not callable")
        if max_argument_bytes < 1 or max_depth < 1:
            raise ToolDefinitionError(f"tool {spec.name!r}: limits must be positive")
        self.spec = spec
        self.handler = handler
        self.policy = policy
        self.isolation: Isolation = isolation
        self.sequential = sequential
        self.requires_approval = requires_approval
        self.audit_arguments = audit_arguments
        self.max_argument_bytes = max_argument_bytes
        self.max_depth = max_depth
        if _binding is None or _context_params is None:
            context_params, known = handler_facts(handler)
            _binding = _binding or Binding(known=known)
            _context_params = context_params if _context_params is None else _context_params
        self._binding = _binding
        self.context_params: tuple[str, ...] = _context_params
        self.is_async = is_async(handler)
        self._validator: ArgumentValidator | None = None

    # identity ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The tool's name as defined (dialect exports may map it to a wire name)."""
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def annotations(self) -> ToolAnnotations:
        return self.spec.annotations

    @property
    def tags(self) -> frozenset[str]:
        return self.spec.tags

    def __repr__(self) -> str:
        kind = "schema-only" if self.handler is None else ("async" if self.is_async else "sync")
        return f"<Tool {self.name!r} ({kind})>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the handler directly, bypassing validation and policies."""
        return self.require_handler()(*args, **kwargs)

    # validation -------------------------------------------------------------------------------

    def _get_validator(self) -> ArgumentValidator:
        validator = self._validator
        if validator is None:
            # Imported on first use: ``import toolwire`` must not pay for jsonschema-rs.
            import jsonschema_rs

            binding = self._binding
            try:
                validator = ArgumentValidator(
                    self.spec.name,
                    self.spec.input_schema,
                    model=binding.model,
                    to_kwargs=binding.to_kwargs,
                    plain=binding.plain,
                    known=binding.known,
                    max_bytes=self.max_argument_bytes,
                    max_depth=self.max_depth,
                )
            except (ValueError, jsonschema_rs.ValidationError) as exc:
                raise ToolDefinitionError(
                    f"tool {self.name!r}: its input schema cannot be compiled: {exc}"
                ) from exc
            self._validator = validator
        return validator

    def validate(
        self, arguments: str | bytes | Mapping[str, Any], *, strict: bool = False
    ) -> dict[str, Any]:
        """Validate a model's arguments and return the keyword arguments for the handler.

        ``arguments`` is the JSON text the model produced (``str`` or ``bytes``) or a mapping.
        Function tools get Python values (a pydantic model parameter arrives as the model, a
        ``datetime`` as ``datetime``); schema-only tools get plain JSON values. Lenient
        coercions apply unless ``strict``; see :meth:`validate_report` to learn which.

        Raises :class:`~toolwire.InvalidArguments` listing every problem.
        """
        validator = self._validator or self._get_validator()
        kwargs = validator.quick(arguments)
        if kwargs is not None:
            return kwargs
        return validator.check(arguments, strict=strict)[0]

    def validate_report(
        self, arguments: str | bytes | Mapping[str, Any], *, strict: bool = False
    ) -> Validated:
        """Like :meth:`validate`, also returning the coercions that were applied."""
        validator = self._validator or self._get_validator()
        kwargs, notes = validator.check(arguments, strict=strict)
        return Validated(arguments=kwargs, coercions=tuple(notes or ()))

    def bind(self, kwargs: dict[str, Any], context: Context) -> dict[str, Any]:
        """Add the handler's ``Context`` parameters to validated keyword arguments."""
        if not self.context_params:
            return kwargs
        out = dict(kwargs)
        for param in self.context_params:
            out[param] = context
        return out

    def require_handler(self) -> Callable[..., Any]:
        """The handler, or a ``ToolFailure`` explaining that this tool cannot run."""
        handler = self.handler
        if handler is None:
            raise ToolFailure(
                "execution_error",
                f"tool {self.name} has no handler: it is defined for export and validation only",
            )
        return handler

    # constructors -----------------------------------------------------------------------------

    @classmethod
    def from_function(cls, func: Callable[..., Any], **options: Unpack[ToolOptions]) -> Tool:
        """Define a tool from a sync or async function (what ``@tool`` does)."""
        # Imported on first use: only typed functions need pydantic (~60 ms to import).
        from toolwire.schema._from_types import function_shape

        if isinstance(func, Tool):
            raise ToolDefinitionError(f"{func!r} is already a tool")
        if not callable(func):
            raise ToolDefinitionError(f"@tool needs a function, got {type(func).__name__}")
        try:
            shape = function_shape(
                func, name=options.get("name"), description=options.get("description")
            )
        except TypeError as exc:
            raise ToolDefinitionError(str(exc)) from exc
        output_schema = options.get("output_schema", shape.output_schema)
        spec = make_spec(
            shape.name, shape.description, shape.input_schema, output_schema, options, {}
        )
        return cls._create(spec, func, function_binding(shape), shape.context_params, options)

    @classmethod
    def from_schema(
        cls,
        schema: Mapping[str, Any],
        handler: Callable[..., Any] | None = None,
        **options: Unpack[ToolOptions],
    ) -> Tool:
        """Define a tool from a JSON tool document, optionally with a handler.

        Accepted shapes: ``{"name", "description", "parameters"}`` (the seed's and OpenAI's
        legacy functions, Gemini, BFCL), ``{"type": "function", "function": {...}}`` (OpenAI
        chat; ``strict`` inside is kept), the flat OpenAI Responses form, Anthropic
        ``input_schema`` and MCP ``inputSchema`` (with ``annotations`` and ``outputSchema``).
        Foreign type names are normalized to JSON Schema 2020-12. Without a handler the tool
        can be exported and validated, but not run. A schema that cannot be compiled (say a
        ``pattern`` that is not a valid regex) raises :class:`~toolwire.ToolDefinitionError`
        here, naming the problem.

        Example::

            weather = tw.Tool.from_schema({
                "name": "get_weather",
                "description": "获取指定城市的天气信息",
                "parameters": {"type": "object",
                               "properties": {"location": {"type": "string"}},
                               "required": ["location"]},
            })
        """
        doc = read_document(schema)
        name = options.get("name", doc["name"])
        description = options.get("description", doc["description"])
        if "output_schema" in options:
            output = options["output_schema"]
        else:
            output = doc["output"]
        spec = make_spec(name, description, doc["parameters"], output, options, doc)
        context_params, known = handler_facts(handler)
        return cls._create(spec, handler, Binding(known=known), context_params, options)

    @classmethod
    def from_model(
        cls,
        model: type[BaseModel],
        handler: Callable[..., Any] | None = None,
        **options: Unpack[ToolOptions],
    ) -> Tool:
        """Define a tool whose arguments are a pydantic model.

        The handler receives the validated model instance when its one non-``Context``
        parameter is annotated with the model class; otherwise it receives the model's fields
        as keyword arguments (by field name). The name defaults to the handler's, the
        description to the handler's docstring, else the model's.

        Example::

            class Order(BaseModel):
                sku: str
                qty: int = 1

            def place(order: Order) -> str: ...

            place_order = tw.Tool.from_model(Order, place)
        """
        # Imported on first use: only typed tools need pydantic (~60 ms to import).
        from pydantic import BaseModel

        from toolwire.schema._from_types import function_shape, model_schema

        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ToolDefinitionError(f"from_model needs a pydantic model class, got {model!r}")
        try:
            schema = model_schema(model)
        except Exception as exc:
            raise ToolDefinitionError(
                f"cannot describe {model.__name__} as JSON Schema: {exc}"
            ) from exc
        model_doc = str(schema.pop("description", "") or "")
        handler_doc = ""
        default_name = model.__name__
        context_params: tuple[str, ...] = ()
        model_param: str | None = None
        if handler is not None:
            default_name = getattr(handler, "__name__", default_name)
            try:
                shape = function_shape(handler)
            except TypeError:
                shape = None
            if shape is not None:
                handler_doc = shape.description
                context_params = shape.context_params
                model_param = model_parameter(handler, model)
        name = options.get("name", default_name)
        description = options.get("description", handler_doc or model_doc)
        output = options.get("output_schema")
        spec = make_spec(name, description, schema, output, options, {})
        to_kwargs: ToKwargs
        if model_param is not None:
            param = model_param

            def to_kwargs(instance: BaseModel, data: Mapping[str, Any]) -> dict[str, Any]:
                return {param: instance}

        else:
            field_names = tuple(model.model_fields)

            def to_kwargs(instance: BaseModel, data: Mapping[str, Any]) -> dict[str, Any]:
                return {f: getattr(instance, f) for f in field_names}

        known: frozenset[str] | None = None
        if model.model_config.get("extra") != "allow":
            known = frozenset(
                (info.validation_alias if isinstance(info.validation_alias, str) else None)
                or info.alias
                or fname
                for fname, info in model.model_fields.items()
            )
        binding = Binding(model=model, to_kwargs=to_kwargs, known=known)
        return cls._create(spec, handler, binding, context_params, options)

    @classmethod
    def _create(
        cls,
        spec: ToolSpec,
        handler: Callable[..., Any] | None,
        binding: Binding,
        context_params: tuple[str, ...],
        options: ToolOptions,
    ) -> Tool:
        made = cls(
            spec,
            handler,
            policy=options.get("policy"),
            isolation=options.get("isolation", "thread"),
            sequential=options.get("sequential", False),
            requires_approval=options.get("requires_approval", False),
            audit_arguments=options.get("audit_arguments", False),
            max_argument_bytes=options.get("max_argument_bytes", MAX_ARGUMENT_BYTES),
            max_depth=options.get("max_depth", MAX_DEPTH),
            _binding=binding,
            _context_params=context_params,
        )
        # A schema jsonschema-rs cannot compile (a bad regex, a malformed keyword) would fail
        # every call; refuse it here, naming the problem. The validator is kept for later use.
        made._get_validator()
        return made


@overload
def tool(func: F, /) -> Tool: ...
@overload
def tool(func: None = None, /, **options: Unpack[ToolOptions]) -> Callable[[F], Tool]: ...
def tool(
    func: Callable[..., Any] | None = None, /, **options: Unpack[ToolOptions]
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a function into a :class:`Tool`; use bare (``@tool``) or with options.

    Options: ``name``, ``description``, ``title``, ``read_only``, ``idempotent``,
    ``destructive``, ``open_world``, ``tags``, ``strict``, ``policy``, ``isolation``
    (``"thread"`` default for sync handlers, ``"inline"``, ``"process"``), ``sequential``,
    ``requires_approval``, ``audit_arguments``, ``output_schema`` (default: from the return
    annotation), ``max_argument_bytes`` (1 MiB), ``max_depth`` (64), ``task_support``
    (``"forbidden"`` default, ``"optional"``, ``"required"``: whether calls may or must run as
    durable tasks, see :meth:`~toolwire.Toolbox.start`).

    Example::

        @tw.tool(idempotent=True, tags={"weather"})
        def get_weather(location: str, ctx: tw.Context) -> dict[str, int]:
            '''获取指定城市的天气信息'''
            return {"temp": 25}
    """
    if func is not None:
        return Tool.from_function(func, **options)

    def decorate(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(f, **options)

    return decorate
