"""Resolve tool sources (``--tools`` arguments and ``[[sources]]`` tables) into tools.

Every form (``module:attr``, ``path.py``, ``openapi:``, ``grpc:``, ``mcp:``, ``sql:``,
``weather``) is read by one loader, :func:`toolwire._sources.load_sources`; this module adds
what the configuration file brings: paths relative to it, secrets from the environment, and
the policies of ``[policies."glob"]``.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire._sources import load_sources
from toolwire._tools import Tool
from toolwire.config._loader import Config, ConfigError
from toolwire.config._tasks import apply_task_support


async def load_tools(config: Config, specs: Sequence[str] = ()) -> list[Tool]:
    """Every tool named by ``specs`` (CLI) and the config's ``[[sources]]``, in that order.

    Policies from ``[policies."glob"]`` apply to tools that set none of their own;
    ``[tasks.support]`` sets ``task_support`` by glob (over the tool's own). A source
    that cannot be loaded raises :class:`ConfigError` saying which and why.
    """
    try:
        tools = await load_sources([*specs, *config.sources], config=config)
    except ValueError as exc:
        raise ConfigError(f"{config.path or 'tool sources'}: {exc}") from None
    tools = [_with_policy(t, config) for t in tools]
    apply_task_support(tools, config.tasks)
    return tools


def _with_policy(tool: Tool, config: Config) -> Tool:
    policy = config.policy_for(tool.name)
    if policy is not None and tool.policy is None:
        tool.policy = policy
    return tool
