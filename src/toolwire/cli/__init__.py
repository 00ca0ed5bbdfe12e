"""The ``toolwire`` command line; each command lives in its own module, imported on use."""

from toolwire.cli._main import main

__all__ = ["main"]
