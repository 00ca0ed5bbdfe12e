"""The call metrics keep a bounded label set: a name that is no tool counts under one label.

``toolwire_tool_calls{tool=...}`` took its label from the name a caller sent, so arbitrary
unknown names (a model inventing tools, a caller probing) each made a new series until the
process ran out of memory. Every entry point of the runtime is tried here.
"""

from __future__ import annotations

import re
import uuid

import pytest

import toolwire as tw
from toolwire._calls import ToolCall
from toolwire.observe import UNKNOWN_TOOL
from toolwire.observe._metrics import metrics_text

pytest.importorskip("prometheus_client")
pytestmark = pytest.mark.anyio

SERIES = re.compile(r"^toolwire_tool_calls_total\{([^}]*)\}", re.M)


def tool_labels() -> set[str]:
    text = metrics_text()[0].decode()
    labels = set()
    for inner in SERIES.findall(text):
        match = re.search(r'tool="([^"]*)"', inner)
        assert match is not None, inner
        labels.add(match.group(1))
    return labels


@tw.tool
def echo_labels(text: str) -> str:
    """Echo."""
    return text


async def test_unknown_tool_names_collapse_into_one_label() -> None:
    box = tw.Toolbox([echo_labels])
    before = tool_labels()
    tag = uuid.uuid4().hex[:8]
    names = [f"made_up_{tag}_{i}" for i in range(60)]
    for name in names[:20]:
        assert (await box.call(name, {})).error.kind == "unknown_tool"  # type: ignore[union-attr]
    for name in names[20:30]:
        result = await box.runtime.call(box, ToolCall(id=name, name=name, arguments="{}"))
        assert result.error is not None and result.error.kind == "unknown_tool"
    results = await box.run([ToolCall(id=n, name=n, arguments="{}") for n in names[30:45]])
    assert [r.error.kind for r in results if r.error] == ["unknown_tool"] * 15
    async for r in box.run_iter([ToolCall(id=n, name=n, arguments="{}") for n in names[45:]]):
        assert r.error is not None and r.error.kind == "unknown_tool"
    # a subset's tools outside it are unknown there too
    sub = box.subset(tags=["no_such_tag"])
    assert (await sub.call("echo_labels", {"text": "x"})).error is not None
    assert (await box.call("echo_labels", {"text": "x"})).ok

    new = tool_labels() - before
    assert new <= {UNKNOWN_TOOL, "echo_labels"}, sorted(new)[:5]
    assert not any(tag in label for label in tool_labels())
    assert UNKNOWN_TOOL in tool_labels()
