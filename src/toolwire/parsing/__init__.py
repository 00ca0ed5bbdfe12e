"""Tool calls in the raw text formats of open models, parsed whole or as they stream.

Each format is one :class:`TextFormat` record in :data:`TEXT_FORMATS` (parser, how calls are
written as a :class:`CallShape`, prompt and result writers, ``auto`` cues, docs).
"""

from toolwire.parsing._api import FORMATS, StreamParser, parse
from toolwire.parsing._record import TextFormat
from toolwire.parsing._registry import ALIASES, TEXT_FORMATS, text_format
from toolwire.parsing._shape import (
    CallShape,
    JsonArguments,
    JsonObject,
    Layout,
    PythonicCall,
    TaggedParameters,
)

__all__ = [
    "ALIASES",
    "FORMATS",
    "TEXT_FORMATS",
    "CallShape",
    "JsonArguments",
    "JsonObject",
    "Layout",
    "PythonicCall",
    "StreamParser",
    "TaggedParameters",
    "TextFormat",
    "parse",
    "text_format",
]
