"""``ast_check`` agrees with BFCL's own checker on every mutation of every case of the five
categories in ../shared/data/bfcl.

BFCL's verdicts come from ``data/bfcl_oracle.jsonl``, recorded by ``eval_make_bfcl_oracle.py``
running the ``bfcl-eval`` package's checker (see that script for how to regenerate it). The
outputs are rebuilt here by the same ``eval_bfcl_mutations.py`` and matched by digest, so a table
that no longer fits the generator fails loudly instead of comparing the wrong outputs.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from eval_bfcl_mutations import CATEGORIES, Output, digest, load, mutations

from toolwire import ToolCall
from toolwire.eval import Verdict, ast_check

TABLE = Path(__file__).parent / "data" / "bfcl_oracle.jsonl"

# Where we differ from BFCL on purpose (docs/eval.md): mutation -> (our verdict, why).
DELIBERATE = {
    # BFCL judges names as one model family writes them: for models whose API forbids dots
    # it expects "spotify_play" and refuses "spotify.play". A ToolCall named as documented
    # is the documented function whatever the wire, so we accept both spellings.
    "dotted_names_as_wire": (True, "the documented name is accepted from any model"),
}


def _oracle() -> dict[str, tuple[str, str, list[str]]]:
    rows = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines()]
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def as_calls(output: Output, mode: str) -> list[Any]:
    """Plain outputs go in BFCL's decoded form; wire-named ones as ToolCalls, as our model
    clients return them."""
    if mode == "plain":
        return output
    return [
        ToolCall(id=f"c{i}", name=name, arguments=json.dumps(args))
        for i, call in enumerate(output)
        for name, args in call.items()
    ]


def check(case: dict[str, Any], truth: list[Any], category: str, mode: str, out: Output) -> Verdict:
    return ast_check(case["function"], as_calls(out, mode), truth, category=category)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_mutation_gets_bfcls_verdict(bfcl_dir: Path, category: str) -> None:
    oracle = _oracle()
    disagreements: list[str] = []
    tally: Counter[str] = Counter()
    for case, truth in load(bfcl_dir, category):
        made = list(mutations(case, truth))
        assert case["id"] in oracle, f"{case['id']} is not in {TABLE.name}: regenerate it"
        want_digest, marks, kinds = oracle[case["id"]]
        assert digest(made) == want_digest, (
            f"{case['id']}: eval_bfcl_mutations.py changed since {TABLE.name} was made: "
            "regenerate it"
        )
        for (name, mode, out), mark, kind in zip(made, marks, kinds, strict=True):
            got = check(case, truth, category, mode, out)
            tally[f"{name.split(':')[0]}={'valid' if got.valid else got.kind}"] += 1
            deliberate = DELIBERATE.get(name)
            if deliberate is not None:
                assert got.valid is deliberate[0], (case["id"], name, got)
                continue
            assert mark != "x", f"{case['id']} {name}: BFCL's checker raised ({kind})"
            if got.valid != (mark == "1") or got.kind != kind:
                disagreements.append(
                    f"{case['id']} {name}: BFCL {mark}/{kind}, ours {got.valid}/{got.kind} "
                    f"{got.errors[:1]}"
                )
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        disagreements[:40]
    )
    assert sum(tally.values()) > 0


def test_the_table_covers_each_mutation_family(bfcl_dir: Path) -> None:
    """The table is not trivially agreeable: it holds right and wrong answers of every kind."""
    kinds: Counter[str] = Counter()
    marks: Counter[str] = Counter()
    for _, m, k in _oracle().values():
        kinds.update(k)
        marks.update(m)
    assert marks["1"] > 5000 and marks["0"] > 15000
    for kind in (
        "wrong_count",
        "wrong_name",
        "missing_required",
        "unexpected_param",
        "type",
        "nested_type",
        "value",
        "missing_optional",
        "no_match",
        "dict_key",
        "irrelevant_call",
    ):
        assert kinds[kind] > 0, kind
