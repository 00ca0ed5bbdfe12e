"""Which policy applies to a tool, and checks that a policy fits the tool it is attached to."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from toolwire._errors import ToolDefinitionError
from toolwire.runtime._policy import Policy

_EMPTY = Policy()


def _specificity(pattern: str) -> tuple[int, int]:
    literal = sum(ch not in "*?[]" for ch in pattern)
    return (0 if any(ch in "*?[" for ch in pattern) else 1, literal)


def effective_policy(
    tool: Any,
    policies: Mapping[str, Policy] | None = None,
    default: Policy | None = None,
) -> Policy:
    """The policy a tool runs under.

    Precedence, lowest first: ``default`` (the executor's default policy), the tool's own
    policy from code, then every config entry whose glob matches the tool's name, less
    specific patterns first (``*`` < ``weather.*`` < ``weather.get``). Each layer overrides
    the parts it sets and keeps the rest.
    """
    policy = default or _EMPTY
    if tool.policy is not None:
        policy = policy.merged(tool.policy)
    if policies:
        name = tool.name
        matching = [p for p in policies if fnmatch.fnmatchcase(name, p)]
        for pattern in sorted(matching, key=_specificity):
            policy = policy.merged(policies[pattern])
    return policy


def check_policy(tool: Any, policy: Policy | None = None) -> None:
    """Raise :class:`~toolwire.ToolDefinitionError` when a policy cannot apply to ``tool``.

    Caching a tool that is neither read-only nor idempotent would replay side effects' results
    for new calls, so it is refused. ``Toolbox.add`` calls this with the tool's own policy.
    """
    policy = policy if policy is not None else tool.policy
    if policy is None:
        return
    if policy.cache is not None and not tool.spec.annotations.safe_to_repeat:
        raise ToolDefinitionError(
            f"tool {tool.name!r} has a cache policy but is neither read_only nor idempotent; "
            "mark it read_only=True or idempotent=True, or drop the cache"
        )
    if policy.concurrency is not None and policy.concurrency < 1:
        raise ToolDefinitionError(f"tool {tool.name!r}: Policy.concurrency must be >= 1")
    if policy.timeout is not None and policy.timeout <= 0:
        raise ToolDefinitionError(f"tool {tool.name!r}: Policy.timeout must be > 0")
