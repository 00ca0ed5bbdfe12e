"""How one argument value is judged against its acceptable values (BFCL's AST rules, Python).

A ground-truth entry lists, per parameter, every acceptable value; ``""`` among them means the
parameter may be left out. The rules below are BFCL's (``ast_checker.py`` in
ShishirPatil/gorilla, read and re-expressed here), including its quirks, because scores are
only comparable when they are computed the same way:

- types are compared exactly (``bool`` is not an ``int``); an ``int`` is accepted for a float
  parameter; a tuple value counts as a list;
- when the ground truth's first real value has another type than the document declares, the
  value is a *variable* (BFCL writes some expected values as expressions) and is compared as it
  is, without the string/list/dict rules;
- strings are compared after :func:`standardize`; list items and dict values that are strings
  too, one level deep; everything else with Python ``==`` (so ``1 == 1.0``);
- arrays are type-checked one level deep against the item type.

Where BFCL's checker raises an exception (a type it does not know, an array without ``items``,
a ground truth that is not a list of values) these rules return a verdict instead; those
cases are listed in ``docs/eval.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

# Declared type -> the Python type a decoded value must have. BFCL's names first, then the
# JSON Schema names our own toolboxes use (``number`` behaves like BFCL's ``float``).
PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
    "number": float,
    "object": dict,
}
_ARRAY_TYPES = frozenset({"array", "tuple"})
_FLOAT_TYPES = frozenset({"float", "number"})
# Characters a string comparison ignores: "April 1, 2024" and "april 1 2024" are one answer.
_IGNORED = str.maketrans("", "", " ,./-_*^")


def standardize(text: str) -> str:
    """The form strings are compared in: without spaces and ``,./-_*^``, lower case, ``'`` as ``"``.

    Example::

        >>> standardize("San Francisco, CA")
        'sanfranciscoca'
    """
    return text.translate(_IGNORED).lower().replace("'", '"')


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a value was refused: ``kind`` (stable, for tallies) and a message for people."""

    kind: str
    message: str


def _first_type(accepted: Sequence[Any]) -> type | None:
    for item in accepted:
        if item != "":
            return type(item)
    return None


def _std(value: Any) -> Any:
    return standardize(value) if type(value) is str else value


def _std_items(items: Any) -> list[Any] | None:
    """An acceptable list's items with strings standardized. BFCL walks acceptable values by
    index, so a string counts as its characters and an empty dict as an empty list; anything
    else cannot be walked (BFCL raises) and matches nothing (None)."""
    if isinstance(items, (list, tuple, str)):
        return [_std(x) for x in items]
    if isinstance(items, Mapping) and not items:
        return []
    return None


def _type_problem(
    param: str,
    value: Any,
    accepted: Sequence[Any],
    declared: str,
    expected: type,
    item_type: type | None,
) -> tuple[Problem | None, bool]:
    """(problem or None, whether the value is a variable). Item types are checked one level."""
    first = _first_type(accepted)
    variable = first is not None and first is not expected
    if type(value) is expected:
        if item_type is None:
            return None, variable
        for option in accepted:
            if type(option) is list and not all(
                _type_problem(param, item, option, item_type.__name__, item_type, None)[0] is None
                for item in cast("list[Any]", value)  # the type check made it a list
            ):
                continue
            return None, variable  # a non-list option ("" above all) constrains no item
        if first is not None and type(value) is first:
            return Problem(
                "nested_type",
                f"{param!r}: an array of {item_type.__name__} was expected, got {value!r}",
            ), variable
    elif first is not None and type(value) is first:
        return None, True
    return Problem(
        "type", f"{param!r}: type {declared} was expected, got {type(value).__name__} ({value!r})"
    ), variable


def _string_problem(param: str, value: str, accepted: Sequence[Any]) -> Problem | None:
    if standardize(value) in [standardize(a) for a in accepted if type(a) is str]:
        return None
    return Problem("value", f"{param!r}: {value!r} is not one of {list(accepted)!r}")


def _list_problem(param: str, value: list[Any], accepted: Sequence[Any]) -> Problem | None:
    mine = [_std(x) for x in value]
    if any(mine == _std_items(option) for option in accepted):
        return None
    return Problem("value", f"{param!r}: {value!r} is not one of {list(accepted)!r}")


def _dict_problem(param: str, value: Any, accepted: Sequence[Any]) -> Problem | None:
    """A dict value against acceptable dicts, each listing acceptable values per key."""
    problem = Problem("value", f"{param!r}: no acceptable dict to compare {value!r} with")
    if not isinstance(value, Mapping):
        return Problem("value", f"{param!r}: a dict was expected, got {value!r}")
    for option in accepted:
        if option == "":
            continue
        if not isinstance(option, Mapping):
            problem = Problem("value", f"{param!r}: the acceptable value {option!r} is no dict")
            continue
        found = _one_dict(param, value, option)
        if found is None:
            return None
        problem = found
    return problem


def _one_dict(param: str, value: Mapping[str, Any], option: Mapping[str, Any]) -> Problem | None:
    found: Problem | None = None
    for key, item in value.items():
        if key not in option:
            found = Problem("dict_key", f"{param!r}: unexpected key {key!r}")
            break
        choices = _std_items(option[key])
        if choices is None or _std(item) not in choices:
            found = Problem(
                "dict_value", f"{param!r}: [{key!r}] = {item!r} is not one of {option[key]!r}"
            )
            break
    # BFCL looks for missing keys even after a wrong one; the last finding is the one reported.
    for key, choices in option.items():
        if key not in value and not _allows_omission(choices):
            return Problem("dict_key", f"{param!r}: key {key!r} is missing")
    return found


def _allows_omission(choices: Any) -> bool:
    try:
        return "" in choices
    except TypeError:
        return False


def _list_of_dicts_problem(param: str, value: list[Any], accepted: Sequence[Any]) -> Problem | None:
    """Dicts in order, each against the dict at the same place of one acceptable list."""
    problem = Problem("value", f"{param!r}: no acceptable list to compare {value!r} with")
    for option in accepted:
        if not hasattr(option, "__len__") or len(option) != len(value):
            problem = Problem("list_dict_count", f"{param!r}: wrong number of dicts in {value!r}")
            continue
        if value and not isinstance(option, (list, tuple)):  # BFCL raises here
            problem = Problem("value", f"{param!r}: the acceptable value {option!r} is no list")
            continue
        found = None
        for item, wanted in zip(value, option, strict=True):
            found = _dict_problem(param, item, [wanted])
            if found is not None:
                break
        if found is None:
            return None
        problem = found
    return problem


def value_problem(
    param: str, value: Any, accepted: Sequence[Any], schema: Mapping[str, Any]
) -> Problem | None:
    """Why ``value`` is not an acceptable value of ``param`` (declared by ``schema``), or None.

    Example::

        >>> value_problem("unit", "Celsius", ["celsius", ""], {"type": "string"}) is None
        True
    """
    declared = schema.get("type")
    expected = PYTHON_TYPES.get(declared) if isinstance(declared, str) else None
    if expected is None or not isinstance(declared, str):
        return _untyped_problem(param, value, accepted)
    item_type: type | None = None
    if declared in _ARRAY_TYPES:
        items = schema.get("items")
        item_declared = items.get("type") if isinstance(items, Mapping) else None
        if isinstance(item_declared, str):
            item_type = PYTHON_TYPES.get(item_declared)
    if declared == "tuple" and type(value) is tuple:
        value = list(value)
    if declared in _FLOAT_TYPES and type(value) is int:
        value = float(value)
    problem, variable = _type_problem(param, value, accepted, declared, expected, item_type)
    if problem is not None:
        return problem
    if not variable:
        if expected is dict:
            return _dict_problem(param, value, accepted)
        if expected is list and item_type is dict:
            return _list_of_dicts_problem(param, value, accepted)
        if expected is str:
            return _string_problem(param, value, accepted)
        if expected is list:
            return _list_problem(param, value, accepted)
    if value in accepted:
        return None
    return Problem("value", f"{param!r}: {value!r} is not one of {list(accepted)!r}")


def _untyped_problem(param: str, value: Any, accepted: Sequence[Any]) -> Problem | None:
    """A parameter whose declared type has no BFCL rule (none, a union, ``null``): the value's
    own type picks the comparison."""
    if type(value) is str:
        return _string_problem(param, value, accepted)
    if type(value) is list:
        return _list_problem(param, value, accepted)
    if type(value) is dict:
        return _dict_problem(param, value, accepted)
    if value in accepted:
        return None
    return Problem("value", f"{param!r}: {value!r} is not one of {list(accepted)!r}")
