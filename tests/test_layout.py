"""The test tree's own rules, checked so that a clash fails here with a clear message.

pytest's default import mode puts each test folder on ``sys.path`` and imports a test file by its
basename, so two files with one basename in different folders make collection fail for whoever
runs both (CI did, once). Helpers that tests import by name (``service_checks``) clash the same way.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_python_file_under_tests_has_a_basename_of_its_own() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("*.py"):
        if "node_modules" in path.parts or path.name in {"conftest.py", "__init__.py"}:
            continue
        by_name[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"rename one of each: {clashes}"


def test_test_files_are_named_for_what_they_test() -> None:
    # review findings live beside the feature they pin, not in a file named for the review
    assert not sorted(p.name for p in TESTS.rglob("test_review_fix*.py"))


# Names a tool requires: pytest's (conftest.py), Python's (__init__.py, and sitecustomize.py,
# which the offline docs build puts on its PYTHONPATH so that Python imports it at start-up).
NAMED_BY_A_TOOL = {"conftest.py", "__init__.py"}
NAMED_BY_A_TOOL_PATHS = {"docs/offline/sitecustomize.py"}


def test_every_helper_in_a_test_folder_is_named_for_its_folder() -> None:
    # one scheme for helpers, tool modules, fixtures, child scripts and fake servers:
    # tests/<folder>/.../<folder>_<what>.py; modules directly in tests/ are shared and exempt
    offenders: list[str] = []
    for path in TESTS.rglob("*.py"):
        rel = path.relative_to(TESTS)
        if len(rel.parts) < 2 or "node_modules" in rel.parts:
            continue
        if path.name.startswith("test_") or path.name in NAMED_BY_A_TOOL:
            continue
        if rel.as_posix() in NAMED_BY_A_TOOL_PATHS:
            continue
        if not path.name.startswith(f"{rel.parts[0]}_"):
            offenders.append(f"{rel.as_posix()} (want {rel.parts[0]}_<what>.py)")
    assert not offenders, "rename: " + ", ".join(sorted(offenders))
