"""Request limits: body size, batch size, argument size and depth, calls in flight.

Every breach becomes a ``ToolFailure`` with a clear message and the right kind (``too_large``
-> 413 / RESOURCE_EXHAUSTED, ``rate_limited`` -> 429 with Retry-After), never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolwire import _json
from toolwire._errors import ArgumentProblem, InvalidArguments, ToolFailure


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_batch: int = 100
    max_argument_bytes: int = 256 << 10
    max_depth: int = 32
    max_in_flight: int = 1024
    retry_after_s: float = 1.0  # what a caller refused for load should wait

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_argument_bytes", "max_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be >= 1")
        if self.max_in_flight < 1:
            raise ValueError("Limits.max_in_flight must be >= 1")


def too_large(what: str, size: int, limit: int) -> ToolFailure:
    return ToolFailure(
        "too_large",
        f"The {what} is {size} bytes; the limit is {limit} bytes. Send less data.",
        details={"size": size, "limit": limit},
    )


def json_depth(value: Any) -> int:
    """Nesting depth of JSON data (a scalar is 0, ``{}`` or ``[]`` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            depth += 1
            stack.extend((v, depth) for v in item.values())
        elif isinstance(item, list):
            depth += 1
            stack.extend((v, depth) for v in item)
        deepest = max(deepest, depth)
    return deepest


def parse_arguments(
    tool: str, raw: str | bytes | Mapping[str, Any] | None, limits: Limits
) -> tuple[Mapping[str, Any], str | bytes]:
    """Check size, JSON well-formedness, depth and shape; return the object and its JSON text.

    Raises ``ToolFailure('too_large')`` or ``InvalidArguments``. Schema validation is the
    toolbox's job; this only keeps hostile input away from it.
    """
    if raw is None or raw in (b"", ""):
        return {}, "{}"
    if isinstance(raw, Mapping):
        value: Any = raw
        try:
            raw = _json.dumps_bytes(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidArguments(
                tool, [ArgumentProblem(path="$", message=f"not JSON data: {exc}")]
            ) from None
        if len(raw) > limits.max_argument_bytes:
            raise too_large("arguments object", len(raw), limits.max_argument_bytes)
    else:
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > limits.max_argument_bytes:
            raise too_large("arguments object", size, limits.max_argument_bytes)
        try:
            value = _json.loads(raw)
        except ValueError as exc:
            raise InvalidArguments(
                tool,
                [ArgumentProblem(path="$", message=f"not valid JSON: {exc}")],
                message=f"The arguments for `{tool}` are not valid JSON ({exc}). "
                "Send a JSON object.",
            ) from None
    depth = json_depth(value)
    if depth > limits.max_depth:
        raise ToolFailure(
            "too_large",
            f"The arguments are nested {depth} levels deep; the limit is {limits.max_depth}.",
            details={"depth": depth, "limit": limits.max_depth},
        )
    if not isinstance(value, Mapping):
        raise InvalidArguments(
            tool,
            [ArgumentProblem(path="$", message="must be a JSON object", expected="object")],
        )
    return value, raw


def check_arguments(
    tool: str, raw: str | bytes | Mapping[str, Any] | None, limits: Limits
) -> str | bytes:
    """The hot-path form of :func:`parse_arguments`: returns the JSON text to run.

    Text whose bracket count cannot exceed ``max_depth`` is passed on unparsed (the toolbox
    parses it once and reports bad JSON or a non-object as ``invalid_arguments`` itself);
    anything else gets the full check. Brackets inside strings are counted too, so this
    can only send more inputs to the full check, never fewer.
    """
    # The commonest call first: a short text, surely under the size limit, whose bracket
    # count cannot exceed max_depth (no more brackets than characters: often not counted).
    if (
        type(raw) is str
        and raw
        and len(raw) * 4 <= limits.max_argument_bytes
        and (len(raw) <= limits.max_depth or raw.count("{") + raw.count("[") <= limits.max_depth)
    ):
        return raw
    if raw is None or raw in (b"", ""):
        return "{}"
    if isinstance(raw, bytes):
        if len(raw) > limits.max_argument_bytes:
            raise too_large("arguments object", len(raw), limits.max_argument_bytes)
        try:
            # Decoded here, strictly, so that no undecodable byte reaches an error message.
            raw = raw.decode()
        except UnicodeDecodeError as exc:
            raise InvalidArguments(
                tool,
                [ArgumentProblem(path="$", message=f"not valid UTF-8 at byte {exc.start}")],
                message=f"The arguments for `{tool}` are not valid UTF-8 (byte {exc.start}). "
                "Send a JSON object encoded as UTF-8.",
            ) from None
    elif isinstance(raw, str) and len(raw) * 4 > limits.max_argument_bytes:
        size = len(raw.encode("utf-8", "surrogatepass"))
        if size > limits.max_argument_bytes:
            raise too_large("arguments object", size, limits.max_argument_bytes)
    if isinstance(raw, str) and raw.count("{") + raw.count("[") <= limits.max_depth:
        return raw
    return parse_arguments(tool, raw, limits)[1]


class InFlight:
    """Counts calls in progress in this process and refuses new ones past the limit."""

    __slots__ = ("count", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0

    def enter(self) -> None:
        if self.count >= self.limits.max_in_flight:
            raise ToolFailure(
                "rate_limited",
                f"The server is handling {self.count} calls, its limit. Retry shortly.",
                details={"in_flight": self.count, "limit": self.limits.max_in_flight},
                retry_after=self.limits.retry_after_s,
            )
        self.count += 1

    def exit(self) -> None:
        self.count -= 1
