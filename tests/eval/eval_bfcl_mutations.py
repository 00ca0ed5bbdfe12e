"""Model outputs built from BFCL's ground truth, right and systematically wrong (stdlib only).

Both the oracle script (``eval_make_bfcl_oracle.py``, run with BFCL's own checker in a throwaway
venv) and the tests import this, so each output is built the same way in both places and is
identified by ``digest(output)``. Every output is BFCL's decoded form, ``[{name: {args}}]``;
``mode`` says how names are spelled: ``plain`` (as documented) or ``wire`` (dots as
underscores, as OpenAI-style APIs need; the tests send those as ``ToolCall``s and BFCL checks
them as a model whose names it converts).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")

Output = list[dict[str, dict[str, Any]]]


def load(bfcl_dir: Path, category: str) -> list[tuple[dict[str, Any], list[Any]]]:
    """(case, ground truth) pairs of one category; irrelevance has an empty ground truth."""
    truth: dict[str, list[Any]] = {}
    answers = bfcl_dir / "possible_answer" / f"BFCL_v4_{category}.json"
    if answers.exists():
        for line in answers.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                truth[item["id"]] = item["ground_truth"]
    out = []
    for line in (bfcl_dir / f"BFCL_v4_{category}.json").read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            out.append((case, truth.get(case["id"], [])))
    return out


def digest(output: Any) -> str:
    text = json.dumps(output, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _real(values: list[Any]) -> list[Any]:
    return [v for v in values if v != ""]


def _doc(case: dict[str, Any], name: str) -> dict[str, Any]:
    return next((f for f in case["function"] if f["name"] == name), {"parameters": {}})


def _pick(values: list[Any], last: bool) -> Any:
    """An acceptable value; nested dicts list acceptable values per key too."""
    real = _real(values)
    value = real[-1] if last else real[0]
    if isinstance(value, dict):
        return {k: _pick(v, last) for k, v in value.items() if isinstance(v, list) and _real(v)}
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        return [
            {k: _pick(v, last) for k, v in d.items() if isinstance(v, list) and _real(v)}
            for d in value
        ]
    return value


def right_call(
    case: dict[str, Any], entry: dict[str, Any], *, full: bool = False, last: bool = False
) -> dict[str, dict[str, Any]]:
    """A call the ground truth accepts: optional parameters left out unless ``full``."""
    ((name, params),) = entry.items()
    required = set(_doc(case, name)["parameters"].get("required", []))
    args: dict[str, Any] = {}
    for param, values in params.items():
        if not _real(values):
            continue
        if "" in values and param not in required and not full:
            continue
        args[param] = _pick(values, last)
    return {name: args}


def wrong_value(value: Any) -> Any:
    """A value of the same type that no sane ground truth accepts along with ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7919
    if isinstance(value, float):
        return value + 7919.5
    if isinstance(value, str):
        return value + " zq"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["zq"]
    if isinstance(value, dict):
        return {**value, "zq": 1} if value else {"zq": 1}
    return "zq"


def wrong_type(value: Any) -> Any:
    """The same value in another JSON type (an int as a float is a type error too)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return float(value) if value % 2 else str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, dict):
        return [value]
    return 0


def restyle(value: Any) -> Any:
    """Strings as a careless model writes them: other case, spaces and punctuation BFCL
    ignores; other values unchanged (so the output should stay right)."""
    if isinstance(value, str):
        return f" {value.upper().replace(' ', '_')}."
    if isinstance(value, list):
        return [restyle(v) for v in value]
    return value


def _fuzz_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            rng.randint(-3, 3),
            rng.choice([0.5, 1.0, 2.0, -1.5]),
            rng.choice([True, False]),
            None,
            rng.choice(["", "a", "A b", "x'y", "New York", "1,2"]),
            [rng.randint(0, 2)],
            ["a", "b"],
            {},
            {"k": "v"},
            [{"k": 1}],
        ]
    )


def _with(call: dict[str, dict[str, Any]], param: str, value: Any) -> dict[str, dict[str, Any]]:
    ((name, args),) = call.items()
    return {name: {**args, param: value}}


def _without(call: dict[str, dict[str, Any]], param: str) -> dict[str, dict[str, Any]]:
    ((name, args),) = call.items()
    return {name: {k: v for k, v in args.items() if k != param}}


def wire(output: Output) -> Output:
    return [{name.replace(".", "_"): args for name, args in c.items()} for c in output]


def mutations(case: dict[str, Any], truth: list[Any]) -> Iterator[tuple[str, str, Output]]:
    """(mutation name, mode, output) for one case, deterministic."""
    fns = case["function"]
    if not truth:  # irrelevance: the right answer is no call
        yield "no_call", "plain", []
        name = fns[0]["name"]
        props = fns[0]["parameters"].get("properties", {})
        yield "a_call", "plain", [{name: dict.fromkeys(list(props)[:1], "x")}]
        yield "empty_args_call", "plain", [{name: {}}]
        yield "not_a_call", "plain", [{"a": 1}]  # type: ignore[dict-item]
        yield "empty_dict", "plain", [{}]
        if "." in name:
            yield "a_call_wire", "wire", wire([{name: {}}])
        return
    right = [right_call(case, e) for e in truth]
    yield "truth", "plain", right
    yield "truth_full", "plain", [right_call(case, e, full=True) for e in truth]
    yield "truth_last", "plain", [right_call(case, e, last=True) for e in truth]
    yield (
        "restyled",
        "plain",
        [{n: {p: restyle(v) for p, v in a.items()}} for c in right for n, a in c.items()],
    )
    if any("." in n for c in right for n in c):
        yield "wire_names", "wire", wire(right)
        yield "dotted_names_as_wire", "wire", right
    yield "no_call", "plain", []
    first = right[0]
    ((name, args),) = first.items()
    yield "wrong_name", "plain", [{name + "_v2": args}, *right[1:]]
    yield "unknown_param", "plain", [_with(first, "zq_extra", 1), *right[1:]]
    full = right_call(case, truth[0], full=True)
    doc = _doc(case, name)["parameters"]
    for param, value in full[name].items():
        yield f"wrong_value:{param}", "plain", [_with(full, param, wrong_value(value)), *right[1:]]
        yield f"wrong_type:{param}", "plain", [_with(full, param, wrong_type(value)), *right[1:]]
        if isinstance(value, int) and not isinstance(value, bool):
            yield f"int_as_float:{param}", "plain", [_with(full, param, float(value)), *right[1:]]
        if isinstance(value, float) and value == int(value):
            yield f"float_as_int:{param}", "plain", [_with(full, param, int(value)), *right[1:]]
        if isinstance(value, list) and value:
            items = [wrong_type(v) for v in value]
            yield f"wrong_item_type:{param}", "plain", [_with(full, param, items), *right[1:]]
        kind = "missing_required" if param in doc.get("required", []) else "dropped"
        yield f"{kind}:{param}", "plain", [_without(full, param), *right[1:]]
    if len(fns) > 1:
        other = next(f["name"] for f in fns if f["name"] != name)
        yield "other_function", "plain", [{other: args}, *right[1:]]
    if len(right) > 1:
        yield "reversed", "plain", right[::-1]
        yield "rotated", "plain", [*right[1:], right[0]]
        yield "dropped_last", "plain", right[:-1]
        yield "duplicated_first", "plain", [right[0], *right]
        yield "first_twice", "plain", [right[0], right[0], *right[2:]]
    else:
        yield "twice", "plain", [first, first]
    rng = random.Random(case["id"])
    for n in range(4):
        params = list(full[name]) or ["zq"]
        param = rng.choice(params)
        yield f"fuzz{n}:{param}", "plain", [_with(full, param, _fuzz_value(rng)), *right[1:]]
