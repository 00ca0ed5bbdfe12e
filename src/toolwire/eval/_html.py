"""The ``--html`` report page: accuracy per category and model as inline SVG bars, then each
model's failed cases. Self-contained (no script, no stylesheet or font from the network)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

_COLOURS = ("#3b6ea5", "#d9822b", "#4a9c5d", "#a8434a", "#7d5ba6", "#8c6d31")
_BAR, _GAP, _LABEL, _WIDTH = 18, 10, 170, 420


def _chart(reports: Sequence[dict[str, Any]]) -> str:
    cats = sorted({c for r in reports for c in r["categories"]})
    group = len(reports) * _BAR + _GAP
    height = len(cats) * group + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL + _WIDTH + 120}" '
        f'height="{height}" role="img" aria-label="accuracy per category and model">'
    ]
    for i, cat in enumerate(cats):
        y0 = i * group
        parts.append(f'<text x="0" y="{y0 + group / 2}" font-size="13">{escape(cat)}</text>')
        for j, rep in enumerate(reports):
            row = rep["categories"].get(cat)
            acc = row["accuracy"] if row else 0.0
            y = y0 + j * _BAR
            colour = _COLOURS[j % len(_COLOURS)]
            parts.append(
                f'<rect x="{_LABEL}" y="{y}" width="{acc * _WIDTH:.1f}" height="{_BAR - 3}" '
                f'fill="{colour}"><title>{escape(rep["model"])}: {acc:.1%}</title></rect>'
                f'<text x="{_LABEL + acc * _WIDTH + 4:.1f}" y="{y + _BAR - 6}" font-size="11">'
                f"{acc:.1%}</text>"
            )
    legend_y = len(cats) * group + 15
    for j, rep in enumerate(reports):
        x = _LABEL + j * 160
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" '
            f'fill="{_COLOURS[j % len(_COLOURS)]}"/><text x="{x + 14}" y="{legend_y}" '
            f'font-size="12">{escape(rep["model"][:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render(reports: Sequence[dict[str, Any]], *, failures: int = 50) -> str:
    """The HTML page for one or several models' reports (the first ``failures`` failed cases
    of each listed with their errors)."""
    sections = []
    for rep in reports:
        failed = [c for c in rep["cases"] if not c["valid"]][:failures]
        rows = "".join(
            f"<tr><td>{escape(str(c['id']))}</td><td>{escape('; '.join(map(str, c['errors'])))}"
            f"</td></tr>"
            for c in failed
        )
        sections.append(
            f"<h2>{escape(rep['model'])}: failed cases (first {len(failed)})</h2>"
            f"<table><tr><th>id</th><th>why</th></tr>{rows}</table>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>toolwire eval</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border-bottom:1px solid #ddd;"
        "padding:2px 8px;text-align:left;font-size:13px}</style></head><body>"
        "<h1>toolwire eval: accuracy by BFCL's AST rules</h1>"
        f"{_chart(reports)}{''.join(sections)}</body></html>"
    )
