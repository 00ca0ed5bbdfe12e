"""Python type hints -> JSON Schema 2020-12 (through pydantic v2), and function signatures ->
the input schema plus the machinery that turns validated JSON back into Python values.

Output is kept clean for models: pydantic's generated ``title`` on every property and model is
dropped (it repeats the name and costs tokens); titles a user wrote by hand are kept.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo

from toolwire.schema._docstrings import parse_docstring
from toolwire.schema._hints import is_context_type, type_hints

# Leaves whose validated JSON value already is the right Python value: calls to functions
# with only these parameters skip pydantic entirely (the hot path).
_PLAIN_TYPES: dict[Any, tuple[type, ...] | None] = {
    str: (str,),
    int: (int,),
    float: (float,),
    bool: (bool,),
    Any: None,
    inspect.Parameter.empty: None,
}
_NO_OUTPUT = (Any, None, type(None), inspect.Parameter.empty)
_VALUE_KEYS = frozenset({"enum", "const", "default", "examples", "example"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionShape:
    """Everything derived once from a function's signature.

    ``model`` validates arguments into Python values (``None`` when JSON values are already
    right); ``fields`` maps argument names to the model's attribute names; ``plain`` maps every
    argument to the exact Python types that may skip pydantic (``None`` entry: anything), or
    is ``None`` when some argument always needs pydantic.
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    context_params: tuple[str, ...]
    model: type[BaseModel] | None
    fields: dict[str, str]
    plain: dict[str, tuple[type, ...] | None] | None
    accepts_any_kwargs: bool
    model_param: str | None = None  # handler takes the whole validated model under this name


def _auto_title(name: str) -> set[str]:
    return {name.title().replace("_", " "), name.replace("_", " ").title(), name}


def clean_schema(schema: Any, *, drop_top_title: bool = True) -> Any:
    """Drop pydantic's generated titles, in place, and return the schema."""
    if not isinstance(schema, dict):
        return schema
    if drop_top_title:
        schema.pop("title", None)
    _clean_node(schema)
    defs = schema.get("$defs")
    if isinstance(defs, dict):
        for key, sub in defs.items():
            if isinstance(sub, dict) and sub.get("title") == key:
                del sub["title"]
    return schema


def _clean_node(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _clean_node(item)
        return
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        for name, sub in props.items():
            if isinstance(sub, dict) and sub.get("title") in _auto_title(name):
                del sub["title"]
    for key, value in node.items():
        if key in _VALUE_KEYS:
            continue
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            for sub in value.values():
                _clean_node(sub)
        else:
            _clean_node(value)


def type_schema(
    tp: Any, *, mode: typing.Literal["validation", "serialization"] = "validation"
) -> dict[str, Any]:
    """JSON Schema 2020-12 for one Python type.

    Example::

        >>> type_schema(list[int])
        {'items': {'type': 'integer'}, 'type': 'array'}
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = TypeAdapter(tp).json_schema(mode=mode)
    return typing.cast(dict[str, Any], clean_schema(schema))


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The input schema for a pydantic model, as a tool's parameters (``type: object``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = model.model_json_schema(mode="validation")
    schema = clean_schema(schema)
    if schema.get("type") != "object":
        raise TypeError(f"{model.__name__} does not describe a JSON object")
    schema.setdefault("properties", {})
    return typing.cast(dict[str, Any], schema)


def _plain_types(tp: Any) -> tuple[bool, tuple[type, ...] | None]:
    """``(is_plain, exact_types)`` for an annotation."""
    if tp in _PLAIN_TYPES:
        return True, _PLAIN_TYPES[tp]
    origin = get_origin(tp)
    if origin is typing.Literal:
        values = get_args(tp)
        kinds = {type(v) for v in values}
        if kinds <= {str, int, bool, type(None)} and not any(
            isinstance(v, enum.Enum) for v in values
        ):
            return True, tuple(kinds)
        return False, None
    if origin in (Union, types.UnionType):
        collected: list[type] = []
        for arg in get_args(tp):
            if arg is type(None):
                collected.append(type(None))
                continue
            ok, exact = _plain_types(arg)
            if not ok:
                return False, None
            if exact is None:
                return True, None
            collected.extend(exact)
        return True, tuple(collected)
    return False, None


def _annotation_has_description(tp: Any) -> bool:
    if get_origin(tp) is typing.Annotated:
        return any(isinstance(meta, FieldInfo) and meta.description for meta in get_args(tp)[1:])
    return False


def function_shape(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionShape:
    """Derive a tool's schema and argument machinery from a function.

    Raises ``TypeError`` naming the parameter whose type cannot be described.
    """
    tool_name = name or getattr(func, "__name__", None) or type(func).__name__
    doc = parse_docstring(inspect.getdoc(func))
    hints = type_hints(func)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of {func!r}: {exc}") from exc

    definitions: dict[str, Any] = {}
    fields: dict[str, str] = {}
    plain: dict[str, tuple[type, ...] | None] | None = {}
    context_params: list[str] = []
    accepts_any_kwargs = False
    for index, (pname, param) in enumerate(signature.parameters.items()):
        annotation = hints.get(pname, param.annotation)
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_any_kwargs = True
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue  # never filled: calls pass keyword arguments only
        if is_context_type(annotation):
            context_params.append(pname)
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"parameter {pname!r} is positional-only; tools are called with keyword arguments"
            )
        if annotation is inspect.Parameter.empty:
            annotation = Any
        attr = f"p{index}"
        info: dict[str, Any] = {"alias": pname}
        doc_text = doc.params.get(pname)
        if doc_text and not _annotation_has_description(annotation):
            info["description"] = doc_text
        default = ... if param.default is inspect.Parameter.empty else param.default
        definitions[attr] = (annotation, Field(default, **info))
        fields[pname] = attr
        if plain is not None:
            ok, exact = _plain_types(annotation)
            plain = {**plain, pname: exact} if ok else None

    config = ConfigDict(extra="allow" if accepts_any_kwargs else "ignore", defer_build=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = create_model(f"{tool_name}_arguments", __config__=config, **definitions)
            schema = model.model_json_schema(mode="validation")
    except Exception as exc:
        culprit = _find_bad_parameter(definitions, fields)
        where = f"parameter {culprit!r}" if culprit else "its parameters"
        raise TypeError(f"cannot describe {where} of {tool_name!r} as JSON Schema: {exc}") from exc
    schema = clean_schema(schema)
    schema.setdefault("properties", {})
    if accepts_any_kwargs:
        schema.pop("additionalProperties", None)

    return FunctionShape(
        name=tool_name,
        description=description if description is not None else doc.description,
        input_schema=schema,
        output_schema=_output_schema(hints.get("return", signature.return_annotation)),
        context_params=tuple(context_params),
        model=model,
        fields=fields,
        plain=plain,
        accepts_any_kwargs=accepts_any_kwargs,
    )


def _find_bad_parameter(definitions: Mapping[str, Any], fields: Mapping[str, str]) -> str | None:
    by_attr = {attr: pname for pname, attr in fields.items()}
    for attr, (annotation, _) in definitions.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                TypeAdapter(annotation).json_schema()
        except Exception:
            return by_attr.get(attr, attr)
    return None


def _output_schema(annotation: Any) -> dict[str, Any] | None:
    if annotation in _NO_OUTPUT:
        return None
    try:
        return type_schema(annotation, mode="serialization")
    except Exception:
        # An undescribable return type must not stop the tool from being defined: the output
        # schema is informative only.
        return None
