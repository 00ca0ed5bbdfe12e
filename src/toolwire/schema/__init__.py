"""Schemas: Python types -> JSON Schema, docstrings -> descriptions, foreign schemas -> 2020-12."""

import importlib
from typing import TYPE_CHECKING, Any

from toolwire.schema._normalize import (
    SchemaShapeError,
    normalize_parameters,
    normalize_schema,
    normalize_type_name,
)

if TYPE_CHECKING:
    from toolwire.schema._docstrings import Docstring, parse_docstring
    from toolwire.schema._from_types import (
        FunctionShape,
        function_shape,
        model_schema,
        type_schema,
    )

# Loaded on first use (PEP 562): these need pydantic, and a tool defined from a JSON schema
# (or a bare ``import toolwire``) must not pay for importing it.
_LAZY = {
    "Docstring": "toolwire.schema._docstrings",
    "parse_docstring": "toolwire.schema._docstrings",
    "FunctionShape": "toolwire.schema._from_types",
    "function_shape": "toolwire.schema._from_types",
    "model_schema": "toolwire.schema._from_types",
    "type_schema": "toolwire.schema._from_types",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'toolwire.schema' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "Docstring",
    "FunctionShape",
    "SchemaShapeError",
    "function_shape",
    "model_schema",
    "normalize_parameters",
    "normalize_schema",
    "normalize_type_name",
    "parse_docstring",
    "type_schema",
]
