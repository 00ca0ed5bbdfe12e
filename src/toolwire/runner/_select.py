"""Which tools a request gets to see: explicit filters, then the top-k most relevant.

Large toolboxes drown a model (and its context window); passing only the few tools that
match the request works better and costs less. Relevance is lexical by default (character
n-grams, Chinese and English, see :mod:`toolwire.models._ngrams`); give a ``scorer`` to use
embeddings or anything else.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence

from toolwire._spec import ToolSpec
from toolwire.models._ngrams import NgramIndex, spec_text

Scorer = Callable[[str, Sequence[ToolSpec]], Sequence[float] | Awaitable[Sequence[float]]]
"""``scorer(query, specs) -> one score per spec`` (higher is more relevant); may be async."""


def filter_specs(
    specs: Iterable[ToolSpec],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    tags: Iterable[str] = (),
) -> list[ToolSpec]:
    """Keep the tools whose name matches one of ``include`` (names or globs, all when empty),
    none of ``exclude``, and that carry every tag in ``tags``.

    Example::

        filter_specs(specs, include=["weather.*", "get_*"], tags={"read"})
    """
    wanted = frozenset(tags)
    out = []
    for spec in specs:
        if include and not any(fnmatch.fnmatchcase(spec.name, p) for p in include):
            continue
        if any(fnmatch.fnmatchcase(spec.name, p) for p in exclude):
            continue
        if wanted and not wanted <= spec.tags:
            continue
        out.append(spec)
    return out


def lexical_scores(query: str, specs: Sequence[ToolSpec]) -> list[float]:
    """Character n-gram TF-IDF cosine of ``query`` against each tool's text."""
    return NgramIndex([spec_text(s) for s in specs]).scores(query)


async def top_k(
    query: str,
    specs: Sequence[ToolSpec],
    k: int,
    *,
    scorer: Scorer | None = None,
    always: Sequence[str] = (),
) -> list[ToolSpec]:
    """The ``k`` most relevant tools for ``query``, in their original order.

    Tools named in ``always`` are kept regardless (and count towards ``k``). With fewer
    than ``k`` tools, all are returned unscored.
    """
    if k <= 0:
        return []
    if len(specs) <= k:
        return list(specs)
    raw = (scorer or lexical_scores)(query, specs)
    scores = list(await raw if inspect.isawaitable(raw) else raw)
    if len(scores) != len(specs):
        raise ValueError(f"the scorer returned {len(scores)} scores for {len(specs)} tools")
    keep = {i for i, s in enumerate(specs) if s.name in always}
    ranked = sorted(range(len(specs)), key=lambda i: (-scores[i], i))
    for i in ranked:
        if len(keep) >= k:
            break
        keep.add(i)
    return [specs[i] for i in sorted(keep)]
