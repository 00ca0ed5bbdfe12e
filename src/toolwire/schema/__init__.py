"""Schemas: Python types -> JSON Schema, docstrings -> descriptions, foreign schemas -> 2020-12."""

from toolwire.schema._docstrings import Docstring, parse_docstring
from toolwire.schema._from_types import FunctionShape, function_shape, model_schema, type_schema
from toolwire.schema._normalize import (
    SchemaShapeError,
    normalize_parameters,
    normalize_schema,
    normalize_type_name,
)

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
