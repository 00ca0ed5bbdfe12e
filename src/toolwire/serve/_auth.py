"""Authentication and per-tool authorization, the same for REST, gRPC and MCP.

Two kinds of credentials:

- API keys, stored only as ``sha256:<hex>`` digests and compared in constant time. Keys are
  long random strings, so one fast hash is enough (no salt or stretching is needed against
  guessing a 32-byte key); ``hash_api_key`` makes the digest for the config file.
- JWT bearer tokens: HS256 with a shared secret, or RS256/ES256 verified against a JWKS
  document (the CLI reads the file; this module never touches the file system).

Per-tool scopes: ``tool_scopes`` maps tool-name globs to scopes; a caller needs every scope
of every glob its tool matches. The scope ``*`` grants everything. Tools no glob matches need
only an authenticated caller. A caller sees (in every tool listing) only the tools it may
call. The operational views (dashboard figures, ``/metrics``) name every tool and caller, so
they need a scope of their own, ``ops_scope`` (``ops`` unless configured).

Caller ids carry their kind, so that the two credentials never share a namespace: an API key
configured as ``id = "ops"`` is the caller ``key:ops``; a token with ``sub = "ops"`` is
``jwt:<issuer>:ops`` (``jwt:ops`` when neither the settings nor the token name an issuer).
Per-caller caches, rate limits and idempotency records are keyed by this id, so a token can
never reach a key's records (or another issuer's subject's).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolwire._context import Caller
from toolwire._errors import ErrorKind, ToolFailure

ANONYMOUS = Caller(id="anonymous")
_HASH_PREFIX = "sha256:"


def hash_api_key(key: str) -> str:
    """The digest to store in the config file for an API key.

    Example::

        >>> hash_api_key("tw_example")[:7]
        'sha256:'
    """
    return _HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    """A fresh random API key (prefix ``tw_``, 256 bits of entropy)."""
    return "tw_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """One accepted API key: the caller id it stands for, its digest and its scopes."""

    id: str
    hash: str
    scopes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        digest = self.hash.removeprefix(_HASH_PREFIX)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise ValueError(
                f"API key {self.id!r}: hash must be 'sha256:' + 64 hex digits "
                "(make one with: toolwire keys hash KEY)"
            )


SECRET_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
KEY_ALGORITHMS = frozenset(
    {
        *(f"{family}{bits}" for family in ("RS", "PS", "ES") for bits in (256, 384, 512)),
        "ES256K",
        "EdDSA",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JwtSettings:
    """How bearer tokens are verified. Give ``secret`` (HS256) or ``jwks`` (RS256/ES256)."""

    secret: str | None = field(default=None, repr=False)
    jwks: Mapping[str, Any] | None = None
    algorithms: tuple[str, ...] = ()
    issuer: str | None = None
    audience: str | None = None
    leeway: float = 30.0
    subject_claim: str = "sub"
    scope_claim: str = "scope"  # space-separated string, or a list

    def __post_init__(self) -> None:
        if (self.secret is None) == (self.jwks is None):
            raise ValueError("JWT settings need exactly one of secret (HS256) or jwks (RS256)")
        # A token names its own algorithm; one the key cannot serve must never be allowed
        # (an HS256 token "verified" with an RSA public key is the classic forgery).
        secret = self.secret is not None
        wanted = SECRET_ALGORITHMS if secret else KEY_ALGORITHMS
        wrong = [a for a in self.algorithms if a not in wanted]
        if wrong:
            raise ValueError(
                f"algorithms {wrong} do not go with {'secret' if secret else 'jwks'}: "
                "HS256/HS384/HS512 need secret; RS*, PS*, ES* and EdDSA need jwks "
                "('none' is never accepted)"
            )

    @property
    def allowed_algorithms(self) -> list[str]:
        if self.algorithms:
            return list(self.algorithms)
        return ["HS256"] if self.secret is not None else ["RS256"]


OPS_SCOPE = "ops"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    api_keys: tuple[ApiKey, ...] = ()
    jwt: JwtSettings | None = None
    tool_scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ops_scope: str = OPS_SCOPE  # needed for the dashboard figures and /metrics

    @property
    def enabled(self) -> bool:
        return bool(self.api_keys) or self.jwt is not None


def _fail(kind: ErrorKind, message: str, **details: Any) -> ToolFailure:
    return ToolFailure(kind, message, details=details)


class Authenticator:
    """Turns transport credentials into a :class:`~toolwire.Caller`, and checks tool scopes.

    Example::

        auth = Authenticator(AuthConfig(api_keys=(ApiKey(id="ci", hash=hash_api_key(k)),)))
        caller = auth.authenticate(api_key=k)
        auth.authorize(caller, "get_weather")
    """

    def __init__(self, config: AuthConfig | None = None) -> None:
        self.config = config or AuthConfig()
        self._keys = [
            (bytes.fromhex(k.hash.removeprefix(_HASH_PREFIX)), k) for k in self.config.api_keys
        ]
        self._jwks: Any = None
        self._required: dict[str, frozenset[str]] = {}
        # Read on every call by every transport; the config is frozen, so computed once.
        self.enabled: bool = self.config.enabled

    def authenticate(
        self, *, authorization: str | None = None, api_key: str | None = None
    ) -> Caller:
        """The caller for these credentials; raises ``ToolFailure`` of kind ``unauthorized``.

        ``authorization`` is the ``Authorization`` header (``Bearer <jwt or api key>``);
        ``api_key`` the ``X-API-Key`` header. Without auth configured, every caller is
        ``anonymous``.
        """
        if not self.enabled:
            return ANONYMOUS
        token = api_key
        if token is None and authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise _fail("unauthorized", "Authorization must be 'Bearer <token>'.")
            token = value.strip()
        if not token:
            raise _fail(
                "unauthorized",
                "Authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key'.",
            )
        if token.count(".") == 2 and self.config.jwt is not None:
            return self._from_jwt(token, self.config.jwt)
        return self._from_key(token)

    def _from_key(self, key: str) -> Caller:
        digest = hashlib.sha256(key.encode()).digest()
        found: ApiKey | None = None
        # Compare against every key, always, so timing reveals nothing about which one matched.
        for stored, entry in self._keys:
            if hmac.compare_digest(stored, digest):
                found = entry
        if found is None:
            raise _fail("unauthorized", "The API key or token is not valid.")
        return Caller(id=f"key:{found.id}", scopes=found.scopes, credentials=key)

    def _from_jwt(self, token: str, settings: JwtSettings) -> Caller:
        try:
            import jwt
        except ImportError as exc:  # pragma: no cover - part of the serve extra
            from toolwire._errors import MissingExtra

            raise MissingExtra("pyjwt", "serve") from exc
        try:
            key: Any
            if settings.secret is not None:
                key = settings.secret
            else:
                key = self._signing_key(jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=settings.allowed_algorithms,
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway,
                options={"require": ["exp", settings.subject_claim]},
            )
        except jwt.ExpiredSignatureError:
            raise _fail("unauthorized", "The token has expired.", reason="expired") from None
        except jwt.PyJWTError as exc:
            raise _fail(
                "unauthorized", f"The token is not valid: {exc}", reason="invalid"
            ) from None
        except Exception as exc:
            # PyJWT raises plain TypeError/ValueError for some malformed or mismatched tokens
            # (an ES256 header naming an RSA key): still a bad token, never a server error.
            raise _fail(
                "unauthorized",
                f"The token is not valid ({type(exc).__name__}).",
                reason="invalid",
            ) from None
        subject = claims.get(settings.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise _fail("unauthorized", "The token names no subject.", reason="invalid")
        issuer = settings.issuer or claims.get("iss")
        return Caller(
            id=f"jwt:{issuer}:{subject}"
            if isinstance(issuer, str) and issuer
            else f"jwt:{subject}",
            scopes=_scopes_of(claims.get(settings.scope_claim)),
            claims=claims,
            credentials=token,
        )

    def _signing_key(self, jwt: Any, token: str) -> Any:
        if self._jwks is None:
            settings = self.config.jwt
            assert settings is not None and settings.jwks is not None
            self._jwks = jwt.PyJWKSet.from_dict(dict(settings.jwks))
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._jwks.keys
        for k in keys:
            if kid is None or k.key_id == kid:
                return k.key
        raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS")

    def required_scopes(self, tool: str) -> frozenset[str]:
        """Every scope a caller needs to call ``tool``."""
        cached = self._required.get(tool)
        if cached is None:
            needed: set[str] = set()
            for pattern, scopes in self.config.tool_scopes.items():
                if fnmatch.fnmatchcase(tool, pattern):
                    needed |= scopes
            cached = self._required[tool] = frozenset(needed)
        return cached

    def allowed(self, caller: Caller, tool: str) -> bool:
        if not self.enabled:
            return True
        needed = self.required_scopes(tool)
        return not needed or "*" in caller.scopes or needed <= caller.scopes

    def is_ops(self, caller: Caller) -> bool:
        """May ``caller`` read the operational views (every tool's and caller's figures)?"""
        if not self.enabled:
            return True
        return "*" in caller.scopes or self.config.ops_scope in caller.scopes

    def authorize_ops(self, caller: Caller) -> None:
        """Raise ``ToolFailure`` of kind ``forbidden`` unless ``caller`` :meth:`is_ops`."""
        if not self.is_ops(caller):
            scope = self.config.ops_scope
            raise _fail(
                "forbidden",
                f"Caller {caller.id!r} may not read the operational views (dashboard figures, "
                f"/metrics): they need the scope {scope!r}.",
                missing_scopes=[scope],
            )

    def authorize(self, caller: Caller, tool: str) -> None:
        """Raise ``ToolFailure`` of kind ``forbidden`` unless ``caller`` may call ``tool``."""
        if not self.allowed(caller, tool):
            missing = sorted(self.required_scopes(tool) - caller.scopes)
            raise _fail(
                "forbidden",
                f"Caller {caller.id!r} may not call `{tool}`: missing scope(s) "
                + ", ".join(missing)
                + ".",
                missing_scopes=missing,
            )


def _scopes_of(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, Iterable):
        return frozenset(str(v) for v in value)
    return frozenset()


def parse_scopes(value: str | Sequence[str] | None) -> frozenset[str]:
    """Scopes from config: a space-separated string or a list."""
    return _scopes_of(value)
