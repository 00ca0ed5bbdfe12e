"""The per-tool metric handle counts exactly: outcomes, and each latency in its ``le`` bucket.

Latencies are kept in lists and binned in sorted batches (``ToolMetrics.bin``); whatever the
batch boundaries, the histogram must be the one binning each call as it ended would give.
"""

from __future__ import annotations

import itertools
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire.observe._metrics import BIN_EVERY, BUCKETS, ToolMetrics

calls = st.lists(
    st.tuples(
        st.sampled_from([None, None, "timeout", "execution_error"]),
        st.sampled_from(BUCKETS) | st.floats(min_value=0, max_value=60, allow_nan=False),
    ),
    max_size=3 * BIN_EVERY,
)


def _expected(latencies: list[float]) -> list[float]:
    counts = [0.0] * (len(BUCKETS) + 1)
    for latency in latencies:
        counts[next((i for i, b in enumerate(BUCKETS) if latency <= b), len(BUCKETS))] += 1
    return counts


@settings(max_examples=60, deadline=None)
@given(calls=calls)
def test_the_histogram_and_the_outcomes_match_binning_each_call(
    calls: list[tuple[str | None, float]],
) -> None:
    m = ToolMetrics()
    for kind, latency in calls:
        m.record(kind, latency, 1, False)
    assert m.ok == sum(1 for kind, _ in calls if kind is None)
    m.bin()
    assert m.hist[:-1] == _expected([latency for _, latency in calls])
    assert abs(m.hist[-1] - sum(latency for _, latency in calls)) < 1e-6 * (1 + len(calls))
    expected_errors: dict[str, int] = {}
    for kind, _ in calls:
        if kind is not None:
            expected_errors[kind] = expected_errors.get(kind, 0) + 1
    assert m.outcomes() == ({"ok": m.ok} if m.ok else {}) | expected_errors
    assert m.ok == sum(1 for kind, _ in calls if kind is None)  # binning changes no count


def test_the_ok_count_only_grows_while_another_thread_scrapes() -> None:
    m = ToolMetrics()
    seen: list[int] = []
    done = threading.Event()

    def scrape() -> None:
        while not done.is_set():
            seen.append(m.ok)
            m.bin()

    reader = threading.Thread(target=scrape)
    reader.start()
    try:
        for i in range(20 * BIN_EVERY):
            m.record(None if i % 7 else "timeout", 0.001, 1, False)
    finally:
        done.set()
        reader.join(10)
    assert not reader.is_alive()
    assert all(a <= b for a, b in itertools.pairwise(seen)), "ok went down"
    m.bin()
    assert m.ok == 20 * BIN_EVERY - len(range(0, 20 * BIN_EVERY, 7))
    assert sum(m.hist[:-1]) == 20 * BIN_EVERY
