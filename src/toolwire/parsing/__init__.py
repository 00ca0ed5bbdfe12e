"""Tool calls in the raw text formats of open models, parsed whole or as they stream."""

from toolwire.parsing._api import FORMATS, StreamParser, parse

__all__ = ["FORMATS", "StreamParser", "parse"]
