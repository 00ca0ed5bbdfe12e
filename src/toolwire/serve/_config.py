"""From ``toolwire.toml`` sections (already parsed by ``toolwire.config``) to serve objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from toolwire._tables import check_keys
from toolwire.config._loader import Config, ConfigError
from toolwire.serve._auth import OPS_SCOPE, ApiKey, AuthConfig, JwtSettings, parse_scopes
from toolwire.serve._limits import Limits

_LIMIT_KEYS = frozenset(Limits.__dataclass_fields__)


def limits_from(config: Config) -> Limits:
    table = config.server.get("limits", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{config.path or 'configuration'} [server.limits] must be a table")
    check_keys(
        table, _LIMIT_KEYS, f"{config.path or 'configuration'} [server.limits]", error=ConfigError
    )
    try:
        return Limits(**table)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config.path or 'configuration'} [server.limits]: {exc}") from None


def auth_from(config: Config) -> AuthConfig:
    """``[auth]``: ``api_keys`` (id, hash, scopes), ``[auth.jwt]``, ``[auth.scopes]``."""
    where = f"{config.path or 'configuration'} [auth]"
    table = config.auth
    keys: list[ApiKey] = []
    for i, entry in enumerate(table.get("api_keys", [])):
        if not isinstance(entry, Mapping) or "id" not in entry or "hash" not in entry:
            raise ConfigError(f"{where} api_keys[{i}] needs id and hash")
        try:
            keys.append(
                ApiKey(
                    id=str(entry["id"]),
                    hash=str(entry["hash"]),
                    scopes=parse_scopes(entry.get("scopes")),
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{where} api_keys[{i}]: {exc}") from None
    jwt_settings = None
    jwt_table = table.get("jwt")
    if isinstance(jwt_table, Mapping):
        jwks = None
        if "jwks_file" in jwt_table:
            path = config.resolve(str(jwt_table["jwks_file"]))
            try:
                jwks = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{where}.jwt jwks_file {path}: {exc}") from None
        try:
            jwt_settings = JwtSettings(
                secret=config.secret(jwt_table, "secret"),
                jwks=jwks,
                algorithms=tuple(jwt_table.get("algorithms", ())),
                issuer=jwt_table.get("issuer"),
                audience=jwt_table.get("audience"),
                leeway=float(jwt_table.get("leeway", 30.0)),
                subject_claim=str(jwt_table.get("subject_claim", "sub")),
                scope_claim=str(jwt_table.get("scope_claim", "scope")),
            )
        except ValueError as exc:
            raise ConfigError(f"{where}.jwt: {exc}") from None
    scopes_table = table.get("scopes", {})
    if not isinstance(scopes_table, Mapping):
        raise ConfigError(f"{where}.scopes must be a table of tool glob -> scopes")
    ops_scope = table.get("ops_scope", OPS_SCOPE)
    if not isinstance(ops_scope, str) or not ops_scope.strip() or " " in ops_scope.strip():
        raise ConfigError(f"{where}: ops_scope must be one scope name, got {ops_scope!r}")
    return AuthConfig(
        api_keys=tuple(keys),
        jwt=jwt_settings,
        tool_scopes={str(k): parse_scopes(v) for k, v in scopes_table.items()},
        ops_scope=ops_scope.strip(),
    )


def backend_from(config: Config) -> Any:
    """The runtime's state backend from ``[state]`` (None: the runtime's memory default)."""
    state = config.state
    if state.get("backend", "memory") != "redis":
        return None
    url = config.secret(state, "url") or state.get("url")
    if not url:
        raise ConfigError(f"{config.path or 'configuration'} [state]: redis needs url or url_env")
    from toolwire.state.redis import RedisBackend

    where = f"{config.path or 'configuration'} [state]"
    options: dict[str, Any] = {}
    numbers = (("concurrency_lease", float), ("max_connections", int), ("failover_wait", float))
    for key, kind in numbers:
        if key in state:
            value = state[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
            options[key] = kind(value)
    try:
        return RedisBackend(str(url), prefix=str(state.get("prefix", "toolwire:")), **options)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
