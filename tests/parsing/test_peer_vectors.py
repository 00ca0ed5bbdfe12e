"""The peers' own test vectors (vLLM ``tests/tool_parsers``, SGLang's detectors), by peer name.

``tests/data/formats/peers/<name>.json`` holds the input texts and expected calls of the peers'
tests, written as our own cases (each names its source). ``calls`` is what toolwire reads;
where toolwire deliberately differs (it repairs where a peer drops, keeps as an error what a
peer shows as text), ``differs`` says why and ``peer_calls`` keeps the peer's expectation.
Every vector also runs char by char and must give the same result.

``python tests/parsing/test_peer_vectors.py`` prints, per name, how many vectors give the calls
the peer expects — with ``PYTHONPATH`` pointing at an older checkout it scores that one (a name
the older code does not know scores 0).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from toolwire.parsing import StreamParser, parse

PEERS = Path(__file__).resolve().parent.parent / "data" / "formats" / "peers"


def load() -> list[dict[str, Any]]:
    out = []
    for path in sorted(PEERS.glob("*.json")):
        out.extend(json.loads(path.read_text(encoding="utf-8")))
    return out


VECTORS = load()


def _calls(text: str, fmt: str, tools: Any) -> tuple[list[list[Any]], Any]:
    result = parse(text, fmt, tools)
    return [[c.name, json.loads(c.arguments)] for c in result.calls], result


@pytest.mark.parametrize(
    "case", VECTORS, ids=[f"{c['format']}:{c['source'].rsplit('::', 1)[-1]}" for c in VECTORS]
)
def test_peer_vector(case: dict[str, Any]) -> None:
    calls, result = _calls(case["text"], case["format"], case.get("tools"))
    assert calls == case["calls"], case["source"]
    if "content" in case:
        assert result.content.strip() == case["content"].strip()
    assert len(result.errors) == case.get("errors", 0), result.errors
    sp = StreamParser(case["format"], case.get("tools"))
    for ch in case["text"]:
        sp.feed(ch)
    sp.close()
    assert sp.result() == result


def score() -> dict[str, tuple[int, int]]:
    """Per peer name: (vectors giving the peer's calls, vectors)."""
    out: dict[str, tuple[int, int]] = {}
    for case in VECTORS:
        want = case.get("peer_calls", case["calls"]) if case.get("differs") else case["calls"]
        try:
            got, _ = _calls(case["text"], case["format"], case.get("tools"))
        except Exception:  # an unknown name on older code
            got = None
        ok, total = out.get(case["format"], (0, 0))
        out[case["format"]] = (ok + (got == want), total + 1)
    return out


if __name__ == "__main__":
    results = score()
    for name, (ok, total) in sorted(results.items()):
        print(f"{name:<18} {ok:>3}/{total}")
    ok = sum(o for o, _ in results.values())
    total = sum(t for _, t in results.values())
    print(f"{'all':<18} {ok:>3}/{total}")
    sys.exit(0)
