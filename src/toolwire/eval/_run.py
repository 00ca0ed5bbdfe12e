"""Run a model over evaluation cases (BFCL's layout or your own JSONL) and build the report.

Each case is one model turn (``tool_choice="auto"``, no tool executed); its calls are judged by
:func:`~toolwire.eval.ast_check`. The report is
``{"model", "categories": {cat: {"total", "correct", "accuracy"}}, "cases": [...]}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolwire import _json
from toolwire._spec import ToolSpec
from toolwire._tools import Tool
from toolwire.eval._checker import ast_check
from toolwire.models._base import Model, ModelOptions

MODEL_ERROR = "model_error: "  # cases failed by the transport, re-run when a run resumes


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One question, the functions offered, and the acceptable answers."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[Any]
    answer: list[Any]
    specs: list[ToolSpec]


def _lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [_json.loads(line) for line in fh if line.strip()]


def load_bfcl(data_dir: Path, category: str) -> list[Case]:
    """The cases of ``BFCL_v4_<category>.json`` with ``possible_answer/`` beside it."""
    questions = data_dir / f"BFCL_v4_{category}.json"
    if not questions.exists():
        raise FileNotFoundError(f"{questions} not found (BFCL's layout: BFCL_v4_<category>.json)")
    answers = data_dir / "possible_answer" / f"BFCL_v4_{category}.json"
    truth = {r["id"]: r["ground_truth"] for r in _lines(answers)} if answers.exists() else {}
    if "irrelevance" not in category and not truth:
        raise FileNotFoundError(f"{answers} not found: category {category!r} needs its answers")
    out = []
    for raw in _lines(questions):
        fns = list(raw["function"])
        out.append(
            Case(
                id=str(raw["id"]),
                category=category,
                messages=[m for turn in raw["question"] for m in turn],
                functions=fns,
                answer=list(truth.get(raw["id"], [])),
                specs=[Tool.from_schema(f).spec for f in fns],
            )
        )
    return out


def load_own(path: Path, tools: Sequence[Tool]) -> list[Case]:
    """Your cases: JSONL of ``{"question", "expected"}`` (BFCL's ground-truth form) against
    ``tools``; no expected call means the right answer is none."""
    specs = [t.spec for t in tools]
    out = []
    for n, raw in enumerate(_lines(path)):
        question = raw["question"]
        messages = (
            [{"role": "user", "content": question}] if isinstance(question, str) else question
        )
        expected = list(raw.get("expected") or [])
        kind = "irrelevance" if not expected else "multiple" if len(expected) == 1 else "parallel"
        out.append(
            Case(
                id=str(raw.get("id", f"{path.stem}_{n}")),
                category=path.stem,
                messages=list(messages),
                functions=list(specs),
                answer=expected,
                specs=specs,
            )
        )
        _KINDS[out[-1].id] = kind
    return out


_KINDS: dict[str, str] = {}  # own cases: the checking rule their expected answer implies


async def run_case(model: Model, case: Case) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        turn = await model.complete(case.messages, case.specs, ModelOptions(tool_choice="auto"))
    except Exception as exc:  # one failing request fails its case, not the run
        return {
            "id": case.id,
            "valid": False,
            "errors": [f"{MODEL_ERROR}{type(exc).__name__}: {exc}"],
            "calls": [],
            "latency_s": round(time.perf_counter() - start, 6),
            "usage": {},
        }
    latency = time.perf_counter() - start
    calls = list(turn.parsed.calls)
    rule = _KINDS.get(case.id, case.category)
    if turn.parsed.errors:  # a call that does not parse fails the decoding, as in BFCL
        verdict = ast_check(case.functions, [], case.answer, category=rule)
        if "irrelevance" not in rule:
            verdict = type(verdict)(valid=False, errors=[e.message for e in turn.parsed.errors])
    else:
        verdict = ast_check(case.functions, calls, case.answer, category=rule)
    return {
        "id": case.id,
        "valid": verdict.valid,
        "errors": verdict.errors,
        "calls": [{"name": c.name, "arguments": c.arguments} for c in calls],
        "latency_s": round(latency, 6),
        "usage": dict(turn.usage),
    }


async def run_cases(
    model: Model,
    cases: Sequence[Case],
    *,
    concurrency: int = 4,
    done: Sequence[dict[str, Any]] = (),
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the cases not already in ``done`` (a resumed report's cases), ``concurrency`` at a
    time; results in case order."""
    kept = {r["id"]: r for r in done if not _model_failed(r)}
    todo = [c for c in cases if c.id not in kept]
    queue: asyncio.Queue[Case] = asyncio.Queue()
    for case in todo:
        queue.put_nowait(case)
    results = dict(kept)

    async def worker() -> None:
        while not queue.empty():
            case = queue.get_nowait()
            results[case.id] = result = await run_case(model, case)
            if on_result is not None:
                on_result(result)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return [results[c.id] for c in cases if c.id in results]


def _model_failed(result: dict[str, Any]) -> bool:
    return any(str(e).startswith(MODEL_ERROR) for e in result.get("errors", ()))


def report(
    model_name: str, cases: Sequence[Case], results: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The JSON report of one model."""
    category = {c.id: c.category for c in cases}
    cats: dict[str, dict[str, Any]] = {}
    for r in results:
        row = cats.setdefault(category[r["id"]], {"total": 0, "correct": 0, "accuracy": 0.0})
        row["total"] += 1
        row["correct"] += bool(r["valid"])
    for row in cats.values():
        row["accuracy"] = round(row["correct"] / row["total"], 4) if row["total"] else 0.0
    return {"model": model_name, "categories": cats, "cases": list(results)}
