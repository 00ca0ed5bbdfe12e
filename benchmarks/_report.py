"""Render benchmark results into ``docs/benchmarks.md`` without losing anyone's hand-written text.

The page has one generated region::

    <!-- generated:begin -->
    ... machine block, then one block per benchmark:
    <!-- bench:bench_validate:begin --> ... <!-- bench:bench_validate:end -->
    <!-- generated:end -->

Everything outside the region is kept byte for byte (intro, owners' notes, hand-written
``## bench_x`` sections). Inside it, a benchmark's block is replaced only when that benchmark
ran in this run; blocks of benchmarks that did not run (``--only``, a failure) stay as they
were, with the date they were measured. A page without a region gets one inserted before its
first ``## `` heading.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

BEGIN = "<!-- generated:begin: written by `python -m benchmarks`; edit outside this region -->"
END = "<!-- generated:end -->"
_BEGIN_RE = re.compile(r"<!-- generated:begin[^>]*-->")
_BLOCK_RE = re.compile(r"<!-- bench:([\w.-]+):begin -->\n.*?<!-- bench:\1:end -->\n?", re.S)
_MACHINE = "__machine__"
_META_KEYS = {"benchmark", "bench", "title", "quick", "results", "curves", "schema"}


# ----------------------------------------------------------------------------- numbers


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        mag = abs(value)
        if mag >= 1000:
            return f"{value:,.0f}"
        if mag >= 100:
            return f"{value:.0f}"
        if mag >= 10:
            return f"{value:.1f}"
        if mag >= 0.01 or mag == 0:
            return f"{value:.2f}"
        return f"{value:.2e}"
    if isinstance(value, dict):
        nums = [k for k, v in value.items() if _num(v) is not None]
        if len(nums) == 1:  # {"ms": 1.9, "note": "..."} -> "1.90 ms (...)"
            rest = "; ".join(
                str(v) for k, v in value.items() if k != nums[0] and v not in ("", None)
            )
            return f"{fmt(value[nums[0]])} {nums[0]}" + (f" ({fmt(rest)})" if rest else "")
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items() if v not in ("", None))
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def advantage(ours: Any, other: Any, better: str) -> float | None:
    """How many times toolwire is ahead of ``other`` (> 1: ahead), whatever the direction."""
    a, b = _num(ours), _num(other)
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return b / a if better == "lower" else a / b


def with_unit(value: Any, unit: str) -> str:
    if value is None or not unit:
        return fmt(value)
    return f"{fmt(value)}{'' if unit == 'x' else ' '}{unit}"


def _ahead(adv: float | None) -> str:
    """``, toolwire 4.3x ahead`` (or ``1.25x behind``), whichever way is better."""
    if adv is None:
        return ""
    if adv >= 1:
        return f", toolwire {fmt(adv)}x ahead"
    return f", toolwire {fmt(1 / adv)}x behind"


def _met(value: Any) -> str:
    if value is True:
        return "met"
    if value is False:
        return "**not met**"
    return "—"


# ----------------------------------------------------------------------------- tables


def table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_results(results: list[dict[str, Any]]) -> str:
    """The schema's ``results``: one row per measure, peers side by side with the ratio."""
    rows = []
    for r in results:
        better = "higher" if r.get("better") == "higher" else "lower"
        unit = str(r.get("unit", ""))
        peers = r.get("peers") or {}
        notes = r.get("peer_notes") or {}
        cells = []
        for name in sorted(set(peers) | set(notes)):
            value = peers.get(name)
            adv = advantage(r.get("ours"), value, better)
            note = f" ({notes[name]})" if notes.get(name) else ""
            if value is None:
                cells.append(f"{name}: not measured{note}")
            else:
                cells.append(f"{name}: {with_unit(value, unit)}{_ahead(adv)}{note}")
        floor = r.get("floor")
        ratio = r.get("ratio")
        if ratio is None and floor is not None:
            vs_floor = advantage(floor, r.get("ours"), better)
            ratio = vs_floor
        rows.append(
            [
                fmt(r.get("name")) + (f" <br>_{fmt(r['note'])}_" if r.get("note") else ""),
                with_unit(r.get("ours"), unit),
                with_unit(floor, unit),
                f"{ratio:.2f}x" if _num(ratio) is not None else "—",
                "<br>".join(cells) or "—",
                fmt(r.get("target")),
                _met(r.get("met")),
            ]
        )
    header = ["measure", "toolwire", "floor", "ratio", "peers", "target", "met?"]
    return table(header, rows, ["---", "---:", "---:", "---:", "---", "---", "---"])


def _is_rows(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) for v in value)
        and all("name" in v for v in value)
    )


def render_harness_rows(rows: list[dict[str, Any]]) -> str:
    """``_harness.Row`` lists (name, median_us, ours, note): a side-by-side table."""
    base = next((_num(r.get("median_us")) for r in rows if r.get("ours")), None)
    if base is None:
        base = next((_num(r.get("median_us")) for r in rows), None)
    out = []
    for r in rows:
        value = _num(r.get("median_us"))
        ratio = f"{value / base:.1f}x" if value is not None and base else ""
        name = fmt(r.get("name")) + (" (toolwire)" if r.get("ours") else "")
        out.append(
            [name, fmt(value) if value is not None else "skipped", ratio, fmt(r.get("note"))]
        )
    return table(["", "µs (median)", "vs toolwire", "note"], out, ["---", "---:", "---:", "---"])


def render_generic(data: dict[str, Any]) -> str:
    """Best effort for benchmarks that don't follow the schema (yet)."""
    parts: list[str] = []
    scalars: list[list[str]] = []
    for key, value in data.items():
        if key in ("benchmark", "bench", "title", "schema"):
            continue
        if _is_rows(value) and any("median_us" in v for v in value):
            parts.append(f"`{key}`:\n\n" + render_harness_rows(value))
        elif _is_rows(value):
            cols = list(dict.fromkeys(k for v in value for k in v))
            parts.append(
                f"`{key}`:\n\n" + table(cols, [[fmt(v.get(c)) for c in cols] for v in value])
            )
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            cols = list(dict.fromkeys(k for v in value.values() for k in v))
            body = [[fmt(k)] + [fmt(v.get(c)) for c in cols] for k, v in value.items()]
            parts.append(f"`{key}`:\n\n" + table(["", *cols], body))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict) and v and all(not isinstance(x, dict) for x in v.values()):
                    inner = ", ".join(f"{ik}={fmt(iv)}" for ik, iv in v.items())
                    scalars.append([f"{key}.{k}", inner])
                elif not isinstance(v, (dict, list)):
                    scalars.append([f"{key}.{k}", fmt(v)])
        elif not isinstance(value, list):
            scalars.append([key, fmt(value)])
    if scalars:
        parts.insert(0, table(["figure", "value"], scalars, ["---", "---:"]))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- charts


def _cell_value(cell: Any) -> tuple[float | None, str]:
    if isinstance(cell, dict):
        nums = [(k, _num(v)) for k, v in cell.items() if _num(v) is not None]
        return (nums[0][1], nums[0][0]) if len(nums) == 1 else (None, "")
    return _num(cell), ""


def auto_curves(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Curves guessed from a table keyed by sizes/counts (``{"8KB": {series: value}}``)."""
    out: dict[str, dict[str, Any]] = {}
    for key, table_ in data.items():
        if not (isinstance(table_, dict) and len(table_) >= 3):
            continue
        if not all(isinstance(v, dict) for v in table_.values()):
            continue
        xs = [re.fullmatch(r"\D*(\d+(?:\.\d+)?)\s*([A-Za-z]*)", str(k)) for k in table_]
        values = [float(m.group(1)) for m in xs if m]
        if len(values) != len(table_) or values != sorted(set(values)):
            continue
        series: dict[str, list[float | None]] = {}
        unit = ""
        for i, row in enumerate(table_.values()):
            for name, cell in row.items():
                value, unit_ = _cell_value(cell)
                unit = unit or unit_
                series.setdefault(name, [None] * len(table_))[i] = value
        if not any(v is not None for ys in series.values() for v in ys):
            continue
        out[f"auto_{key}"] = {
            "title": f"{key} by size",
            "x": values,
            "x_label": xs[0].group(2) if xs[0] else "",
            "y_label": unit,
            "series": series,
            "log_x": True,
            "log_y": True,
        }
    return out


def curves_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = data.get("curves")
    if raw is None:
        return auto_curves(data)
    if isinstance(raw, list):
        raw = {str(c.get("name", i)): c for i, c in enumerate(raw) if isinstance(c, dict)}
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): v
        for k, v in raw.items()
        if isinstance(v, dict)
        and isinstance(v.get("x"), list)
        and isinstance(v.get("series"), dict)
    }


# One colour per series label for the whole run, so a series looks the same in every chart.
_COLOURS: dict[str, str] = {}
_PALETTE = [f"C{i}" for i in range(10)]


def _colour(label: str) -> str:
    if label not in _COLOURS:
        _COLOURS[label] = _PALETTE[len(_COLOURS) % len(_PALETTE)]
    return _COLOURS[label]


def _tick(value: float, _pos: Any = None) -> str:
    return fmt(int(value)) if float(value).is_integer() else fmt(float(value))


def draw_chart(curve: dict[str, Any], path: Path) -> str | None:
    """Write a PNG for one curve; returns why not when it can't.

    toolwire's series are solid with circles, peers dashed with squares, ``reference``
    series (a floor such as a bare ``asyncio.gather``) black and dotted; an optional
    ``target`` (``{"y": 1.15, "label": "target"}``) is a red horizontal line. The x ticks
    are the measured x values; the legend sits outside the plot so it hides no line.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib)"
    fig, ax = plt.subplots(figsize=(9.6, 4.2), dpi=100)
    try:
        xs = curve["x"]
        reference = set(curve.get("reference") or [])
        ys_all: list[float] = []
        for label, ys in curve["series"].items():
            if not isinstance(ys, list):
                continue
            pts = [(x, float(y)) for x, y in zip(xs, ys, strict=False) if _num(y) is not None]
            if not pts:
                continue
            ys_all += [p[1] for p in pts]
            if label in reference:
                style: dict[str, Any] = {"color": "black", "linestyle": ":", "marker": "x"}
            elif "toolwire" in label.lower():
                style = {"color": _colour(label), "linestyle": "-", "marker": "o"}
            else:
                style = {"color": _colour(label), "linestyle": "--", "marker": "s"}
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label, **style)
        target = curve.get("target")
        if isinstance(target, dict) and _num(target.get("y")) is not None:
            ax.axhline(
                float(target["y"]),
                color="red",
                linewidth=1,
                linestyle="-.",
                label=str(target.get("label", "target")),
            )
        if curve.get("log_x"):
            ax.set_xscale("log")
        nums = [float(x) for x in xs if _num(x) is not None]
        if nums:  # the measured sizes as ticks, in plain numbers (8, 16, 32, 64 KB)
            ax.xaxis.set_major_locator(FixedLocator(nums))
            ax.xaxis.set_major_formatter(FuncFormatter(_tick))
            ax.xaxis.set_minor_locator(NullLocator())
        if curve.get("log_y"):
            ax.set_yscale("log")
            positive = [y for y in ys_all if y > 0]
            decades = math.log10(max(positive) / min(positive)) if positive else 0.0
            subs = (1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
            ax.yaxis.set_major_formatter(FuncFormatter(_tick))
            ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(str(curve.get("x_label", "")))
        ax.set_ylabel(str(curve.get("y_label", "")))
        ax.set_title(str(curve.get("title", "")), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return None


def render_curve_table(curve: dict[str, Any]) -> str:
    xs = curve["x"]
    series = {k: v for k, v in curve["series"].items() if isinstance(v, list)}
    header = [str(curve.get("x_label", "x")), *series]
    rows = [
        [_tick(x) if _num(x) is not None else fmt(x)]
        + [fmt(v[i] if i < len(v) else None) for v in series.values()]
        for i, x in enumerate(xs)
    ]
    unit = f" ({curve['y_label']})" if curve.get("y_label") else ""
    return f"Values{unit}:\n\n" + table(header, rows, ["---:"] * len(header))


# ----------------------------------------------------------------------------- blocks


def bench_block(run: dict[str, Any], img_dir: Path, page: Path) -> str:
    """The generated block of one benchmark run (``run`` as produced by the runner)."""
    name = run["name"]
    lines = [f"<!-- bench:{name}:begin -->", f"### {name}", ""]
    data = run.get("data")
    mode = "quick" if run.get("quick") else "full"
    lines.append(
        f"_Measured {run['date']} ({mode} run, {run['seconds']:.0f} s, "
        f"interpreter: {run['interpreter']})._ Reproduce: `{run['command']}`"
    )
    lines.append("")
    if run["status"] != "ok" or not isinstance(data, dict):
        lines.append(f"**This benchmark did not run to the end: {run['status']}.**")
        if run.get("stderr_tail"):
            lines += ["", "```", run["stderr_tail"].rstrip(), "```"]
        lines.append("")
        return "\n".join(lines) + f"<!-- bench:{name}:end -->\n"
    if data.get("title"):
        lines += [str(data["title"]), ""]
    results = data.get("results")
    if isinstance(results, list) and results and all(isinstance(r, dict) for r in results):
        met = [r.get("met") for r in results if r.get("met") is not None]
        if met:
            lines += [f"Targets met: **{sum(bool(m) for m in met)} of {len(met)}**.", ""]
        lines.append(render_results(results))
        rest = {k: v for k, v in data.items() if k not in _META_KEYS}
        extra = rest.pop("extra", None)
        if isinstance(extra, dict):  # the schema's "extra": its figures, one level up
            rest = {**extra, **rest}
        elif extra is not None:
            rest["extra"] = extra
        if rest:
            lines += ["Other figures:", "", render_generic(rest)]
    else:
        lines.append(render_generic({k: v for k, v in data.items() if k != "curves"}))
    for key, curve in curves_of(data).items():
        png = img_dir / f"{name}_{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.png"
        why = draw_chart(curve, png)
        title = curve.get("title", key)
        if why is None:
            rel = png.relative_to(page.parent) if png.is_relative_to(page.parent) else png
            lines += [f"![{title}]({rel.as_posix()})", ""]
        else:
            lines += [f"_Chart {title!r} not drawn: {why}._", ""]
        lines += [render_curve_table(curve)]
    raw = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    lines += ["<details><summary>raw JSON</summary>", "", "```json", raw, "```", "</details>", ""]
    return "\n".join(lines) + f"<!-- bench:{name}:end -->\n"


def machine_block(machine: dict[str, Any]) -> str:
    rows = [[fmt(k), fmt(v)] for k, v in machine.items() if not isinstance(v, dict)]
    out = [f"<!-- bench:{_MACHINE}:begin -->", "## Latest generated figures", ""]
    out += ["Machine and versions of the last run:", "", table(["", ""], rows)]
    for key, versions in machine.items():
        if isinstance(versions, dict) and versions:
            cells = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
            out.append(f"- {key}: {cells}")
    out.append("")
    return "\n".join(out) + f"<!-- bench:{_MACHINE}:end -->\n"


# ----------------------------------------------------------------------------- the page

_NEW_PAGE = """# Benchmarks

Produced by `python -m benchmarks` (or `toolwire bench`); see `benchmarks/README.md`.
"""


def merge(existing: str | None, machine: str, blocks: dict[str, str]) -> str:
    """The page with the generated region updated; everything outside it is kept as is."""
    text = existing if existing is not None else _NEW_PAGE
    found = _BEGIN_RE.search(text)
    end = text.find(END, found.end()) if found else -1
    old: dict[str, str] = {}
    if found and end >= 0:
        inner = text[found.end() : end]
        old = {m.group(1): m.group(0) for m in _BLOCK_RE.finditer(inner)}
        before, after = text[: found.start()], text[end + len(END) :]
    else:
        at = re.search(r"^## ", text, re.M)
        cut = at.start() if at else len(text)
        before, after = text[:cut], text[cut:]
        if before and not before.endswith("\n\n"):
            before = before.rstrip("\n") + "\n\n"
        after = "\n\n" + after if after else after  # a blank line before the next heading
    old.pop(_MACHINE, None)
    merged = {**old, **blocks}
    body = [BEGIN, "", machine]
    for key in sorted(merged):
        body += [merged[key].rstrip("\n") + "\n"]
    body.append(END)
    return before + "\n".join(body) + ("\n" if not after.startswith("\n") else "") + after
