"""Conformance on real documents: BFCL function docs load, export everywhere, calls validate.

Every function document of the five categories goes through ``Tool.from_schema``; each
case's toolbox exports to every dialect; strict OpenAI and Gemini schemas are walked by the
structural checkers; every ground-truth call (first acceptable value per parameter, ``""``
meaning omitted) validates through ``box.validate`` under its original and its wire name, and
against the strict schema with omitted optional parameters sent as null. Run with ``-s`` to
see the counts (they are also in any failure message).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema_rs
from export_checks import check_gemini, check_openai_strict

from toolwire._errors import InvalidArguments, ToolDefinitionError
from toolwire._json import dumps, loads
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.dialects._export import EXPORT_DIALECTS
from toolwire.dialects._names import wire_names

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [loads(line) for line in fh if line.strip()]


# Ground truths that contradict their own function document (BFCL data errors): validation
# must reject them, and does. (case id, index of the call) -> why.
CONTRADICTIONS = {
    ("parallel_multiple_21", 1): "linear_regression_fit: numbers expected, an expression given",
    ("parallel_multiple_94", 0): "sort_list: integer items expected, strings given",
}


def _first_values(
    params: dict[str, list[Any]], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """First acceptable value per parameter; nested dicts hold acceptable-value lists too.

    ``""`` means "may be omitted"; for a parameter the document marks required (where BFCL
    lists ``""`` first anyway) the first real value is taken instead.
    """
    out: dict[str, Any] = {}
    for key, values in params.items():
        if not isinstance(values, list):
            continue
        if key in required:
            values = [v for v in values if v != ""]
        if not values or values[0] == "":
            continue
        out[key] = _first_nested(values[0])
    return out


def _first_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return _first_values(value)
    if isinstance(value, list):
        return [_first_nested(v) for v in value]
    return value


def test_bfcl_documents_load_export_and_validate(bfcl_dir: Path) -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []

    def fail(case: str, what: str) -> None:
        counts["failures"] += 1
        if len(failures) < 15:
            failures.append(f"{case}: {what}")

    for category in CATEGORIES:
        answers = {
            a["id"]: a["ground_truth"]
            for a in _lines(bfcl_dir / "possible_answer" / f"BFCL_v4_{category}.json")
        }
        cases = _lines(bfcl_dir / f"BFCL_v4_{category}.json")
        assert cases, f"no cases in {category}"
        counts[f"cases.{category}"] = len(cases)
        for case in cases:
            _check_case(case, answers.get(case["id"], []), counts, fail)

    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"\nBFCL conformance: {summary}")
    assert counts["documents"] >= 1900, summary
    assert counts["calls_validated"] >= 1000, summary
    assert not failures, summary + "\n" + "\n".join(failures)


def _check_case(
    case: dict[str, Any],
    truth: list[dict[str, dict[str, list[Any]]]],
    counts: Counter[str],
    fail: Any,
) -> None:
    cid = case["id"]
    tools = []
    for doc in case["function"]:
        try:
            tools.append(Tool.from_schema(doc))
        except Exception as exc:
            fail(cid, f"{doc.get('name')} did not load: {exc!r}")
            return
        counts["documents"] += 1
    box = Toolbox(tools)
    for dialect in EXPORT_DIALECTS:
        try:
            box.export(dialect)
            counts[f"export.{dialect}"] += 1
        except Exception as exc:
            fail(cid, f"export {dialect}: {exc!r}")

    gemini = box.export("gemini")
    assert isinstance(gemini, list)
    for decl in gemini[0]["functionDeclarations"]:
        problems = check_gemini(decl.get("parameters", {"type": "object"}))
        if problems:
            fail(cid, f"gemini {decl['name']}: {problems}")
        else:
            counts["gemini_ok"] += 1

    strict: dict[str, dict[str, Any]] = {}
    openai_names = wire_names([t.name for t in tools], "openai")
    for item in tools:
        try:
            exported = Toolbox([item]).export("openai", strict=True)
        except ToolDefinitionError as exc:
            # Honest refusals only: open maps and any-value schemas, with their path.
            message = str(exc)
            if "$" not in message or not any(
                w in message for w in ("open map", "undeclared keys", "any-value")
            ):
                fail(cid, f"strict {item.name}: unexpected refusal {message}")
            counts["strict_impossible"] += 1
            continue
        assert isinstance(exported, list)
        params = exported[0]["function"]["parameters"]
        problems = check_openai_strict(params)
        if problems:
            fail(cid, f"strict {item.name}: {problems}")
        else:
            counts["strict_ok"] += 1
            strict[item.name] = params
        if box.get(openai_names[item.name]) is not item:
            fail(cid, f"wire name {openai_names[item.name]} does not resolve to {item.name}")

    for index, call in enumerate(truth):
        for name, params in call.items():
            required = frozenset(box.get(name).spec.input_schema.get("required", ()))
            arguments = _first_values(params, required)
            if (cid, index) in CONTRADICTIONS:
                try:
                    box.validate(name, arguments)
                except InvalidArguments:
                    counts["ground_truth_contradicting_schema_rejected"] += 1
                else:
                    fail(cid, f"{name}: contradicting ground truth {arguments} was accepted")
                continue
            try:
                validated = box.validate(name, dumps(arguments))
                box.validate(openai_names[name], arguments)
            except Exception as exc:
                fail(cid, f"ground truth {name}({arguments}) rejected: {exc}")
                continue
            counts["calls_validated"] += 1
            if name in strict:
                _check_strict_accepts(cid, strict[name], validated, counts, fail)


def _check_strict_accepts(
    cid: str, schema: dict[str, Any], validated: dict[str, Any], counts: Counter[str], fail: Any
) -> None:
    """A call that validates must also fit the strict schema once omissions are sent as null."""
    full = {k: validated.get(k) for k in schema["properties"]}
    instance = loads(dumps(full))
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(instance)]
    if errors:
        fail(cid, f"strict schema rejects {instance}: {errors[:2]}")
    else:
        counts["calls_fit_strict"] += 1
