"""The chain is folded once per tool from the layers its policy uses (HOUSE.md example 1).

A skipped policy is not in the chain at all; a shared store puts its one admission layer in
the place of the four that keep state there; a call with an idempotency key takes a chain
with the idempotency layer; a new policy is one ``Layer`` subclass and one registry entry;
and nothing in the runtime or the state packages imports in a circle, type-only imports
included.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from runtime_fixtures import ComposedMemory

import toolwire as tw
from toolwire._calls import ToolResult
from toolwire.runtime import Executor, _layers
from toolwire.runtime._layers import Layer
from toolwire.runtime._plan import PreparedCall, ToolPlan

pytestmark = pytest.mark.anyio

SRC = Path(tw.__file__).resolve().parent


def _names(layer: Any) -> list[str]:
    out = []
    while layer is not None:
        out.append(type(layer).__name__)
        layer = layer.next
    return out


def _plan(policy: tw.Policy | None, backend: Any = None, **options: Any) -> ToolPlan:
    @tw.tool(read_only=True, policy=policy, **options)
    async def lookup(q: str) -> str:
        return q

    ex = Executor(backend=backend)
    return ex._plan_for("lookup", lookup)


FULL = tw.Policy(
    timeout=1.0,
    retry=tw.Retry(retry_on=(ConnectionError,)),
    breaker=tw.Breaker(),
    cache=tw.Cache(),
    rate_limit=tw.RateLimit(rate=10),
    concurrency=4,
)


@pytest.mark.parametrize(
    ("policy", "chain"),
    [
        (None, ["Concurrency", "Attempt"]),
        (tw.Policy(timeout=1.0), ["Concurrency", "Attempt"]),
        (
            tw.Policy(retry=tw.Retry(retry_on=("timeout",))),
            ["Concurrency", "RetryLayer", "Attempt"],
        ),
        (tw.Policy(breaker=tw.Breaker()), ["CircuitBreaker", "Concurrency", "Attempt"]),
        (tw.Policy(cache=tw.Cache()), ["Caching", "Concurrency", "Attempt"]),
        (
            FULL,
            ["Caching", "RateLimiting", "CircuitBreaker", "Concurrency", "RetryLayer", "Attempt"],
        ),
    ],
)
def test_only_the_layers_a_policy_uses_are_folded(policy: Any, chain: list[str]) -> None:
    plan = _plan(policy)
    assert _names(plan.chain) == chain
    # a call with an idempotency key takes the same chain with the idempotency layer
    keyed = _names(plan.keyed_chain)
    assert keyed[: keyed.index("Idempotency")] == [n for n in chain if n == "Caching"]
    assert [n for n in keyed if n != "Idempotency"] == chain


def test_a_plan_with_no_layer_and_no_timer_runs_bare() -> None:
    assert _plan(None).bare
    assert not _plan(tw.Policy(timeout=1.0)).bare  # needs the attempt's timer
    assert not _plan(tw.Policy(breaker=tw.Breaker())).bare
    assert not _plan(None, sequential=True).bare  # a concurrency limit of one


def test_a_shared_store_has_one_admission_layer_in_place_of_four() -> None:
    plan = _plan(FULL, ComposedMemory())
    assert _names(plan.chain) == ["SharedStore", "Concurrency", "RetryLayer", "Attempt"]
    assert _names(plan.keyed_chain) == _names(plan.chain)
    # no shared policy: no admission, except for a call with an idempotency key
    plain = _plan(tw.Policy(timeout=1.0), ComposedMemory())
    assert _names(plain.chain) == ["Concurrency", "Attempt"]
    assert _names(plain.keyed_chain) == ["SharedStore", "Concurrency", "Attempt"]


class Audit(Layer):
    """A new policy written against the Layer contract alone: it sees every call."""

    seen: list[str] = []

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return "audited" in plan.tool.tags

    async def __call__(self, call: PreparedCall) -> ToolResult:
        Audit.seen.append(f"{call.plan.name}:{call.kwargs['q']}")
        return await self.next(call)


async def test_a_new_policy_is_one_layer_and_one_registry_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_layers, "CHAIN", (Audit, *_layers.CHAIN))

    @tw.tool(read_only=True, tags={"audited"}, policy=tw.Policy(cache=tw.Cache()))
    async def lookup(q: str) -> str:
        return q.upper()

    @tw.tool(read_only=True)
    async def quiet(q: str) -> str:
        return q

    box = tw.Toolbox([lookup, quiet])
    assert (await box.call("lookup", {"q": "a"})).value == "A"
    assert (await box.call("quiet", {"q": "b"})).value == "b"
    assert (await box.call("lookup", {"q": "a"})).cached  # (outermost: it sees hits too)
    assert Audit.seen == ["lookup:a", "lookup:a"]


def _imports(path: Path, package: str) -> set[str]:
    """Every toolwire module ``path`` imports, at any depth (TYPE_CHECKING blocks too)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("toolwire"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("toolwire"))
    return out


def test_no_import_circle_in_the_runtime_and_state_type_only_ones_included() -> None:
    modules: dict[str, Path] = {}
    for folder in ("runtime", "state", "observe"):
        for path in (SRC / folder).rglob("*.py"):
            rel = path.relative_to(SRC.parent).with_suffix("")
            name = ".".join(rel.parts)
            modules[name.removesuffix(".__init__")] = path
    graph = {
        name: {m for m in _imports(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }
    # a package's __init__ re-exporting its own modules is not a circle of the code
    for name in list(graph):
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in graph[node]:
            if seen.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError(f"import circle: {' -> '.join(cycle)}")
            if nxt not in seen:
                visit(nxt, [*stack, nxt])
        seen[node] = 2

    for name in graph:
        if name not in seen:
            visit(name, [name])
