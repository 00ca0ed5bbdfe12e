"""``toolwire.toml``: one file for every CLI command (serve, chat, call, tools).

Precedence, highest first: command-line flag > environment variable > file > default.
Environment variables are read here, by the loader, never by library classes; secrets come
only from the environment, named in the file (``secret_env = "MY_JWT_SECRET"``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolwire._tables import check_keys
from toolwire.config._tasks import check_tasks
from toolwire.runtime._policy import Breaker, Cache, Policy, RateLimit, Retry

DEFAULT_FILE = "toolwire.toml"
ENV_CONFIG = "TOOLWIRE_CONFIG"
# Non-secret server settings that may also come from the environment (flag > env > file).
ENV_SERVER = {
    "host": "TOOLWIRE_HOST",
    "port": "TOOLWIRE_PORT",
    "grpc_port": "TOOLWIRE_GRPC_PORT",
    "workers": "TOOLWIRE_WORKERS",
}


class ConfigError(ValueError):
    """The configuration file is malformed; the message names the file and the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The parsed file: sections as plain data (the serve layer builds its objects from it)."""

    path: Path | None = None
    server: Mapping[str, Any] = field(default_factory=dict)
    auth: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    policies: Mapping[str, Policy] = field(default_factory=dict)
    sources: tuple[Mapping[str, Any], ...] = ()
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tasks: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def policy_for(self, tool: str) -> Policy | None:
        """The merged policy of every ``[policies."glob"]`` table matching ``tool`` (file order)."""
        found: Policy | None = None
        for pattern, policy in self.policies.items():
            if fnmatch.fnmatchcase(tool, pattern):
                found = policy if found is None else found.merged(policy)
        return found

    def secret(self, table: Mapping[str, Any], key: str) -> str | None:
        """The value of the environment variable named by ``table[key + '_env']``."""
        env_name = table.get(f"{key}_env")
        if env_name is None:
            return None
        value = os.environ.get(str(env_name))
        if value is None:
            raise ConfigError(f"{self._where()}: environment variable {env_name} is not set")
        return value

    def resolve(self, relative: str) -> Path:
        """A path from the file, relative to the file's folder."""
        path = Path(relative).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    def _where(self) -> str:
        return str(self.path) if self.path else "configuration"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use: the flag, else ``$TOOLWIRE_CONFIG``, else ``./toolwire.toml``."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    here = Path(DEFAULT_FILE)
    return here if here.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check ``toolwire.toml`` (see ``docs/configuration.md``).

    Example::

        cfg = load_config("toolwire.toml")
        cfg.server.get("port", 8000)
    """
    found = find_config(path)
    if found is None:
        return Config()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{found}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: {exc}") from None
    return parse_config(data, path=found)


_SECTIONS = {"server", "auth", "state", "policies", "sources", "models", "tasks"}
# The keys each table may hold: a key no reader knows is an error, never ignored (a misspelt
# ``api_keys`` would otherwise start a server with auth off). ``[server.limits]`` is checked
# against ``Limits`` by the serve layer, ``[[sources]]`` by each source's loader.
SERVER_KEYS = frozenset(
    {
        "host",
        "shutdown_delay",
        "shutdown_grace",
        "port",
        "grpc_port",
        "workers",
        "mcp",
        "mcp_stateless",
        "mcp_json_response",
        "insecure",
        "title",
        "log_level",
        "limits",
        "audit_log",
        "redact_errors",
    }
)
AUTH_KEYS = frozenset({"api_keys", "jwt", "scopes", "ops_scope"})
API_KEY_KEYS = frozenset({"id", "hash", "scopes"})
JWT_KEYS = frozenset(
    {
        "secret_env",
        "jwks_file",
        "algorithms",
        "issuer",
        "audience",
        "leeway",
        "subject_claim",
        "scope_claim",
    }
)
STATE_KEYS = frozenset(
    {
        "backend",
        "url",
        "url_env",
        "prefix",
        "concurrency_lease",
        "max_connections",
        "failover_wait",
    }
)
MODEL_KEYS = frozenset({"kind", "base_url", "model", "api_key_env", "api", "text_format"})


def parse_config(data: Mapping[str, Any], *, path: Path | None = None) -> Config:
    where = str(path) if path else "configuration"
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ConfigError(
            f"{where}: unknown section(s) {sorted(unknown)}; known: {sorted(_SECTIONS)}"
        )
    server = _table(data, "server", where)
    check_keys(server, SERVER_KEYS, f"{where} [server]", error=ConfigError)
    server = {**server, **_env_server()}
    policies_raw = _table(data, "policies", where)
    policies = {
        pattern: _policy(table, f"{where} [policies.{pattern!r}]")
        for pattern, table in policies_raw.items()
    }
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, Mapping) for s in sources):
        raise ConfigError(f"{where}: [[sources]] must be an array of tables")
    models = _table(data, "models", where)
    for name, table in models.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: [models.{name}] must be a table")
        check_keys(table, MODEL_KEYS, f"{where} [models.{name}]", error=ConfigError)
    state = _table(data, "state", where)
    check_keys(state, STATE_KEYS, f"{where} [state]", error=ConfigError)
    tasks = _table(data, "tasks", where)
    check_tasks(tasks, where, ConfigError)
    backend = state.get("backend", "memory")
    if backend not in ("memory", "redis"):
        raise ConfigError(f"{where} [state]: backend must be 'memory' or 'redis', not {backend!r}")
    return Config(
        path=path,
        server=server,
        auth=_auth(data, where),
        state=state,
        policies=policies,
        sources=tuple(sources),
        models={k: dict(v) for k, v in models.items()},
        tasks=tasks,
        raw=data,
    )


def _env_server() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, env in ENV_SERVER.items():
        value = os.environ.get(env)
        if value:
            out[key] = int(value) if key != "host" else value
    return out


def _table(data: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: [{name}] must be a table")
    return dict(value)


def _auth(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    auth = _table(data, "auth", where)
    check_keys(auth, AUTH_KEYS, f"{where} [auth]", error=ConfigError)
    keys = auth.get("api_keys", [])
    if not isinstance(keys, list):
        raise ConfigError(f"{where} [auth]: api_keys must be an array of tables")
    for i, entry in enumerate(keys):
        if isinstance(entry, Mapping):
            check_keys(entry, API_KEY_KEYS, f"{where} [auth] api_keys[{i}]", error=ConfigError)
    if "jwt" in auth:
        jwt = _table(auth, "jwt", f"{where} [auth]")
        check_keys(jwt, JWT_KEYS, f"{where} [auth.jwt]", error=ConfigError)
    return auth


_POLICY_PARTS: dict[str, type] = {
    "retry": Retry,
    "breaker": Breaker,
    "cache": Cache,
    "rate_limit": RateLimit,
}


def _fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls) if f.init)


def _policy(table: Any, where: str) -> Policy:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table")
    check_keys(table, _fields(Policy), where, error=ConfigError)
    values: dict[str, Any] = {}
    for key, value in table.items():
        part = _POLICY_PARTS.get(key)
        try:
            if part is not None:
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{where}: {key} must be a table")
                check_keys(value, _fields(part), f"{where} {key}", error=ConfigError)
                fields = dict(value)
                for seq in ("retry_on", "record_on"):
                    if seq in fields:
                        fields[seq] = tuple(fields[seq])
                values[key] = part(**fields)
            elif key == "tags":
                values[key] = frozenset(value)
            else:
                values[key] = value
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None
    try:
        return Policy(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
