"""Redis key layout: every key of one tool shares a Redis Cluster hash tag.

A call's combined scripts (``admit``/``settle``) touch its cache entry, fill lock,
idempotency record, rate-limit counter and breaker together, and Redis Cluster runs a
multi-key script only when all its keys hash to one slot. The runtime names every such key
``<tool>`` or ``<tool>:<more>`` (a shared ``Breaker.key`` takes the tool's place), so the
text before the first ``:`` — the *group* — becomes the hash tag:

    <prefix><kind>:{<group>}<rest>        e.g.  toolwire:c:{get_weather}:3f2a...

A group that cannot be a tag as it is (empty, or holding ``{``/``}``, which would end or
shift the tag) is replaced by ``:`` + a digest of it followed by the group itself, so the
layout stays injective (a plain group never holds ``:``) and every key can be read back.
"""

from __future__ import annotations

import hashlib
import re

# kind of the single-flight lock that guards filling a cache entry: "c:" + the cache key
CACHE_LOCK = "c:"

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def check_prefix(prefix: str) -> None:
    """Refuse a prefix that would move the hash tag into the kind (an unclosed ``{``).

    A prefix holding a whole tag (``"{myapp}:"``) is fine: Redis then uses the prefix's tag,
    which pins all of the backend's keys to one slot (and one shard).
    """
    start = prefix.find("{")
    if start >= 0 and prefix.find("}", start + 1) <= start + 1:
        raise ValueError(
            f"prefix {prefix!r} opens a Redis hash tag without closing it (or leaves it empty)"
        )


def tag(key: str) -> str:
    """The hash-tag text of ``key``: its group, or the escaped form of an unusable one."""
    group = key.partition(":")[0]
    if group and "{" not in group and "}" not in group:
        return group
    return ":" + hashlib.blake2b(group.encode(), digest_size=8).hexdigest()


def tagged(key: str) -> str:
    """``key`` with its group made the hash tag (see the module docstring)."""
    group, sep, rest = key.partition(":")
    t = tag(key)
    if t == group:
        return f"{{{group}}}{sep}{rest}"
    return f"{{{t}}}{key}"


def untagged(text: str) -> str:
    """The key that ``tagged`` turned into ``text`` (the inverse)."""
    end = text.index("}")
    if text.startswith("{:"):
        return text[end + 1 :]
    return text[1:end] + text[end + 1 :]


def glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``SCAN MATCH`` pattern."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class KeyNames:
    """The stored names of one backend's keys (``prefix`` first, see the module docstring)."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        check_prefix(prefix)
        self.prefix = prefix

    def key(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{tagged(key)}"

    def lock(self, key: str) -> str:
        # a cache fill lock ("c:" + cache key) shares its cache entry's tag
        if key.startswith(CACHE_LOCK):
            return f"{self.prefix}lk:{CACHE_LOCK}{tagged(key[len(CACHE_LOCK) :])}"
        return self.key("lk", key)

    def slots(self, key: str) -> list[str]:
        """A tool's concurrency slot holders, wait queue and the queue's expiry."""
        return [self.key("sem", key), self.key("semq", key), self.key("semx", key)]

    def wake(self, key: str) -> str:
        """The prefix of a tool's wake lists: one per process (``+ owner``), in its slot."""
        return self.key("semw", key) + ":"
