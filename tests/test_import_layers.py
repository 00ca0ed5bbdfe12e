"""Imports point down the layers (tests/import_layers.py holds the table), and no module
imports itself back through others.

Every import counts, type-only (``TYPE_CHECKING``) and lazy ones included, for the layers.
For circles, module-level imports count (``TYPE_CHECKING`` blocks included): a function that
imports a sibling when first called (the task RPCs, loaded only when served) is no circle at
import time, and the layer rule still holds for it.
"""

from __future__ import annotations

from pathlib import Path

from import_layers import LAYERS, imports, layer_of, module_names, svg

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_has_a_layer() -> None:
    assert all(layer_of(m) >= 0 for m in module_names())


def test_no_module_imports_a_higher_layer() -> None:
    known = module_names()
    upward = []
    for module, path in known.items():
        mine = layer_of(module)
        for target, line, _ in imports(module, path, known):
            theirs = layer_of(target)
            if theirs > mine:
                upward.append(
                    f"{module}:{line} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})"
                )
    assert not upward, "\n".join(upward)


def test_no_import_circle() -> None:
    known = module_names()
    graph = {
        m: {t for t, _, top in imports(m, p, known) if top and t in known and t != m}
        for m, p in known.items()
    }
    # a package's __init__ importing its own submodules is how packages work: the circle
    # that matters is a submodule importing the package back, which the edges below keep
    circles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not circles, circles


def test_the_picture_is_drawn_from_the_table() -> None:
    assert (ROOT / "docs" / "img" / "layers.svg").read_text(encoding="utf-8") == svg(), (
        "python tests/import_layers.py > docs/img/layers.svg"
    )
