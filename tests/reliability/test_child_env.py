"""Child servers run the code under test: in a worktree (``PYTHONPATH=$PWD/src``) a child
that replaced PYTHONPATH would import the editable install's toolwire (``/work/main``)."""

from __future__ import annotations

import subprocess
import sys

from reliability_serve import HERE, child_env

import toolwire


def test_a_child_imports_this_toolwire_and_the_reliability_tools() -> None:
    code = "import toolwire, reliability_tools; print(toolwire.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(REL_LOG="/dev/null"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == toolwire.__file__


def test_only_the_helper_sets_a_childs_pythonpath() -> None:
    setters = [
        p.name
        for p in HERE.glob("*.py")
        if p.name not in ("reliability_serve.py", "test_child_env.py")
        and '"PYTHONPATH"' in p.read_text()
    ]
    assert setters == []
