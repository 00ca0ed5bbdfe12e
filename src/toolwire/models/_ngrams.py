"""Lexical similarity by character n-grams, for Chinese and English alike.

Chinese has no spaces, so words are approximated by character unigrams and bigrams; English
gets whole words (lightly stemmed) plus character trigrams, which catch ``weather`` ~
``weathers`` and ``calc`` ~ ``calculate``. Vectors are TF-IDF weighted over the documents
scored together and compared by cosine similarity. Used by the offline model to pick a tool
and by the runner to pick the top-k tools for a request.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from toolwire._spec import ToolSpec

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Function words carry no signal about which tool is meant.
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "whats",
        "which",
        "who",
        "how",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "please",
        "can",
        "could",
        "would",
        "should",
        "do",
        "does",
        "did",
        "get",
        "give",
        "tell",
        "show",
        "find",
        "given",
        "using",
        "use",
        "about",
        "into",
        "as",
        "if",
        "then",
        "than",
        "there",
        "here",
        "some",
        "any",
        "all",
        "each",
        "per",
        "s",
    ]
)
_STOP_CHARS = frozenset(
    "的了是在和与及吗呢吧啊请给我你他她它们一个这那么什如何怎样么些也都就还把被"
)

_WEIGHTS = {"w": 1.0, "t": 0.25, "b": 1.0, "c": 0.35}


def is_cjk(text: str) -> bool:
    """True when ``text`` contains Chinese (CJK) characters."""
    return _CJK_CHAR.search(text) is not None


def split_identifier(text: str) -> str:
    """``getWeather`` / ``get_weather`` / ``math.hypot`` -> words separated by spaces."""
    text = _CAMEL.sub(" ", text)
    return re.sub(r"[_.\-/]+", " ", text)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def features(text: str) -> Counter[str]:
    """The weighted n-gram features of ``text``."""
    out: Counter[str] = Counter()
    for match in _TOKEN.finditer(split_identifier(text).lower()):
        token = match.group()
        if is_cjk(token):
            chars = list(token)
            for c in chars:
                if c not in _STOP_CHARS:
                    out["c:" + c] += 1
            for a, b in itertools.pairwise(chars):
                out["b:" + a + b] += 1
            continue
        if token in _STOP_WORDS or token.isdigit():
            continue
        word = _stem(token)
        out["w:" + word] += 1
        if len(word) > 3:
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                out["t:" + padded[i : i + 3]] += 1
    return out


def spec_text(spec: ToolSpec) -> str:
    """The text a tool is recognised by: name, title, description, parameter names/texts."""
    parts = [spec.name, spec.title or "", spec.description]
    props = spec.input_schema.get("properties")
    if isinstance(props, Mapping):
        for key, sub in props.items():
            parts.append(str(key))
            if isinstance(sub, Mapping):
                parts.append(str(sub.get("description", "")))
    parts.extend(spec.tags)
    return " ".join(parts)


class NgramIndex:
    """TF-IDF vectors of a set of documents; :meth:`scores` ranks them against a query.

    Example::

        index = NgramIndex(["获取指定城市的天气信息", "run a SQL query"])
        index.scores("北京今天天气如何")  # -> [0.4..., 0.0]
    """

    __slots__ = ("_idf", "_norms", "_vectors")

    def __init__(self, documents: Sequence[str]) -> None:
        docs = [features(d) for d in documents]
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.keys())
        n = len(docs)
        self._idf = {f: math.log(1.0 + (n + 1) / (c + 0.5)) * _WEIGHTS[f[0]] for f, c in df.items()}
        self._vectors: list[dict[str, float]] = []
        self._norms: list[float] = []
        for doc in docs:
            vec = {f: (1.0 + math.log(tf)) * self._idf[f] for f, tf in doc.items()}
            self._vectors.append(vec)
            self._norms.append(math.sqrt(sum(v * v for v in vec.values())) or 1.0)

    def scores(self, query: str) -> list[float]:
        """Cosine similarity of ``query`` with every document, in document order."""
        q = features(query)
        qvec: dict[str, float] = {}
        for f, tf in q.items():
            idf = self._idf.get(f)
            if idf is not None:
                qvec[f] = (1.0 + math.log(tf)) * idf
        if not qvec:
            return [0.0] * len(self._vectors)
        # The query norm counts unmatched features too, so that one lucky shared character
        # in a long request does not look like a match.
        unmatched = sum(
            ((1.0 + math.log(tf)) * _WEIGHTS[f[0]]) ** 2 for f, tf in q.items() if f not in qvec
        )
        qnorm = math.sqrt(sum(v * v for v in qvec.values()) + 0.25 * unmatched) or 1.0
        out = []
        for vec, norm in zip(self._vectors, self._norms, strict=True):
            dot = sum(w * vec[f] for f, w in qvec.items() if f in vec)
            out.append(dot / (norm * qnorm))
        return out


def rank_specs(query: str, specs: Sequence[ToolSpec]) -> list[tuple[float, ToolSpec]]:
    """``specs`` scored against ``query``, best first (stable for ties)."""
    if not specs:
        return []
    scores = NgramIndex([spec_text(s) for s in specs]).scores(query)
    order = sorted(range(len(specs)), key=lambda i: -scores[i])
    return [(scores[i], specs[i]) for i in order]


def schema_props(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return {}
    return {str(k): v for k, v in props.items() if isinstance(v, Mapping)}
