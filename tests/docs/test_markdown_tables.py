"""Every Markdown table in docs/ and the README is whole: a run of ``|`` rows starts with a
header and a ``|---|`` separator. (docs/serving.md's route table was split by a paragraph, so
its last rows rendered as plain text.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def broken_tables(text: str) -> list[int]:
    broken: list[int] = []
    in_fence = False
    run: list[tuple[int, str]] = []
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("|"):
            run.append((number, line))
            continue
        if run and (len(run) < 2 or not SEPARATOR.match(run[1][1])):
            broken.append(run[0][0])
        run = []
    return broken


def test_the_check_finds_a_split_table() -> None:
    split = "| a | b |\n|---|---|\n| 1 | 2 |\n\ntext\n| 3 | 4 |\n"
    assert broken_tables(split) == [6]
    assert broken_tables("| a |\n|---|\n| 1 |\n") == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_tables_are_whole(page: Path) -> None:
    assert broken_tables(page.read_text(encoding="utf-8")) == [], page
