"""`.ci/run` runs the README's test command, character for character."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^pip install -e .*&& pytest.*$", readme, re.M)
    assert "-m slow" in command and "--cov-append" in command  # the split, coverage of both
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci
