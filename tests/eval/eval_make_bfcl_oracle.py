"""Record BFCL's verdicts on every output of ``eval_bfcl_mutations.py``: the table ours must match.

BFCL's checker is the ``bfcl-eval`` package's ``ast_checker`` (plus its ``utils`` for the
output-format and no-call rules). The package pulls ~30 SDKs, torch among them, so it is not
a dependency of ours: install it alone, without its dependencies, in a throwaway venv outside
the checkout, and run this script with that venv's Python::

    python -m venv /tmp/bfcl-oracle
    /tmp/bfcl-oracle/bin/pip install --no-deps bfcl-eval==2026.3.23 filelock
    /tmp/bfcl-oracle/bin/python tests/eval/eval_make_bfcl_oracle.py ../shared/data/bfcl \\
        > tests/eval/data/bfcl_oracle.jsonl

(2026.3.23 is the release of the data in ``../shared/data/bfcl``.) Only ``model_config`` —
BFCL's table of model handlers, which imports every SDK — is replaced, by two entries: a
model whose function names BFCL compares as written (``plain``) and one whose dots it turns
into underscores (``wire``, as for OpenAI). Everything that decides a verdict is BFCL's code.

One line per case: ``[case id, digest of its mutations, verdicts, kinds]``: the digest covers
every mutation's name, mode and output (a changed ``eval_bfcl_mutations.py`` is caught, not compared
wrongly); verdicts has one character per mutation, in order (``1`` valid, ``0`` invalid, ``x``
BFCL's checker raised); kinds holds BFCL's ``error_type`` of each, in our ``Verdict.kind``
names (``BFCL_KINDS``; ``""`` when valid, ``raises:Name`` where it raised).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_bfcl_mutations import CATEGORIES, digest, load, mutations

MODELS = {"plain": "toolwire-plain", "wire": "toolwire-wire"}
# BFCL's error_type -> toolwire.eval.Verdict.kind (BFCL's own names differ per checker function).
BFCL_KINDS = {
    "simple_function_checker:wrong_count": "wrong_count",
    "multiple_function_checker:wrong_count": "wrong_count",
    "parallel_function_checker_no_order:wrong_count": "wrong_count",
    "parallel_function_checker_no_order:cannot_find_match": "no_match",
    "simple_function_checker:wrong_func_name": "wrong_name",
    "simple_function_checker:missing_required": "missing_required",
    "simple_function_checker:unexpected_param": "unexpected_param",
    "simple_function_checker:missing_optional": "missing_optional",
    "type_error:simple": "type",
    "type_error:nested": "nested_type",
    "value_error:string": "value",
    "value_error:others": "value",
    "value_error:list/tuple": "value",
    "dict_checker:unclear": "value",
    "list_dict_checker:unclear": "value",
    "value_error:dict_key": "dict_key",
    "value_error:dict_value": "dict_value",
    "value_error:list_dict_count": "list_dict_count",
    "ast_decoder:decoder_wrong_output_format": "format",
    "irrelevance_error:decoder_success": "irrelevant_call",
}


def _bfcl() -> Callable[[dict[str, Any], list[Any], str, str, list[Any]], tuple[Any, str]]:
    os.environ.setdefault("BFCL_PROJECT_ROOT", tempfile.mkdtemp(prefix="bfcl-oracle-"))

    @dataclasses.dataclass
    class Config:
        underscore_to_dot: bool

    shim = types.ModuleType("bfcl_eval.constants.model_config")
    shim.MODEL_CONFIG_MAPPING = {  # type: ignore[attr-defined]
        name.replace("_", "/"): Config(underscore_to_dot=mode == "wire")
        for mode, name in MODELS.items()
    }
    sys.modules["bfcl_eval.constants.model_config"] = shim
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    def verdict(
        case: dict[str, Any], truth: list[Any], category: str, mode: str, output: list[Any]
    ) -> tuple[Any, str]:
        if category == "irrelevance":  # eval_runner: right when the output holds no call
            empty = is_empty_output(output)
            return (True, "") if empty else (False, "irrelevance_error:decoder_success")
        if not is_function_calling_format_output(output):
            return False, "ast_decoder:decoder_wrong_output_format"
        try:
            result = ast_checker(
                case["function"], output, truth, Language.PYTHON, category, MODELS[mode]
            )
        except Exception as exc:  # BFCL raises on some inputs; recorded, not hidden
            return None, f"raises:{type(exc).__name__}"
        return bool(result["valid"]), "" if result["valid"] else result.get("error_type", "")

    return verdict


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bfcl_dir = Path(argv[1])
    verdict = _bfcl()
    for category in CATEGORIES:
        for case, truth in load(bfcl_dir, category):
            made = list(mutations(case, truth))
            marks, kinds = [], []
            for _, mode, output in made:
                valid, kind = verdict(case, truth, category, mode, output)
                marks.append("x" if valid is None else "1" if valid else "0")
                kinds.append(BFCL_KINDS.get(kind, kind))
            row = [case["id"], digest(made), "".join(marks), kinds]
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
