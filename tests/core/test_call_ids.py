"""Default call ids: distinct across blocks and across threads taking them at once."""

from __future__ import annotations

import itertools
import re
import threading

import pytest

from toolwire import Toolbox, tool
from toolwire._toolbox import new_call_id


def test_ids_run_on_across_blocks() -> None:
    ids = [new_call_id() for _ in range(2_500)]  # at least two blocks of a thousand
    assert len(set(ids)) == len(ids)
    numbers = [int(re.fullmatch(r"tw_[0-9a-f]{8}_(\d+)", i).group(1)) for i in ids]  # type: ignore[union-attr]
    # within a block the numbers count up by one; a new block starts a thousand further on
    assert all(b - a == 1 or (b % 1000 == 0 and b > a) for a, b in itertools.pairwise(numbers))


def test_threads_taking_ids_at_once_never_share_one() -> None:
    taken: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def take(out: list[str]) -> None:
        start.wait(timeout=10)
        out.extend(new_call_id() for _ in range(5_000))

    threads = [threading.Thread(target=take, args=(out,)) for out in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    every = [i for out in taken for i in out]
    assert len(every) == 40_000 and len(set(every)) == 40_000


@pytest.mark.anyio
async def test_each_call_gets_its_own_id() -> None:
    @tool
    def echo(x: int) -> int:
        return x

    box = Toolbox([echo])
    results = [await box.call("echo", {"x": i}) for i in range(1_100)]
    assert len({r.call_id for r in results}) == 1_100
    assert (await box.call("echo", {"x": 1}, call_id="mine")).call_id == "mine"
