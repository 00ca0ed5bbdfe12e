"""The API reference: the site builds with ``mkdocs build --strict`` and every public name has
an entry (an anchor in the built ``objects.inv``), so a new name or module without one fails.

Public names: ``toolwire.__all__``, and for every public module (no ``_`` part in its dotted
path; the generated protobuf code under ``toolwire.examples.proto`` excluded) the module itself
and its ``__all__`` or, without one, the classes and functions it defines.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import toolwire

pytestmark = pytest.mark.slow  # a whole mkdocs build
ROOT = Path(__file__).resolve().parents[2]
if not os.environ.get("CI"):  # under CI=true a missing docs extra is a failure, not a skip
    pytest.importorskip("mkdocstrings", reason="the docs extra: pip install -e '.[docs]'")


def public_modules() -> list[str]:
    names = ["toolwire"]
    for info in pkgutil.walk_packages(toolwire.__path__, "toolwire."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        if info.name.startswith("toolwire.examples.proto"):
            continue  # protoc's output, not ours to document
        names.append(info.name)
    return names


def public_names(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        exported = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == module_name
        ]
    return {module_name} | {f"{module_name}.{name}" for name in exported}


def read_inventory(path: Path) -> set[str]:
    data = path.read_bytes()
    # four header lines, then the zlib-compressed "name domain:role priority uri dispname" lines
    body = zlib.decompress(data.split(b"\n", 4)[4]).decode()
    return {line.split(" ", 1)[0] for line in body.splitlines() if line}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_MKDOCS_2_WARNING": "1"}
    # no -q: quiet mode hides the warnings that --strict counts, so the build would pass
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return read_inventory(site / "objects.inv")


def test_every_public_name_has_a_reference_entry(inventory: set[str]) -> None:
    missing = sorted(
        name for module in public_modules() for name in public_names(module) - inventory
    )
    assert not missing, f"no API reference entry (add `::: module` to docs/reference): {missing}"


def test_top_level_names_are_anchored_under_toolwire(inventory: set[str]) -> None:
    # the anchors users link to: toolwire.Toolbox, toolwire.Policy, ...
    assert {f"toolwire.{name}" for name in toolwire.__all__} <= inventory
    assert "toolwire.Toolbox" in inventory


def test_the_inventory_reader_sees_a_missing_name(inventory: set[str]) -> None:
    # guards the check itself: a name nobody documented is reported missing
    assert "toolwire.models.NoSuchModel" not in inventory
    assert len(inventory) > len(toolwire.__all__)
