"""``toolwire bench``: run the benchmarks (``python -m benchmarks``) from a source checkout.

The benchmarks are scripts in the repository, not part of the installed package: this command
finds the checkout (the current directory or one of its parents, then the one this package
was installed from in editable mode) and runs ``python -m benchmarks`` there with the same
interpreter and options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click


def find_checkout(start: Path | None = None) -> Path | None:
    """The nearest folder holding ``benchmarks/__main__.py``: cwd and up, then the source."""
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents, *Path(__file__).resolve().parents]
    for folder in candidates:
        if (folder / "benchmarks" / "__main__.py").is_file():
            return folder
    return None


_MISSING = """\
The benchmarks are not part of the installed package; they live in the source repository.
Run this from a checkout:

    git clone <toolwire repository> && cd toolwire
    python -m venv .venv && .venv/bin/pip install -e ".[all]" matplotlib
    python -m venv .venv-peers && .venv-peers/bin/pip install -e . \\
        -r benchmarks/requirements-peers.txt
    .venv/bin/toolwire bench --quick
"""


@click.command(
    "bench",
    help="Run the benchmarks side by side with the peers and write docs/benchmarks.md.",
)
@click.option("--quick", is_flag=True, help="Short runs (what CI does); page goes to build/.")
@click.option("--only", multiple=True, metavar="NAME", help="Only this benchmark (repeatable).")
@click.option(
    "--peers-python",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Interpreter of the peers venv (default: .venv-peers/bin/python in the checkout).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Page to write.")
@click.option("--no-write", is_flag=True, help="Print the figures; write no page.")
@click.option("--list", "list_only", is_flag=True, help="List the benchmarks and exit.")
def bench(
    quick: bool,
    only: tuple[str, ...],
    peers_python: Path | None,
    out: Path | None,
    no_write: bool,
    list_only: bool,
) -> None:
    checkout = find_checkout()
    if checkout is None:
        click.echo(_MISSING, err=True)
        raise SystemExit(2)
    argv = [sys.executable, "-m", "benchmarks"]
    argv += ["--quick"] if quick else []
    for name in only:
        argv += ["--only", name]
    if peers_python is not None:
        argv += ["--peers-python", str(peers_python.resolve())]
    if out is not None:
        argv += ["--out", str(out.resolve())]
    argv += ["--no-write"] if no_write else []
    argv += ["--list"] if list_only else []
    raise SystemExit(subprocess.call(argv, cwd=checkout))
