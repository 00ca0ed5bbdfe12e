"""Validating the arguments a model produced for a tool.

One :class:`ArgumentValidator` per tool, built once: a compiled jsonschema-rs validator for the
JSON-level check (it reports *every* problem), then pydantic only where it yields real Python
types (models, dates, enums...). The happy path raises nothing and allocates little: parse with
orjson, two ``str.count`` guards, then ``is_valid`` — or, for a flat schema that checks only each
argument's type and the required names (most tool schemas), a ``type()`` per argument.

Lenient coercions (on unless ``strict=True``) repair what real models get wrong and are
reported as :class:`Coercion` notes: numeric strings, ``"true"``/``"false"``, a lone value
where a one-element array is expected, and arguments (or nested values) double-encoded as JSON
strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from toolwire._errors import ArgumentProblem
from toolwire._json import NumberOutOfRange, exact_int, finite_float, out_of_range
from toolwire._validate_report import Coercion, RepairsAndReports, _Reject, json_problem
from toolwire._validate_schema import (
    FlatShape,
    describe_value,
    flat_shape,
    json_path,
    pydantic_problem,
    reject_constant,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "MAX_ARGUMENT_BYTES",
    "MAX_DEPTH",
    "ArgumentValidator",
    "Coercion",
    "ToKwargs",
    "Validated",
]

MAX_ARGUMENT_BYTES = 1 << 20
MAX_DEPTH = 64
_MAX_COERCION_ROUNDS = 4
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_B = re.compile(rb"\d{19}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    """Validated keyword arguments plus the coercions that were needed to get them."""

    arguments: dict[str, Any]
    coercions: tuple[Coercion, ...] = ()


ToKwargs = Callable[["BaseModel", Mapping[str, Any]], dict[str, Any]]


class ArgumentValidator(RepairsAndReports):
    """Validates one tool's arguments; build once per tool and reuse (it is thread-safe).

    ``model`` (optional) converts JSON-valid arguments to Python values and ``to_kwargs`` turns
    the model instance into keyword arguments. ``plain`` maps argument names to the exact
    Python types that need no conversion (a ``None`` entry accepts anything); when every value
    matches, pydantic is skipped. ``known`` is the set of argument names a function accepts:
    other keys are dropped and reported (``None``: keep every key).
    """

    __slots__ = (
        "_is_valid",
        "_max_bytes",
        "_max_depth",
        "_model",
        "_plain",
        "_plain_names",
        "_quick_len",
        "_root",
        "_shallow_len",
        "_to_kwargs",
        "_validator",
        "known",
        "quick",
        "schema",
        "tool_name",
    )

    def __init__(
        self,
        tool_name: str,
        schema: Mapping[str, Any],
        *,
        model: type[BaseModel] | None = None,
        to_kwargs: ToKwargs | None = None,
        plain: Mapping[str, tuple[type, ...] | None] | None = None,
        known: frozenset[str] | None = None,
        max_bytes: int = MAX_ARGUMENT_BYTES,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        # Imported on first use: ``import toolwire`` must not pay for jsonschema-rs.
        import jsonschema_rs

        self.tool_name = tool_name
        self.schema = schema
        self._root = dict(schema)
        self._validator = jsonschema_rs.validator_for(self._root)
        self._model = model
        self._to_kwargs = to_kwargs
        if plain is None and model is None and known is not None:
            plain = dict.fromkeys(known)  # lets the hot path check names only
        self._plain = dict(plain) if plain is not None else None
        self._plain_names = (
            frozenset(self._plain)
            if self._plain is not None and all(v is None for v in self._plain.values())
            else None
        )
        self._is_valid = self._validator.is_valid
        self.known = known
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        # a str of n characters is at most 4n UTF-8 bytes: below this length no size check
        self._quick_len = min(16_384, max_bytes // 4)
        # nesting deeper than max_depth needs more than 2 * max_depth characters
        self._shallow_len = 2 * max_depth + 1
        self.quick: Callable[[Any], dict[str, Any] | None] = _quick_path(self)
        """The kwargs of short JSON text that is already right, else None (then ``check``).

        The hot path: any doubt answers None, and :meth:`check` re-parses and reports; nothing
        here raises. Valid data needs no coercion, so strictness does not matter here.
        """

    # public -----------------------------------------------------------------------------------

    def check(
        self, arguments: Any, *, strict: bool = False
    ) -> tuple[dict[str, Any], list[Coercion] | None]:
        """Validate; returns ``(kwargs, coercions or None)`` or raises ``InvalidArguments``."""
        data = self.quick(arguments)
        if data is not None:
            return data, None
        return self._check_fully(arguments, strict)

    def _check_fully(
        self, arguments: Any, strict: bool
    ) -> tuple[dict[str, Any], list[Coercion] | None]:
        notes: list[Coercion] | None = None
        try:
            data, notes = self._parse(arguments, strict)
        except _Reject as reject:
            raise self._invalid(reject.problems, too_large=reject.too_large) from None
        if not self._validator.is_valid(data):
            data, notes = self._repair(data, notes, strict)
        known = self.known
        if known is not None and not data.keys() <= known:
            notes = notes if notes is not None else []
            for key in [k for k in data if k not in known]:
                del data[key]
                notes.append(Coercion(path=json_path([key]), message="unknown argument ignored"))
        if self._model is None:
            return data, notes
        plain = self._plain
        if plain is not None:
            for key, value in data.items():
                exact = plain.get(key)
                if exact is not None and type(value) not in exact:
                    break
            else:
                return data, notes
        # A model exists, so pydantic is already loaded; this import is a dict lookup.
        from pydantic import ValidationError

        try:
            instance = self._model.model_validate(data)
        except ValidationError as exc:
            raise self._invalid([pydantic_problem(err) for err in exc.errors()]) from None
        assert self._to_kwargs is not None
        return self._to_kwargs(instance, data), notes

    # parsing ----------------------------------------------------------------------------------

    def _parse(self, arguments: Any, strict: bool) -> tuple[dict[str, Any], list[Coercion] | None]:
        if type(arguments) is str:
            size = len(arguments)
            if size * 4 > self._max_bytes:
                size = len(arguments.encode("utf-8", "surrogatepass"))
            if size > self._max_bytes:
                raise self._too_large(size)
            if not strict and not arguments.strip():
                return {}, [Coercion(path="$", message="empty arguments read as {}")]
            data = self._loads(arguments)
            colons = arguments.count(":")
            brackets = arguments.count("{") + arguments.count("[")
        elif isinstance(arguments, (bytes, bytearray, memoryview)):
            raw = bytes(arguments)
            if len(raw) > self._max_bytes:
                raise self._too_large(len(raw))
            if not strict and not raw.strip():
                return {}, [Coercion(path="$", message="empty arguments read as {}")]
            data = self._loads(raw)
            colons = raw.count(b":")
            brackets = raw.count(b"{") + raw.count(b"[")
        elif isinstance(arguments, Mapping):
            return self._from_mapping(arguments), None
        else:
            raise _Reject(
                [
                    ArgumentProblem(
                        path="$",
                        message="arguments must be JSON text or an object",
                        expected="object",
                        got=type(arguments).__name__,
                    )
                ]
            )
        notes: list[Coercion] | None = None
        if type(data) is not dict:
            data, notes = self._unwrap(data, strict)
            return data, notes
        # Each key in the text is followed by a colon, so when there are no more colons than
        # parsed keys no key can have been dropped as a duplicate: the exact (slow) check runs
        # only when the cheap count cannot rule duplicates out.
        # depth first: the duplicate check re-reads the text with the recursive stdlib parser
        if brackets > self._max_depth:
            self._check_depth(data)
        if colons > len(data) and colons > _count_keys(data):
            _check_duplicates(arguments)
        return data, notes

    def _loads(self, text: str | bytes) -> Any:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            if not out_of_range(exc):
                raise _Reject([json_problem(text, exc)]) from None
            # a number beyond a double (10**309): valid JSON, read exactly by the stdlib,
            # whose recursion is bounded by the size limit and caught in _stdlib_loads
            return _stdlib_loads(text)
        # orjson turns integers beyond 64 bits into floats; re-read those rare texts exactly.
        if type(data) is not str and (
            _LONG_DIGITS_B.search(text) if isinstance(text, bytes) else _LONG_DIGITS.search(text)
        ):
            # the stdlib parser recurses: bound the depth on orjson's result before it runs
            self._check_depth(data)
            data = _stdlib_loads(text)
        return data

    def _unwrap(self, data: Any, strict: bool) -> tuple[dict[str, Any], list[Coercion] | None]:
        if not strict:
            if data is None:
                return {}, [Coercion(path="$", message="null arguments read as {}")]
            if isinstance(data, str):
                if not data.strip():
                    return {}, [Coercion(path="$", message="empty arguments read as {}")]
                try:
                    inner, _ = self._parse(data, strict=True)
                except _Reject:
                    pass
                else:
                    return inner, [
                        Coercion(
                            path="$", message="arguments double-encoded as a JSON string: decoded"
                        )
                    ]
        raise _Reject(
            [
                ArgumentProblem(
                    path="$",
                    message="the arguments must be a JSON object",
                    expected="object",
                    got=describe_value(data),
                )
            ]
        )

    def _too_large(self, size: int) -> _Reject:
        return _Reject(
            [
                ArgumentProblem(
                    path="$",
                    message=f"the arguments are {size} bytes; the limit is {self._max_bytes}",
                    expected=f"at most {self._max_bytes} bytes",
                    got=f"{size} bytes",
                )
            ],
            too_large=True,
        )

    def _check_depth(self, data: Any, start: int = 1, path: str = "$") -> None:
        stack: list[tuple[Any, int]] = [(data, start)]
        while stack:
            node, depth = stack.pop()
            if depth > self._max_depth:
                raise _Reject(
                    [
                        ArgumentProblem(
                            path=path,
                            message=f"the arguments nest deeper than {self._max_depth} levels",
                            expected=f"at most {self._max_depth} levels of nesting",
                        )
                    ]
                )
            if type(node) is dict:
                stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
            elif type(node) is list:
                stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))

    def _from_mapping(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        problems: list[ArgumentProblem] = []
        out = _copy_json(arguments, [], problems, 1, self._max_depth)
        if problems:
            raise _Reject(problems)
        assert isinstance(out, dict)
        return out


# helpers ----------------------------------------------------------------------------------------


def _quick_path(v: ArgumentValidator) -> Callable[[Any], dict[str, Any] | None]:
    """``v.quick``, as a function made for this validator: what it checks per call is bound
    here once (closure cells are read faster than attributes, on every call of the tool).

    A flat schema (``flat_shape``: argument types, required names) is checked whole by a
    table of the exact types each argument takes, with no validator call; any other schema by
    the compiled validator's ``is_valid``, then the same kind of table when a function's
    parameters restrict the names (``names``) or the types that need no conversion (``plain``).
    """
    names, plain = v._plain_names, v._plain
    if names is None and plain is None and (v._model is not None or v.known is not None):
        return _never  # values need converting (or filtering): always the full check
    shape = flat_shape(v._root)
    is_valid: Callable[[Any], bool] | None = None
    needed: tuple[str, ...] = ()
    table: dict[str, frozenset[type]] | None
    if shape is not None:
        accepted = _accepted(shape, names, plain)
        table = {key: _ANY_JSON if types is None else types for key, types in accepted.items()}
        needed = tuple(shape.required)
        # a name outside the schema is allowed only when the schema allows it and no function's
        # parameter list filters names (``names``/``plain`` leave such keys to the full check)
        open_names = shape.open and plain is None
    else:
        is_valid = v._is_valid
        open_names = False
        if names is not None:
            table = dict.fromkeys(names, _ANY_JSON)
        elif plain is not None:
            table = {k: _ANY_JSON if t is None else frozenset(t) for k, t in plain.items()}
        else:
            table, open_names = None, True
    # "any value" is every type orjson reads JSON as, so one membership test decides each
    # argument; a name not in the table gets that too when names are open, else None
    lookup = table.get if table is not None else None
    unknown = _ANY_JSON if open_names else None
    loads, decode_error, long_digits = _orjson_loads, _JSONDecodeError, _LONG_DIGITS.search
    quick_len, shallow_len, max_depth = v._quick_len, v._shallow_len, v._max_depth

    def quick(arguments: Any) -> dict[str, Any] | None:
        if type(arguments) is not str:
            return None
        size = len(arguments)
        if size > quick_len:
            return None
        try:
            data = loads(arguments)
        except decode_error:
            return None
        if (
            type(data) is not dict
            or arguments.count(":") > len(data)  # maybe a duplicate key
            or (size >= 19 and long_digits(arguments) is not None)  # maybe a rounded int
            or (size > shallow_len and arguments.count("{") + arguments.count("[") > max_depth)
        ):
            return None
        if is_valid is not None and not is_valid(data):
            return None
        if lookup is not None:
            for key, value in data.items():
                types = lookup(key, unknown)
                if types is None or type(value) not in types:
                    return None
            for key in needed:
                if key not in data:
                    return None
        return data

    return quick


def _accepted(
    shape: FlatShape,
    names: frozenset[str] | None,
    plain: dict[str, tuple[type, ...] | None] | None,
) -> dict[str, frozenset[type] | None]:
    """Per argument, the exact types the fast path takes: those the schema accepts and, for a
    function's tool, that need no conversion (``plain``) or belong to a parameter (``names``)."""
    if names is not None:
        return {k: t for k, t in shape.types.items() if k in names}
    if plain is None:
        return dict(shape.types)
    accepted: dict[str, frozenset[type] | None] = {}
    for key, types in shape.types.items():
        if key not in plain:
            continue  # not a parameter: the full check drops it and says so
        exact = plain[key]
        if exact is None:
            accepted[key] = types
        else:
            accepted[key] = frozenset(exact) if types is None else types & frozenset(exact)
    return accepted


def _never(arguments: Any) -> None:
    return None


_ANY_JSON: frozenset[type] = frozenset({str, int, float, bool, type(None), list, dict})
_orjson_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


def _stdlib_loads(text: str | bytes, **options: Any) -> Any:
    """The stdlib parser for what orjson cannot do (exact big integers, duplicate keys); callers
    bound the nesting first, and anything it still refuses is a structured problem."""
    try:
        return json.loads(
            text,
            parse_constant=reject_constant,
            parse_int=exact_int,
            parse_float=finite_float,
            **options,
        )
    except NumberOutOfRange as exc:  # valid JSON that Python cannot hold: say which limit
        raise _Reject(
            [ArgumentProblem(path="$", message=str(exc), expected="a number within the limit")]
        ) from None
    except RecursionError:
        raise _Reject(
            [ArgumentProblem(path="$", message="the arguments nest too deeply to read")]
        ) from None
    except ValueError as exc:
        raise _Reject(
            [
                ArgumentProblem(
                    path="$",
                    message=f"the arguments are not valid JSON: {exc}",
                    expected="a JSON object",
                )
            ]
        ) from None


def _count_keys(node: Any) -> int:
    count = 0
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif type(item) is list:
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return count


def _check_duplicates(text: str | bytes) -> None:
    duplicates: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen and key not in duplicates:
                duplicates.append(key)
            seen[key] = value
        return seen

    _stdlib_loads(text, object_pairs_hook=hook)
    if duplicates:
        raise _Reject(
            [
                ArgumentProblem(
                    path="$",
                    message=f"duplicate key {json.dumps(key, ensure_ascii=False)} in an object",
                    expected="each key once",
                )
                for key in duplicates
            ]
        )


def _copy_json(
    value: Any, path: list[Any], problems: list[ArgumentProblem], depth: int, max_depth: int
) -> Any:
    if depth > max_depth + 1:
        problems.append(
            ArgumentProblem(path=json_path(path), message=f"nested deeper than {max_depth} levels")
        )
        return None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(
                ArgumentProblem(
                    path=json_path(path),
                    message="NaN and Infinity are not valid JSON numbers",
                    expected="a finite number",
                    got=repr(value),
                )
            )
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(
                    ArgumentProblem(
                        path=json_path(path),
                        message=f"object keys must be strings, got {key!r}",
                    )
                )
                continue
            out[key] = _copy_json(item, [*path, key], problems, depth + 1, max_depth)
        return out
    if isinstance(value, (list, tuple)):
        return [
            _copy_json(item, [*path, i], problems, depth + 1, max_depth)
            for i, item in enumerate(value)
        ]
    problems.append(
        ArgumentProblem(
            path=json_path(path),
            message=f"{type(value).__name__} is not a JSON value",
            expected="a JSON value",
            got=type(value).__name__,
        )
    )
    return None
