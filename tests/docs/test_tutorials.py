"""Every tutorial runs as written.

The convention (the Chinese pages under docs/zh/tutorials/ follow it too): on each page the
```python blocks are concatenated in order and run in one fresh subprocess (cwd a temporary
folder, offline, bounded) that must exit 0; a block whose first line is ``# not run: <reason>``
is skipped (``examples/run_tutorial.py`` reads the pages; run it to try a page by hand).
```bash blocks are not run here: examples/ holds scripts for those steps, run by
tests/docs/test_examples.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from run_tutorial import program  # examples/: the one reader of the pages, also a script

pytestmark = pytest.mark.slow  # one subprocess per tutorial
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIALS = (
    "first-tool",
    "serving",
    "models",
    "policies",
    "remote-tools",
    "nl2sql",
    "multi-model",
    "deploy-redis",
    "eval",
)
OFFLINE = Path(__file__).resolve().parent / "offline"


def pages() -> list[Path]:
    found = sorted((DOCS / "tutorials").glob("*.md")) + sorted((DOCS / "zh/tutorials").glob("*.md"))
    return found


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    # offline/sitecustomize.py is loaded first by the run and by every Python subprocess it
    # starts: connections and name lookups beyond this machine raise instead of going out
    env["PYTHONPATH"] = os.pathsep.join([str(OFFLINE), str(ROOT / "src")])
    return env


def test_every_english_tutorial_exists() -> None:
    missing = [n for n in TUTORIALS if not (DOCS / "tutorials" / f"{n}.md").is_file()]
    assert not missing


def test_the_block_reader_follows_the_convention(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "```python\nx = 1\n```\n\n```bash\nexit 1\n```\n\n```python\n# not run: needs a key\n"
        "raise SystemExit(1)\n```\n\n```python\nassert x == 1\n```\n",
        encoding="utf-8",
    )
    assert program(page) == "x = 1\n\n\nassert x == 1\n"


def test_a_tutorial_run_cannot_reach_the_internet(tmp_path: Path) -> None:
    probe = (
        "import socket, urllib.request\n"
        "for call in (lambda: socket.getaddrinfo('example.com', 443),\n"
        "             lambda: socket.create_connection(('93.184.215.14', 443), timeout=5)):\n"
        "    try:\n"
        "        call()\n"
        "    except OSError as exc:\n"
        "        assert 'offline' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit('reached the internet')\n"
        "socket.getaddrinfo('127.0.0.1', 80)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_tutorial_runs(page: Path, tmp_path: Path) -> None:
    code = program(page)
    assert code.strip(), f"{page.name} has no runnable ```python block"
    script = tmp_path / "tutorial.py"
    script.write_text(code, encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=offline_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=100,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{page.name} did not finish in 100 s: {exc.stdout!r} {exc.stderr!r}")
    assert done.returncode == 0, f"{page.name}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
