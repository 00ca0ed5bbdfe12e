"""Resolve tool sources (``--tools`` arguments and ``[[sources]]`` tables) into tools.

Local sources are handled here: ``package.module:attr``, ``package.module`` (every tool it
defines), ``path/to/file.py`` and ``path/to/file.py:attr``. Remote ones (``openapi``, ``grpc``,
``mcp``) go to ``toolwire._sources.load_sources``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from toolwire._toolbox import Toolbox
from toolwire._tools import Tool, tool
from toolwire.config._loader import Config, ConfigError

_LOCAL_KEYS = ("module", "path")
_REMOTE_KEYS = ("openapi", "grpc", "mcp")


async def load_tools(config: Config, specs: Sequence[str] = ()) -> list[Tool]:
    """Every tool named by ``specs`` (CLI) and the config's ``[[sources]]``, in that order.

    Policies from ``[policies."glob"]`` apply to tools that set none of their own.
    """
    tools: list[Any] = []
    for spec in specs:
        tools.extend(load_local(spec))
    remote: list[Mapping[str, Any]] = []
    for source in config.sources:
        if "module" in source:
            tools.extend(load_local(str(source["module"])))
        elif "path" in source:
            tools.extend(load_local(str(config.resolve(str(source["path"])))))
        elif any(k in source for k in _REMOTE_KEYS):
            remote.append(source)
        else:
            raise ConfigError(
                f"{config.path or 'configuration'} [[sources]]: each source needs one of "
                f"{', '.join(_LOCAL_KEYS + _REMOTE_KEYS)}; got {sorted(source)}"
            )
    if remote:
        tools.extend(await _load_remote(remote, config))
    return [_with_policy(t, config) for t in tools]


async def _load_remote(sources: list[Mapping[str, Any]], config: Config) -> list[Any]:
    try:
        from toolwire._sources import load_sources  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ConfigError(
            "remote tool sources (openapi/grpc/mcp) need toolwire._sources, not available"
        ) from None
    loaded = await load_sources(sources, config=config)
    return list(loaded)


def _with_policy(tool: Tool, config: Config) -> Tool:
    policy = config.policy_for(tool.name)
    if policy is not None and tool.policy is None:
        tool.policy = policy
    return tool


def load_local(spec: str) -> list[Any]:
    """Tools from ``module:attr``, ``module``, ``file.py`` or ``file.py:attr``."""
    target, _, attr = spec.partition(":")
    if target.endswith(".py") or "/" in target:
        module = _import_path(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"cannot import tool source {spec!r}: {exc}") from None
    if attr:
        try:
            value = getattr(module, attr)
        except AttributeError:
            raise ConfigError(f"tool source {spec!r}: {target} has no attribute {attr!r}") from None
        found = _tools_in(value)
        if not found:
            raise ConfigError(f"tool source {spec!r}: {attr!r} holds no tools")
        return found
    found = []
    for name, value in vars(module).items():
        if not name.startswith("_"):
            found.extend(_tools_in(value, shallow=True))
    if not found:
        raise ConfigError(f"tool source {spec!r} defines no tools")
    return found


def _import_path(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"tool source {str(path)!r}: no such file")
    name = f"_toolwire_source_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"tool source {str(path)!r}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ConfigError(f"tool source {str(path)!r} failed to import: {exc!r}") from exc
    return module


def _tools_in(value: Any, *, shallow: bool = False) -> list[Any]:
    if isinstance(value, Tool):
        return [value]
    if isinstance(value, Toolbox):
        return list(value)
    if shallow:
        return []
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        items = list(value)
        if all(isinstance(v, Tool) for v in items):
            return items
        return []
    if inspect.isfunction(value):
        return [tool(value)]
    return []
