"""Run a tutorial page's Python, as the test suite does: every tutorial is a runnable script.

    python examples/run_tutorial.py docs/tutorials/first-tool.md
    python examples/run_tutorial.py docs/tutorials/*.md          # each in turn

The ```python blocks of the page are joined in order and run in one fresh interpreter, in a
temporary folder; a block whose first line is ``# not run: <reason>`` (it needs a key or the
network) is left out. The exit status is the first failing page's, else 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SKIP = "# not run:"


def program(page: Path) -> str:
    """The page's runnable Python: its ```python blocks in order, ``# not run:`` ones left out."""
    blocks: list[str] = FENCE.findall(page.read_text(encoding="utf-8"))
    return "\n\n".join(b for b in blocks if not b.lstrip().startswith(SKIP))


def run(page: Path, *, timeout: float = 300) -> int:
    with tempfile.TemporaryDirectory(prefix="tutorial-") as folder:
        script = Path(folder) / "tutorial.py"
        script.write_text(program(page), encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], cwd=folder, timeout=timeout)
        return done.returncode


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for name in argv:
        print(f"=== {name}", flush=True)
        status = run(Path(name))
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
