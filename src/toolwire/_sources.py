"""Where tools come from: one syntax for ``--tools`` options and ``[[sources]]`` config tables.

Text forms (``toolwire serve --tools ...``, ``toolwire chat --tools ...``):

=================================  ==========================================================
``package.module:attr``            a Tool, a list of Tools, a plain function (made a tool), or
                                   a factory annotated ``-> list[Tool]`` (sync or async)
``package.module``                 every Tool defined at the module's top level
``path/to/tools.py[:attr]``        the same, from a file
``openapi:URL_OR_FILE``            every operation of an OpenAPI document
``grpc:HOST:PORT``                 every unary method the server reflects
``mcp:URL`` / ``mcp:COMMAND ARGS`` every tool of an MCP server (HTTP, or stdio subprocess)
``sql:DATABASE_URL``               the SQL pack (``sql:sample`` = the bundled shop database)
``weather``                        the weather pack (Open-Meteo)
=================================  ==========================================================

Table form (``toolwire.toml``), the options of each loader as keys::

    [[sources]]
    type = "openapi"            # openapi | grpc | mcp | python | sql | weather
    spec = "https://api.example.com/openapi.json"
    allow_hosts = ["api.internal"]
    auth = { type = "bearer", token = "..." }
    include = ["get*"]

    [[sources]]
    type = "mcp"
    command = "python -m my_server"   # or url = "http://127.0.0.1:8000/mcp"

    [[sources]]
    grpc = "127.0.0.1:50051"           # shorthand: the kind's key holds its main value
    [[sources]]
    openapi = "specs/api.yaml"         # relative to the config file's folder
    auth = { type = "bearer", token_env = "API_TOKEN" }   # secrets from the environment

Example::

    tools = await load_sources(["openapi:http://127.0.0.1:8000/openapi.json",
                                "grpc:127.0.0.1:50051"], allow_hosts=["127.0.0.1"])
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from toolwire._tables import check_keys
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool, tool

_KINDS = ("openapi", "grpc", "mcp", "sql", "python", "weather")
# The forms above in one line, for every ``--tools`` option's help (so --help lists them all).
SOURCE_FORMS = (
    "module:attr, module, path.py[:attr], openapi:URL_OR_FILE, grpc:HOST:PORT, mcp:URL, "
    "mcp:COMMAND, sql:DATABASE_URL or weather"
)


async def load_sources(
    specs: Sequence[str | Mapping[str, Any]],
    *,
    allow_hosts: Sequence[str] = (),
    config: Any = None,
) -> list[Tool]:
    """Load every source, in order.

    ``allow_hosts`` is added to each remote source's own. ``config`` (a
    :class:`toolwire.config.Config`) resolves relative file paths against the config file's
    folder and secrets named ``*_env`` (``auth = {type = "bearer", token_env = "API_TOKEN"}``).
    """
    tools: list[Tool] = []
    for spec in specs:
        tools.extend(await load_source(spec, allow_hosts=allow_hosts, config=config))
    return tools


# a table may name its kind by its main key: {openapi = "URL"}, {grpc = "host:port"}, ...
_MAIN_KEYS = {"openapi": "spec", "grpc": "target", "mcp": "server", "sql": "url"}


async def load_source(
    spec: str | Mapping[str, Any], *, allow_hosts: Sequence[str] = (), config: Any = None
) -> list[Tool]:
    """Load one source (text or table form, see the module docstring)."""
    table = parse_source(spec) if isinstance(spec, str) else _normalize(spec)
    kind = str(table.pop("type", "python"))
    if kind not in _KINDS:
        raise ValueError(f"unknown source type {kind!r}: use one of {', '.join(_KINDS)}")
    if config is not None:
        _apply_config(kind, table, config)
    if kind in ("openapi", "grpc", "mcp", "weather"):
        table["allow_hosts"] = [*table.get("allow_hosts", ()), *allow_hosts]
    loader = _LOADERS[kind]
    return await loader(table)


def _normalize(spec: Mapping[str, Any]) -> dict[str, Any]:
    table = dict(spec)
    if "type" in table:
        return table
    for kind, main in _MAIN_KEYS.items():
        if kind in table:
            table[main] = table.pop(kind)
            table["type"] = kind
            return table
    if "module" in table and ":" in str(table["module"]) and "attr" not in table:
        table["module"], table["attr"] = str(table["module"]).split(":", 1)
    return {"type": "python", **table}


def _apply_config(kind: str, table: dict[str, Any], config: Any) -> None:
    """Relative paths from the config file's folder; ``*_env`` secrets from the environment."""
    resolve = getattr(config, "resolve", None)
    if resolve is not None:
        if kind == "python" and "path" in table:
            table["path"] = str(resolve(str(table["path"])))
        if kind == "openapi" and isinstance(table.get("spec"), str):
            spec = table["spec"]
            if not spec.startswith(("http://", "https://")):
                table["spec"] = str(resolve(spec))
    secret = getattr(config, "secret", None)
    auth = table.get("auth")
    if secret is not None and isinstance(auth, Mapping):
        auth = dict(auth)
        for key in ("token", "value", "password"):
            if f"{key}_env" in auth:
                auth[key] = secret(auth, key)
                del auth[f"{key}_env"]
        table["auth"] = auth


def parse_source(text: str) -> dict[str, Any]:
    """The table form of a text source."""
    text = text.strip()
    head, sep, rest = text.partition(":")
    if head == "openapi" and sep:
        return {"type": "openapi", "spec": rest}
    if head == "grpc" and sep:
        return {"type": "grpc", "target": rest}
    if head == "mcp" and sep:
        return {"type": "mcp", "server": rest}
    if head == "sql" and sep:
        return {"type": "sql", "url": rest}
    if text == "weather":
        return {"type": "weather"}
    if not text:
        raise ValueError("empty tool source")
    if ".py:" in text:
        path, attr = text.split(".py:", 1)
        return {"type": "python", "path": path + ".py", "attr": attr}
    if text.endswith(".py"):
        return {"type": "python", "path": text}
    module, _, attr = text.partition(":")
    return {"type": "python", "module": module, **({"attr": attr} if attr else {})}


async def _openapi(table: dict[str, Any]) -> list[Tool]:
    from toolwire.remote import openapi

    spec = table.pop("spec", None) or table.pop("url", None)
    if spec is None:
        raise ValueError("an openapi source needs 'spec' (a URL or a file)")
    _check_options(openapi.load, table, "openapi", positional=True)
    return await openapi.load(spec, **table)


async def _grpc(table: dict[str, Any]) -> list[Tool]:
    from toolwire.remote import grpc

    target = table.pop("target", None)
    if not target:
        raise ValueError("a grpc source needs 'target' (host:port)")
    _check_options(grpc.load, table, "grpc", positional=True)
    return await grpc.load(str(target), **table)


async def _mcp(table: dict[str, Any]) -> list[Tool]:
    from toolwire.remote import mcp

    server = table.pop("server", None) or table.pop("url", None) or table.pop("command", None)
    if not server:
        raise ValueError("an mcp source needs 'url' or 'command'")
    if isinstance(server, list):
        server = " ".join(_quote(part) for part in server)
    _check_options(mcp.load, table, "mcp", positional=True)
    return await mcp.load(str(server), **table)


async def _sql(table: dict[str, Any]) -> list[Tool]:
    from toolwire.packs import sql

    url = str(table.pop("url", "sample"))
    if url == "sample":
        url = f"sqlite:///{sql.sample_database()}"
    _check_options(sql.tools, table, "sql", positional=True)
    return sql.tools(url, **table)


async def _weather(table: dict[str, Any]) -> list[Tool]:
    from toolwire.packs import weather

    _check_options(weather.tools, table, "weather", positional=False)
    return weather.tools(**table)


def _check_options(loader: Any, table: Mapping[str, Any], kind: str, *, positional: bool) -> None:
    """Every key of a source table must be one of its loader's options (a misspelt
    ``alow_hosts`` was a TypeError, or worse, a silently different source). ``positional``:
    the loader's first parameter gets the source's main value (already out of ``table``)."""
    params = inspect.signature(loader).parameters.values()
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    check_keys(table, named[1:] if positional else named, f"[[sources]] {kind}")


_PYTHON_KEYS = ("path", "module", "attr")


async def _python(table: dict[str, Any]) -> list[Tool]:
    check_keys(table, _PYTHON_KEYS, "[[sources]] python")
    if "path" not in table and "module" not in table:
        raise ValueError("a python source needs 'module' (module or module:attr) or 'path'")
    where = str(table.get("path") or table.get("module"))
    if "path" in table:
        module = _import_file(Path(table["path"]))
    else:
        # As `python -m` and uvicorn do: a module named from the command line may sit in the
        # current folder (the `toolwire` script's own sys.path[0] is its bin folder).
        _on_path(os.getcwd())
        try:
            module = importlib.import_module(str(table["module"]))
        except ImportError as exc:
            raise ValueError(f"cannot import {where}: {exc}") from None
    attr = table.get("attr")
    if not attr:
        # a module's own tools (and toolboxes) at its top level; its other values are not
        # looked into, so importing helpers never turns them into tools
        found = [
            t
            for v in vars(module).values()
            if isinstance(v, (Tool, Toolbox))
            for t in ([v] if isinstance(v, Tool) else v)
        ]
        if not found:
            raise ValueError(f"{where} defines no tools at its top level")
        return _unique(found)
    value: Any = module
    for part in str(attr).split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ValueError(f"{where} has no {str(attr)!r}") from None
    return _unique(await _as_tools(value, f"{where}:{attr}"))


def _unique(tools: list[Tool]) -> list[Tool]:
    """The same tool object reached twice (a tool and a toolbox holding it) counts once."""
    return list({id(t): t for t in tools}.values())


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    name = f"_toolwire_source_{abs(hash(os.path.abspath(path)))}"
    if name in sys.modules:
        return sys.modules[name]
    # As `python path.py` does: the file's own folder is importable, so it can import the
    # modules beside it.
    _on_path(os.path.dirname(os.path.abspath(path)))
    loaded = importlib.util.spec_from_file_location(name, path)
    if loaded is None or loaded.loader is None:
        raise ValueError(f"cannot import {path}")
    module = importlib.util.module_from_spec(loaded)
    sys.modules[name] = module
    try:
        loaded.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ValueError(f"{path} failed to import: {exc!r}") from exc
    return module


def _on_path(folder: str) -> None:
    here = os.path.abspath(folder)
    if here in (os.path.abspath(p) for p in sys.path if p):
        return
    if folder == os.getcwd() and "" in sys.path:  # "" is the current folder already
        return
    sys.path.insert(0, here)


async def _as_tools(value: Any, where: str) -> list[Tool]:
    if isinstance(value, Tool):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping | type):
        out: list[Tool] = []
        for item in value:
            out.extend(await _as_tools(item, where))
        return out
    if callable(value):
        # a factory says so in its return annotation (-> list[Tool]); any other function is
        # a tool itself, and is never called just to find out
        returns = inspect.signature(value).return_annotation
        if "Tool" not in (returns.__name__ if isinstance(returns, type) else str(returns)):
            return [tool(value)]
        made = value()
        if inspect.isawaitable(made):
            made = await made
        return await _as_tools(made, where)
    raise ValueError(
        f"{where} is a {type(value).__name__}, not a Tool, a list of tools or a function"
    )


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


_LOADERS = {
    "openapi": _openapi,
    "grpc": _grpc,
    "mcp": _mcp,
    "sql": _sql,
    "weather": _weather,
    "python": _python,
}
