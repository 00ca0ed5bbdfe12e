"""Score the offline stand-in model on a BFCL category (AST-style match, simplified)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.models import ModelOptions, Offline


def _spec(fn: dict[str, Any]) -> ToolSpec:
    params = dict(fn.get("parameters") or {})
    params["type"] = "object"  # BFCL says "dict"
    return ToolSpec(name=fn["name"], description=fn.get("description", ""), input_schema=params)


def _same(value: Any, accepted: list[Any]) -> bool:
    for ok in accepted:
        if ok == "":
            continue
        if isinstance(ok, (int, float)) and isinstance(value, (int, float)):
            if not isinstance(value, bool) and float(ok) == float(value):
                return True
        elif isinstance(ok, str) and isinstance(value, str):
            if ok.strip().lower() == value.strip().lower():
                return True
        elif ok == value:
            return True
    return False


def _matches(name: str, args: dict[str, Any], truth: dict[str, dict[str, list[Any]]]) -> bool:
    if name not in truth:
        return False
    expected = truth[name]
    if any(k not in expected for k in args):
        return False
    for param, accepted in expected.items():
        if param in args:
            if not _same(args[param], accepted):
                return False
        elif "" not in accepted:
            return False
    return True


def score(bfcl_dir: Path, category: str = "simple_python") -> tuple[int, int, list[str]]:
    """(correct, total, ids that failed)."""
    questions = bfcl_dir / f"BFCL_v4_{category}.json"
    answers = bfcl_dir / "possible_answer" / f"BFCL_v4_{category}.json"
    truth = {}
    for line in answers.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            truth[item["id"]] = item["ground_truth"]
    model = Offline(place_finder=None)
    correct = total = 0
    failed: list[str] = []
    for line in questions.read_text().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        specs = [_spec(f) for f in case["function"]]
        messages = [m for turn in case["question"] for m in turn]
        turn = model.respond(messages, specs, ModelOptions(tool_choice="required"))
        calls = turn.parsed.calls
        expected = truth[case["id"]]
        total += 1
        ok = len(calls) == len(expected) and all(
            _matches(c.name, json.loads(c.arguments), t)
            for c, t in zip(calls, expected, strict=False)
        )
        if ok:
            correct += 1
        else:
            failed.append(case["id"])
    return correct, total, failed
