"""Error kinds and the exceptions toolwire raises.

Every failure a call can meet has one ``kind`` from :data:`ErrorKind`; transports map kinds to
status codes and the runner turns them into messages a model can act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ErrorKind = Literal[
    "invalid_arguments",
    "unknown_tool",
    "timeout",
    "circuit_open",
    "rate_limited",
    "execution_error",
    "cancelled",
    "unauthorized",
    "forbidden",
    "too_large",
    "remote_error",
    "approval_required",
    "unavailable",
]
ERROR_KINDS: tuple[ErrorKind, ...] = get_args(ErrorKind)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolError:
    """Why a call failed, as carried in a :class:`~toolwire.ToolResult`.

    ``message`` is written for the model (and the person) reading it: what went wrong and
    what to do about it. ``details`` holds machine-readable data (JSON paths, HTTP status...).
    """

    kind: ErrorKind
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    retry_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.details:
            out["details"] = dict(self.details)
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgumentProblem:
    """One problem with a call's arguments, located by a JSON path such as ``$.items[2].qty``."""

    path: str
    message: str
    expected: str | None = None
    got: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "message": self.message}
        if self.expected is not None:
            out["expected"] = self.expected
        if self.got is not None:
            out["got"] = self.got
        return out


class ToolwireError(Exception):
    """Base class of toolwire's exceptions; ``kind`` says which error kind it maps to."""

    kind: ErrorKind = "execution_error"

    def to_error(self) -> ToolError:
        return ToolError(kind=self.kind, message=str(self))


class ToolDefinitionError(ToolwireError, ValueError):
    """A tool or toolbox is defined in a way that cannot work (raised at definition time)."""


class InvalidArguments(ToolwireError, ValueError):
    """A call's arguments do not match the tool's input schema.

    ``problems`` lists every problem found (not just the first); ``message`` is one text
    written for the model so that it can repair its call.
    """

    kind: ErrorKind = "invalid_arguments"

    def __init__(
        self,
        tool: str,
        problems: Sequence[ArgumentProblem],
        *,
        message: str | None = None,
        too_large: bool = False,
    ) -> None:
        self.tool = tool
        self.problems: tuple[ArgumentProblem, ...] = tuple(problems)
        self.too_large = too_large
        self.message = message or _default_invalid_message(tool, self.problems)
        super().__init__(self.message)

    def to_error(self) -> ToolError:
        return ToolError(
            kind="too_large" if self.too_large else "invalid_arguments",
            message=self.message,
            details={"problems": [p.to_dict() for p in self.problems]},
        )


def _default_invalid_message(tool: str, problems: Sequence[ArgumentProblem]) -> str:
    lines = [f"The arguments for `{tool}` are invalid. Fix these and call it again:"]
    lines.extend(f"- {p.path}: {p.message}" for p in problems)
    return "\n".join(lines)


class UnknownTool(ToolwireError, LookupError):
    """A call names a tool that does not exist; ``suggestions`` holds close names."""

    kind: ErrorKind = "unknown_tool"

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"There is no tool named `{name}`.{hint}")

    def to_error(self) -> ToolError:
        return ToolError(
            kind="unknown_tool",
            message=str(self),
            details={"name": self.name, "suggestions": list(self.suggestions)},
        )


class ToolFailure(ToolwireError):
    """Raised by a handler (or a remote adapter) to fail a call with a specific error kind.

    Example::

        raise tw.ToolFailure("remote_error", "weather API answered 503", details={"status": 503})
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.details: Mapping[str, Any] = details or {}
        self.retry_after = retry_after
        super().__init__(message)

    def to_error(self) -> ToolError:
        return ToolError(
            kind=self.kind, message=self.message, details=self.details, retry_after=self.retry_after
        )


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f'{module!r} is not installed; run: pip install "toolwire[{extra}]"')
        self.extra = extra
