"""``toolwire eval``: measure how well a model calls tools, by BFCL's AST rules.

toolwire eval --model offline --data ../shared/data/bfcl --category simple_python,parallel
toolwire eval --model http://127.0.0.1:8000/v1 --cases mine.jsonl --tools app:tools --json out.json
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import click

from toolwire import _json
from toolwire._sources import SOURCE_FORMS


def _model(spec: str) -> Any:
    # The registry's "offline" finds places with the weather pack's gazetteer, which would
    # favour weather-shaped arguments over BFCL's own functions: eval's stand-in has none.
    if spec == "offline":
        from toolwire.models.offline import Offline

        return Offline(place_finder=None)
    from toolwire.cli._demo import resolve_model

    return resolve_model(spec)


def _save(path: Path, reports: list[dict[str, Any]]) -> None:
    data = reports[0] if len(reports) == 1 else {"models": reports}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(_json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)  # a run stopped midway leaves a whole, resumable file


def _previous(path: Path | None) -> dict[str, list[dict[str, Any]]]:
    if path is None or not path.exists():
        return {}
    data = _json.loads(path.read_text(encoding="utf-8"))
    runs = data.get("models", [data]) if isinstance(data, dict) else []
    return {r["model"]: list(r.get("cases", [])) for r in runs if isinstance(r, dict)}


async def _evaluate(
    specs: tuple[str, ...], cases: list[Any], concurrency: int, out: Path | None
) -> list[dict[str, Any]]:
    from rich.progress import Progress

    from toolwire.cli._chat import close_connections
    from toolwire.cli._demo import close_model
    from toolwire.eval._run import report, run_cases

    before = _previous(out)
    reports: list[dict[str, Any]] = []
    with Progress(transient=False) as progress:
        for spec in specs:
            model = _model(spec)
            done = before.get(spec, [])
            bar = progress.add_task(spec, total=len(cases), completed=0)
            partial: list[dict[str, Any]] = list(done)

            def tick(
                result: dict[str, Any], bar: Any = bar, partial: Any = partial, spec: str = spec
            ) -> None:
                partial.append(result)
                progress.advance(bar)
                if out is not None and len(partial) % 25 == 0:
                    _save(out, [*reports, report(spec, cases, _dedupe(partial))])

            try:
                results = await run_cases(
                    model, cases, concurrency=concurrency, done=done, on_result=tick
                )
            finally:
                await close_model(model)
            progress.update(bar, completed=len(cases))
            reports.append(report(spec, cases, results))
            if out is not None:
                _save(out, reports)
    await close_connections()
    return reports


def _dedupe(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({r["id"]: r for r in results}.values())


def _table(reports: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    cats = sorted({c for r in reports for c in r["categories"]})
    table = Table(title="accuracy (BFCL AST rules)")
    table.add_column("category")
    for r in reports:
        table.add_column(r["model"], justify="right")
    for cat in cats:
        cells = []
        for r in reports:
            row = r["categories"].get(cat)
            cells.append(f"{row['accuracy']:.1%} ({row['correct']}/{row['total']})" if row else "-")
        table.add_row(cat, *cells)
    Console(stderr=True).print(table)


@click.command()
@click.option("--model", "models", multiple=True, required=True, help="offline | URL | name.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--category", "categories", default="", help="CAT[,CAT] of BFCL's files.")
@click.option("--cases", "cases_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--tools",
    "sources",
    multiple=True,
    help=f"Tool source (for --cases): {SOURCE_FORMS}, or an OpenAPI URL (repeatable).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None)
@click.option("--concurrency", type=click.IntRange(min=1, max=256), default=4, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path))
def eval(
    models: tuple[str, ...],
    data_dir: Path | None,
    categories: str,
    cases_file: Path | None,
    sources: tuple[str, ...],
    limit: int | None,
    concurrency: int,
    json_out: Path | None,
    html_out: Path | None,
) -> None:
    """Score models on BFCL categories or your own cases (one turn each, no tool runs)."""
    from toolwire.eval._run import load_bfcl, load_own

    cases: list[Any] = []
    try:
        if data_dir is not None:
            cats = [c.strip() for c in categories.split(",") if c.strip()]
            if not cats:
                raise click.UsageError("--data needs --category CAT[,CAT]")
            for cat in cats:
                cases.extend(load_bfcl(data_dir, cat)[:limit])
        if cases_file is not None:
            from toolwire.cli._chat import load_toolbox

            box, _ = asyncio.run(load_toolbox(sources, None))
            cases.extend(load_own(cases_file, list(box))[:limit])
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    if not cases:
        raise click.UsageError("nothing to run: give --data DIR --category CAT or --cases FILE")
    reports = asyncio.run(_evaluate(models, cases, concurrency, json_out))
    _table(reports)
    if html_out is not None:
        from toolwire.eval._html import render

        html_out.write_text(render(reports), encoding="utf-8")
