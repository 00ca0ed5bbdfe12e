"""Coverage-guided fuzzing of the incremental JSON scanner (atheris).

    python fuzz/fuzz_jsonscan.py -max_total_time=300 [corpus_dir]

Each input is split into pieces at fuzzer-chosen points and fed to ``JsonScanner``; the
scanner must never raise, must never move backwards, must give the same output whatever the
split, and whatever ``finish()`` calls a whole value must be valid JSON.
"""

from __future__ import annotations

import itertools
import json
import sys

import atheris

with atheris.instrument_imports():
    from toolwire.parsing._jsonscan import JsonScanner


def _scan(pieces: list[str]) -> tuple[bool, bool, bool, str]:
    sc = JsonScanner([])
    for piece in pieces:
        i = sc.feed(piece)
        if not 0 <= i <= len(piece):
            raise AssertionError(f"feed returned {i} for a piece of {len(piece)}")
    whole = sc.finish()
    return whole, sc.failed, sc.repaired, "".join(sc.sink)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts = sorted(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 8), 0, 4096))
    text = fdp.ConsumeUnicodeNoSurrogates(4096)
    bounds = [0, *(c for c in cuts if c < len(text)), len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    one = _scan([text])
    split = _scan(pieces)
    if one != split:
        raise AssertionError(f"split changed the result: {one!r} != {split!r}")
    whole, _failed, _repaired, out = one
    if whole and out:
        try:
            json.loads(out)
        except RecursionError:
            pass
        except ValueError as exc:
            if "integer string conversion" not in str(exc):  # stdlib digit cap, not ours
                msg = f"finish() produced invalid JSON {out!r} from {text!r}"
                raise AssertionError(msg) from exc


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
