"""The clients' one boundary: the retry policy's waits, ``Retry-After``, the status table and
the SSE data reader (properties, with Hypothesis)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._errors import MissingExtra
from toolwire.models import Anthropic, Gemini, ModelError, OpenAIResponses
from toolwire.models._client import sse_data
from toolwire.models._transport import (
    Failure,
    RetryPolicy,
    retry_after,
    send,
    status_failure,
    translate,
    transport_failure,
)


def test_the_wait_is_at_least_retry_after_and_at_most_max_backoff() -> None:
    policy = RetryPolicy(retries=3, backoff=0.5, max_backoff=10.0)
    for attempt in range(6):
        assert 0.0 <= policy.delay(attempt, None) <= min(10.0, 0.5 * 2**attempt)
        assert policy.delay(attempt, 2.0) >= 2.0
        assert policy.delay(attempt, 99.0) == 10.0  # a hint is capped, never waited in full


def test_retry_after_reads_milliseconds_seconds_and_http_dates() -> None:
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"Retry-After": "3"}) == 3.0
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    hinted = retry_after({"retry-after": later})
    assert hinted is not None and 50 < hinted <= 61
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


@pytest.mark.parametrize(
    ("status", "kind", "retry"),
    [
        (400, "remote_error", False),
        (401, "unauthorized", False),
        (403, "forbidden", False),
        (404, "remote_error", False),
        (408, "timeout", True),
        (409, "remote_error", False),
        (413, "too_large", False),
        (429, "rate_limited", True),
        (500, "remote_error", True),
        (501, "remote_error", False),
        (503, "remote_error", True),
        (529, "rate_limited", True),
    ],
)
def test_the_status_table(status: int, kind: str, retry: bool) -> None:
    failure = status_failure(status, {"retry-after": "2"})
    assert (failure.kind, failure.retry, failure.retry_after) == (kind, retry, 2.0)


def test_a_table_is_read_in_order_and_foreign_errors_are_not_ours() -> None:
    table = ((TimeoutError, transport_failure("timeout")), (OSError, transport_failure()))
    assert translate(table, TimeoutError()) == Failure(kind="timeout", retry=True)
    assert translate(table, ConnectionResetError()) == Failure(kind="remote_error", retry=True)
    assert translate(table, KeyError("x")) is None


def test_send_retries_what_the_table_allows_then_raises_a_model_error() -> None:
    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionResetError("reset")
        return "ok"

    table = ((OSError, transport_failure()),)
    policy = RetryPolicy(retries=2, backoff=0.0)
    assert asyncio.run(send(flaky, table=table, policy=policy, model="m")) == "ok"
    attempts.clear()
    with pytest.raises(ModelError) as caught:
        asyncio.run(send(flaky, table=table, policy=RetryPolicy(retries=1, backoff=0), model="m"))
    assert caught.value.kind == "remote_error" and caught.value.retryable
    assert len(attempts) == 2

    async def broken() -> str:
        raise KeyError("a bug, not a transport error")

    with pytest.raises(KeyError):
        asyncio.run(send(broken, table=table, policy=policy, model="m"))


# --- the SSE data reader --------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=6), json_values, min_size=1, max_size=4),
    max_size=6,
)


async def _read(lines: list[str]) -> list[dict[str, Any]]:
    async def source() -> AsyncIterator[str]:
        for line in lines:
            yield line

    return [event async for event in sse_data(source())]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    events=events,
    style=st.lists(
        st.sampled_from(["plain", "named", "nospace", "multiline"]), min_size=6, max_size=6
    ),
    trailing=st.booleans(),
)
def test_sse_data_gives_back_every_event_however_it_is_framed(
    events: list[dict[str, Any]], style: list[str], trailing: bool
) -> None:
    lines: list[str] = [": a comment line"]
    for event, how in zip(events, style, strict=False):
        text = json.dumps(event, ensure_ascii=False, indent=1 if how == "multiline" else None)
        if how == "named":
            lines.append("event: message")
        for part in text.split("\n"):
            lines.append(f"data:{part}" if how == "nospace" else f"data: {part}")
        lines.append("")
    if lines[-1] == "" and not trailing:
        lines.pop()  # the last event may end with the stream instead of a blank line
    assert asyncio.run(_read(lines)) == events


def test_sse_data_passes_over_what_is_not_a_json_object() -> None:
    lines = ["data: [DONE]", "", "data: {broken", "", 'data: {"type": "ok"}', ""]
    assert asyncio.run(_read(lines)) == [{"type": "ok"}]


@pytest.mark.parametrize(
    ("module", "make", "extra"),
    [
        ("anthropic", lambda: Anthropic(model="claude-sonnet-4-5", api_key="k"), "anthropic"),
        ("google.genai", lambda: Gemini(model="gemini-2.5-flash", api_key="k"), "gemini"),
        ("openai", lambda: OpenAIResponses(model="gpt-5-mini", api_key="k"), "openai"),
    ],
)
def test_a_missing_sdk_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str, make: Any, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what a missing package looks like
    with pytest.raises(MissingExtra) as caught:
        make()
    assert caught.value.extra == extra
    assert f'pip install "toolwire[{extra}]"' in str(caught.value)


@pytest.mark.parametrize(
    ("variables", "make"),
    [
        (("GEMINI_API_KEY", "GOOGLE_API_KEY"), lambda: Gemini(model="gemini-2.5-flash")),
        (("OPENAI_API_KEY",), lambda: OpenAIResponses(model="gpt-5-mini")),
        (
            ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"),
            lambda: Anthropic(model="claude-sonnet-4-5"),
        ),
    ],
)
def test_a_missing_key_is_one_clear_model_error(
    monkeypatch: pytest.MonkeyPatch, variables: tuple[str, ...], make: Any
) -> None:
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", "/nonexistent")  # no profile on disk either
    with pytest.raises(ModelError) as caught:
        make()
    assert caught.value.kind == "unauthorized"
    assert variables[0] in str(caught.value)
