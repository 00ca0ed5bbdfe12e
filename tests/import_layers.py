"""The layers of ``src/toolwire`` as they are, and the imports between its modules.

The table below is the one source for both ``tests/test_import_layers.py`` (no module imports
a higher layer, and no module imports itself back through others) and the picture in
``docs/architecture.md``, which it writes::

    python tests/import_layers.py > docs/img/layers.svg

A module belongs to the layer of its longest listed prefix; a package's ``__init__`` to its
package's. Imports are read with ``ast`` wherever they are (module level, ``TYPE_CHECKING``
blocks, inside functions), so a type-only or lazy import counts like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from html import escape
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "toolwire"

# Bottom first: a module may import its own layer and the ones below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "state, data model, utilities",
        (
            "state",
            "_calls",
            "_errors",
            "_context",
            "_spec",
            "_status",
            "_tables",
            "_json",
            "_fast",
            "_retry_after",
            "_backoff",
            "observe",
        ),
    ),
    ("text formats, schemas, grammars", ("parsing", "schema", "grammar")),
    ("dialects, validation", ("dialects", "_validate", "_validate_report", "_validate_schema")),
    # a Tool carries its Policy: the policy descriptions (plain data) sit with the tools
    ("tools", ("_tools", "_tool_building", "runtime._policy")),
    ("execution, sources", ("runtime", "remote", "packs")),
    ("the toolbox, configuration", ("_toolbox", "_sources", "config")),
    ("models, transports", ("models", "serve")),
    ("the loop, evaluation", ("runner", "eval")),
    ("command line, examples, the package", ("cli", "examples", "__main__", "")),
)


def module_names() -> dict[str, Path]:
    """Every module under src/toolwire by dotted name (``toolwire.state`` for a package)."""
    names = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of ``module`` (a dotted name under ``toolwire``)."""
    inner = module.removeprefix("toolwire").removeprefix(".")
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            hit = prefix == "" or inner == prefix or inner.startswith(prefix + ".")
            if hit and len(prefix) > best:
                best, rank = len(prefix), i
    return rank


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int, bool]]:
    """``(imported module, line, at module level)`` for each toolwire module ``module``
    imports; ``from pkg import name`` counts as ``pkg.name`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = set()
    for node in tree.body:
        top_level.add(node)
        if isinstance(node, ast.If):  # ``if TYPE_CHECKING:`` and the like
            top_level.update(node.body)
            top_level.update(node.orelse)
        if isinstance(node, ast.Try):
            top_level.update(node.body)
            for handler in node.handlers:
                top_level.update(handler.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "toolwire" or target.startswith("toolwire."):
                yield target, node.lineno, node in top_level


def svg() -> str:
    """The layer table as a picture: one band per layer, bottom layer at the bottom."""
    width, band, gap, pad = 860, 46, 8, 16
    height = pad * 2 + len(LAYERS) * (band + gap) - gap + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{pad}" y="{pad + 8}" font-size="13" fill="#555">toolwire layers: imports '
        "point down only (checked by tests/test_import_layers.py)</text>",
    ]
    for i, (title, prefixes) in enumerate(reversed(LAYERS)):
        y = pad + 24 + i * (band + gap)
        shade = 235 - 8 * (len(LAYERS) - 1 - i)
        names = ", ".join("toolwire" if p == "" else ("toolwire." + p) for p in prefixes)
        out += [
            f'<rect x="{pad}" y="{y}" width="{width - 2 * pad}" height="{band}" rx="6" '
            f'fill="rgb({shade},{shade + 8},255)" stroke="#6b7fd7"/>',
            f'<text x="{pad + 12}" y="{y + 19}" font-size="14" font-weight="bold" '
            f'fill="#1d2a6b">{len(LAYERS) - 1 - i}  {escape(title)}</text>',
            f'<text x="{pad + 12}" y="{y + 37}" font-size="11" fill="#333">{escape(names)}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(svg(), end="")
