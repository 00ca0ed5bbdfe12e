"""The slow half of argument validation: lenient repairs, and the problem report.

``ArgumentValidator`` (``_validate``) runs the fast checks; when data does not match its
schema, :class:`RepairsAndReports` tries the lenient coercions (numeric strings, booleans
spelled as strings, a lone value for a one-element array, JSON double-encoded in a string),
and whatever is still wrong becomes one ``InvalidArguments`` listing every problem, located
by JSON path and worded for the model that has to fix its call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from toolwire._errors import ArgumentProblem, InvalidArguments
from toolwire._validate_schema import (
    NOTHING,
    allowed_names,
    candidates_at,
    coerce,
    describe_value,
    json_path,
    repair_message,
    types_of,
)

_MAX_COERCION_ROUNDS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Coercion:
    """One lenient repair applied to a call's arguments, e.g. ``"5"`` read as ``5``."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class _Reject(Exception):
    """Internal: stops parsing with problems (never escapes validation)."""

    def __init__(self, problems: list[ArgumentProblem], *, too_large: bool = False) -> None:
        self.problems = problems
        self.too_large = too_large


class RepairsAndReports:
    """Repairs and problem reports of ``ArgumentValidator`` (which holds the state)."""

    __slots__ = ()
    tool_name: str
    schema: Mapping[str, Any]
    _root: dict[str, Any]
    _validator: Any

    def _check_depth(self, data: Any, start: int = 1, path: str = "$") -> None:
        raise NotImplementedError

    def _repair(
        self, data: dict[str, Any], notes: list[Coercion] | None, strict: bool
    ) -> tuple[dict[str, Any], list[Coercion] | None]:
        errors = list(self._validator.iter_errors(data))
        if not strict:
            for _ in range(_MAX_COERCION_ROUNDS):
                changed = False
                for error in errors:
                    note = self._coerce_at(data, list(error.instance_path), error)
                    if note is not None:
                        notes = notes if notes is not None else []
                        notes.append(note)
                        changed = True
                if not changed:
                    break
                errors = list(self._validator.iter_errors(data))
                if not errors:
                    break
        if errors:
            problems: list[ArgumentProblem] = []
            for error in errors:
                for problem in self._problems(error):
                    if problem not in problems:
                        problems.append(problem)
            raise self._invalid(problems)
        return data, notes

    def _coerce_at(self, data: dict[str, Any], path: list[Any], error: Any) -> Coercion | None:
        kind = type(error.kind).__name__
        if kind not in ("Type", "AnyOf", "OneOfNotValid") or not path:
            return None
        parent: Any = data
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return None
        try:
            value = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            return None
        types = types_of(candidates_at(self._root, self._root, path))
        if not types:
            return None
        coerced = coerce(value, types)
        if coerced is NOTHING:
            return None
        if isinstance(coerced, (dict, list)):
            # JSON text inside a string becomes nested data: the depth limit applies to it too
            try:
                self._check_depth(coerced, len(path) + 1, json_path(path))
            except _Reject as reject:
                raise self._invalid(reject.problems) from None
        parent[path[-1]] = coerced
        return Coercion(
            path=json_path(path),
            message=f"{describe_value(value)} read as {describe_value(coerced)}",
        )

    def _problems(self, error: Any) -> list[ArgumentProblem]:
        kind = type(error.kind).__name__
        path = list(error.instance_path)
        try:
            info = error.kind.as_dict()
        except Exception:
            info = {}
        if kind == "Required":
            prop = info.get("property", "?")
            types = types_of(candidates_at(self._root, self._root, [*path, prop]))
            return [
                ArgumentProblem(
                    path=json_path([*path, prop]),
                    message="required property is missing",
                    expected=" or ".join(sorted(types)) if types else None,
                    got="nothing",
                )
            ]
        if kind in ("AdditionalProperties", "UnevaluatedProperties"):
            unexpected = info.get("unexpected") or []
            allowed = allowed_names(candidates_at(self._root, self._root, path))
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            instance = error.instance if isinstance(error.instance, Mapping) else {}
            return [
                ArgumentProblem(
                    path=json_path([*path, name]),
                    message=f"unexpected property{hint}",
                    got=describe_value(instance.get(name)),
                )
                for name in unexpected
            ]
        got = describe_value(error.instance)
        if kind == "Type":
            type_names = [str(t) for t in info.get("types") or []]
            expected = " or ".join(type_names) if type_names else None
            return [
                ArgumentProblem(
                    path=json_path(path),
                    message=f"expected {expected}, got {got}",
                    expected=expected,
                    got=got,
                )
            ]
        if kind == "Enum":
            options = info.get("options")
            expected = "one of " + json.dumps(options, ensure_ascii=False) if options else None
            return [
                ArgumentProblem(
                    path=json_path(path), message=f"must be {expected}", expected=expected, got=got
                )
            ]
        return [ArgumentProblem(path=json_path(path), message=str(error.message), got=got)]

    def _invalid(
        self, problems: list[ArgumentProblem], *, too_large: bool = False
    ) -> InvalidArguments:
        return InvalidArguments(
            self.tool_name,
            problems,
            message=repair_message(self.tool_name, problems, self.schema),
            too_large=too_large,
        )


def json_problem(text: str | bytes, exc: orjson.JSONDecodeError) -> ArgumentProblem:
    reason = str(exc).split(": line ")[0]
    if isinstance(text, bytes):
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as ude:
            return ArgumentProblem(
                path="$",
                message=f"the arguments are not valid UTF-8 (byte {ude.start})",
                expected="UTF-8 JSON text",
                got=repr(text[max(0, ude.start - 10) : ude.start + 10]),
            )
    else:
        decoded = text
    if "depth limit" in reason:
        return ArgumentProblem(
            path="$", message="the arguments nest too deeply", expected="at most 64 levels"
        )
    if re.search(r"\b(?:NaN|-?Infinity)\b", decoded):
        return ArgumentProblem(
            path="$",
            message="NaN and Infinity are not valid JSON numbers",
            expected="finite numbers",
            got=describe_value(decoded[:60]),
        )
    if not decoded.strip():
        return ArgumentProblem(
            path="$", message="the arguments are empty", expected="a JSON object", got="nothing"
        )
    pos = exc.pos
    excerpt = decoded[max(0, pos - 20) : pos + 20]
    return ArgumentProblem(
        path="$",
        message=f"not valid JSON: {reason} at line {exc.lineno} column {exc.colno} (char {pos})",
        expected="a JSON object",
        got=f"…{excerpt}…" if excerpt else None,
    )
