"""Tool names as each dialect allows them, with a reversible mapping back to the original.

BFCL names such as ``spotify.play`` are fine for MCP but forbidden by OpenAI
(``^[a-zA-Z0-9_-]{1,64}$``). Exporters emit *wire names*; a call that comes back under a wire
name resolves to the original through :func:`build_name_map`. The mapping depends only on the
*set* of names, never on their order, so an exporter and a toolbox that build it separately
always agree.

Example::

    >>> wire_name("spotify.play")
    'spotify_play'
    >>> build_name_map(["spotify.play", "spotify_play"])["spotify_play"]
    'spotify_play'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NAME_RULES", "NameRule", "build_name_map", "name_rule", "wire_name", "wire_names"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NameRule:
    """What a dialect accepts as a tool name."""

    pattern: re.Pattern[str]
    allowed: re.Pattern[str]  # one allowed character
    max_len: int
    first: re.Pattern[str] | None = None  # what the first character must be, when restricted


_OPENAI = NameRule(
    pattern=re.compile(r"[a-zA-Z0-9_-]{1,64}"), allowed=re.compile(r"[a-zA-Z0-9_-]"), max_len=64
)
# Anthropic documents the same pattern as OpenAI for client tools.
_ANTHROPIC = _OPENAI
# Gemini (Developer API and Vertex): start with a letter or underscore; letters, digits,
# underscores, dots and dashes; at most 64. Colons are accepted by one API only, so not here.
_GEMINI = NameRule(
    pattern=re.compile(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,63}"),
    allowed=re.compile(r"[a-zA-Z0-9_.-]"),
    max_len=64,
    first=re.compile(r"[a-zA-Z_]"),
)
# MCP (2025-11-25): 1-128 characters from letters, digits, underscore, dash and dot. The same
# set is safe as a literal URL path segment, so OpenAPI paths use it too.
_MCP = NameRule(
    pattern=re.compile(r"[a-zA-Z0-9_.-]{1,128}"), allowed=re.compile(r"[a-zA-Z0-9_.-]"), max_len=128
)

NAME_RULES: dict[str, NameRule] = {
    "openai": _OPENAI,
    "openai-functions": _OPENAI,
    "openai-responses": _OPENAI,
    "anthropic": _ANTHROPIC,
    "gemini": _GEMINI,
    "mcp": _MCP,
    "openapi": _MCP,
}

_HASH_LENGTHS = (8, 12, 16, 24, 32)


def name_rule(dialect: str) -> NameRule:
    """The :class:`NameRule` of ``dialect``; ``ValueError`` listing the known ones otherwise."""
    try:
        return NAME_RULES[dialect]
    except KeyError:
        known = ", ".join(sorted(NAME_RULES))
        raise ValueError(f"unknown dialect {dialect!r}; expected one of: {known}") from None


def _is_valid(name: str, rule: NameRule) -> bool:
    return rule.pattern.fullmatch(name) is not None


def _sanitize(name: str, rule: NameRule) -> str:
    out = "".join(ch if rule.allowed.fullmatch(ch) else "_" for ch in name)
    if not out.strip("_.-"):
        # Nothing readable survived (an empty or wholly non-ASCII name): a generic stem,
        # which always gets a hash suffix below because it is not the original name.
        out = "tool"
    if rule.first is not None and not rule.first.fullmatch(out[0]):
        out = "_" + out
    return out


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _hashed(name: str, stem: str, rule: NameRule, length: int) -> str:
    suffix = "_" + _digest(name)[:length]
    return stem[: rule.max_len - len(suffix)] + suffix


def _candidate(name: str, rule: NameRule) -> str:
    """The wire name ``name`` gets when nothing else competes for it."""
    if _is_valid(name, rule):
        return name
    stem = _sanitize(name, rule)
    if stem == "tool" or len(stem) > rule.max_len:
        return _hashed(name, stem, rule, _HASH_LENGTHS[0])
    return stem


def wire_name(name: str, dialect: str = "openai") -> str:
    """The name ``name`` is exported under in ``dialect`` when it is the only tool.

    Valid names are kept; forbidden characters become ``_``; over-long names are cut and get a
    short stable hash suffix. In a toolbox, use :func:`wire_names` or :func:`build_name_map`,
    which also settle collisions.
    """
    return _candidate(name, name_rule(dialect))


def wire_names(names: Iterable[str], dialect: str = "openai") -> dict[str, str]:
    """Map each original name to a distinct wire name (the inverse of :func:`build_name_map`)."""
    rule = name_rule(dialect)
    originals = sorted(set(names))
    taken: set[str] = {n for n in originals if _is_valid(n, rule)}
    out: dict[str, str] = {n: n for n in taken}
    pending = [n for n in originals if n not in taken]
    wanted: dict[str, list[str]] = {}
    for name in pending:
        wanted.setdefault(_candidate(name, rule), []).append(name)
    # A candidate claimed by exactly one name and by no valid name goes to it; the others
    # get hash suffixes, so the result does not depend on which name was seen first.
    contested: list[str] = []
    for cand, claimants in sorted(wanted.items()):
        if len(claimants) == 1 and cand not in taken:
            out[claimants[0]] = cand
            taken.add(cand)
        else:
            contested.extend(claimants)
    for name in sorted(contested):
        stem = _sanitize(name, rule)
        for length in _HASH_LENGTHS:
            cand = _hashed(name, stem, rule, length)
            if cand not in taken:
                break
        else:  # needs a SHA-256 prefix collision among names; kept total anyway
            counter = 2
            while (cand := _hashed(f"{name}#{counter}", stem, rule, 16)) in taken:
                counter += 1
        out[name] = cand
        taken.add(cand)
    return out


def build_name_map(names: Iterable[str], dialect: str = "openai") -> dict[str, str]:
    """Map each wire name to the original tool name, for resolving calls to exported names.

    Example::

        >>> build_name_map(["spotify.play", "get_weather"])
        {'get_weather': 'get_weather', 'spotify_play': 'spotify.play'}
    """
    pairs = wire_names(names, dialect).items()
    return {wire: original for original, wire in sorted(pairs, key=lambda p: p[1])}
