"""The benchmark page generator keeps every hand-written word and every figure it did not redo."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks._report import END, bench_block, merge  # noqa: E402

HAND = """# Benchmarks

Intro written by hand.

## bench_validate

| path | µs/call |
|---|---:|
| toolwire | 3.16 |

Owner's analysis, keep me.
"""


def _run(name: str, data: object, status: str = "ok") -> dict[str, object]:
    return {
        "name": name,
        "status": status,
        "seconds": 1.0,
        "quick": False,
        "data": data,
        "stderr_tail": "Traceback: boom" if status != "ok" else "",
        "date": "2026-01-01 00:00",
        "interpreter": "python + peers",
        "command": f"python -m benchmarks --only {name}",
    }


def test_hand_written_text_survives_and_blocks_are_replaced(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    schema = {
        "benchmark": "bench_a",
        "results": [
            {
                "name": "latency",
                "unit": "µs",
                "ours": 2.0,
                "floor": 1.0,
                "peers": {"p": 8.0, "q": None},
                "peer_notes": {"q": "not installed"},
                "target": "<= 3 µs",
                "met": True,
            }
        ],
        "curves": {"c": {"x": [1, 2], "series": {"toolwire": [1.0, 2.0], "p": [2.0, None]}}},
    }
    blocks = {
        "bench_a": bench_block(_run("bench_a", schema), tmp_path / "img", page),
        "bench_b": bench_block(
            _run("bench_b", {"bench": "b", "rows": [{"name": "x"}]}), tmp_path, page
        ),
    }
    first = merge(HAND, "MACHINE-1\n", blocks)
    assert first.startswith("# Benchmarks\n\nIntro written by hand.\n")
    assert HAND.split("## bench_validate")[1] in first  # the owner's section, byte for byte
    assert first.index(END) < first.index("## bench_validate")
    assert "p: 8.00 µs, toolwire 4.00x ahead" in first
    assert "q: not measured (not installed)" in first
    assert "| <= 3 µs | met |" in first

    # only bench_b runs again, and fails: its block says so; bench_a's figures stay
    again = {"bench_b": bench_block(_run("bench_b", None, "exited with status 1"), tmp_path, page)}
    second = merge(first, "MACHINE-2\n", again)
    assert "MACHINE-1" not in second and "MACHINE-2" in second
    assert "p: 8.00 µs, toolwire 4.00x ahead" in second
    assert "did not run to the end: exited with status 1" in second
    assert HAND.split("## bench_validate")[1] in second
    assert second.count("<!-- generated:begin") == 1 and second.count(END) == 1
    assert merge(second, "MACHINE-2\n", again) == second  # stable


def test_new_page_is_created() -> None:
    text = merge(None, "M\n", {})
    assert text.startswith("# Benchmarks") and END in text
