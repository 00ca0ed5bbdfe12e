"""Schema-guided argument extraction from a natural-language request (offline model only).

Rules, not understanding: enum values that appear in the text, numbers matched to numeric
parameters by the words around them, booleans by mention, dates, quoted strings, a place
name (a bundled city table when present, else a free-text span), and lists of entities
(``北京、上海、广州``) that become one call each.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toolwire.models._ngrams import is_cjk, schema_props, split_identifier

PlaceFinder = Callable[[str], Sequence[str]]

_NUMBER = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?"
)
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "fifty": 50, "hundred": 100, "thousand": 1000, "dozen": 12, "half": 0.5,
}  # fmt: skip
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']{2,})'|“([^”]+)”|‘([^’]+)’|「([^」]+)」|《([^》]+)》")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_ZH_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_MONTHS = "january february march april may june july august september october november december"
_EN_DATE = re.compile(
    r"\b(" + "|".join(_MONTHS.split()) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I
)
_PLACE_HINTS = re.compile(
    r"location|city|place|country|region|address|destination|town|地点|城市|位置|地区|地址", re.I
)
_DATE_HINTS = re.compile(r"date|day|日期", re.I)
_LIST_SPLIT = re.compile(r"\s*(?:、|，|,|;|；|\band\b|\bor\b|和|与|及|以及|跟|&)\s*")
# Chinese request padding around the entity: leading verbs, trailing question words.
_ZH_LEAD = re.compile(
    r"^(?:请|帮我|帮忙|麻烦)?(?:查询|查一下|查查|查|告诉我|看看|看一下|问一下|问问|说说)?"
)
_ZH_TAIL = re.compile(
    r"(?:今天|明天|后天|昨天|现在|目前|本周|这周|的|天气|气温|温度|湿度|情况|怎么样|如何|怎样|多少|吗|呢|\?|？|。|!|！|\s)+.*$"
)
_EN_SPAN = re.compile(
    r"\b(in|at|for|of|from|to|near|about|named|called|between|and)\s+((?:[A-Z][\w'\-]*\.?)(?:(?:\s+|\s*,\s*|\s+and\s+)(?:[A-Z][\w'\-]*\.?))*)"
)
_CAPS = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+)*)")
_NEGATION = re.compile(r"\b(?:not|no|without|don't|dont|never|exclude|excluding)\b|不|无|别")


def default_place_finder() -> PlaceFinder | None:
    """The weather pack's bundled city table, when installed: places named in the user's
    own language (``北京`` stays ``北京``, as in the seed's ``{"location": "北京"}``)."""
    try:
        module = importlib.import_module("toolwire.packs.weather._cities")
    except ImportError:
        return None
    finder = getattr(module, "find_cities", None)
    if finder is None:
        return None

    def find(text: str) -> Sequence[str]:
        zh = is_cjk(text)
        names: list[str] = []
        for city in finder(text) or ():
            name = getattr(city, "name_zh" if zh else "name", None) or getattr(city, "name", None)
            if isinstance(name, str) and name:
                names.append(name)
        return names

    return find


def _type_of(schema: Mapping[str, Any]) -> str:
    t = schema.get("type", "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return {
        "float": "number",
        "double": "number",
        "int": "integer",
        "dict": "object",
        "tuple": "array",
        "list": "array",
        "bool": "boolean",
        "str": "string",
        "any": "string",
    }.get(str(t), str(t))


def _words(text: str) -> set[str]:
    return {w for w in split_identifier(text).lower().split() if len(w) > 2}


def _numbers(text: str, *, words: bool = False) -> list[tuple[int, float | int]]:
    found: list[tuple[int, float | int]] = []
    for m in _NUMBER.finditer(text):
        before = text[max(0, m.start() - 2) : m.start()]
        after = text[m.end() : m.end() + 1]
        if before.endswith(("^", "**")) or (after.isalpha() and after.lower() in "xyz"):
            continue  # an exponent or a coefficient inside a formula, not a value
        raw = m.group().replace(",", "")
        value: float | int = float(raw) if any(c in raw for c in ".e") else int(raw)
        found.append((m.start(), value))
    if words:
        for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", text, re.I):
            found.append((m.start(), _NUMBER_WORDS[m.group(1).lower()]))
    found.sort()
    return found


def _context_score(text: str, pos: int, keys: set[str]) -> float:
    before = re.findall(r"[a-z]+", text[max(0, pos - 50) : pos].lower())[-6:]
    after = re.findall(r"[a-z]+", text[pos : pos + 30].lower())[:3]
    stems = {k[:5] for k in keys}
    score = 0.0
    # Nearer words count more: in "base of 10 and height of 5", 5 belongs to height.
    for distance, word in enumerate(reversed(before), start=1):
        if word[:5] in stems:
            score += 1.0 / distance
    for distance, word in enumerate(after, start=1):
        if word[:5] in stems:
            score += 0.5 / distance
    return score


def _assign_numbers(
    text: str, params: list[tuple[str, Mapping[str, Any], bool]]
) -> dict[str, float | int]:
    numbers = _numbers(text)
    if sum(1 for p in params if p[2]) > len(numbers):
        numbers = _numbers(text, words=True)
    out: dict[str, float | int] = {}
    if not numbers or not params:
        return out
    used: set[int] = set()
    scored: list[tuple[float, int, int, int]] = []
    for pi, (name, sub, _req) in enumerate(params):
        keys = _words(name) | _words(str(sub.get("description", "")))
        for ni, (pos, _v) in enumerate(numbers):
            s = _context_score(text, pos, keys)
            if s > 0:
                scored.append((-s, abs(pi - ni), pi, ni))
    scored.sort()
    for _s, _d, pi, ni in scored:
        name = params[pi][0]
        if name in out or ni in used:
            continue
        out[name] = numbers[ni][1]
        used.add(ni)
    rest = [n for i, n in enumerate(numbers) if i not in used]
    for name, _sub, required in params:
        if name not in out and required and rest:
            out[name] = rest.pop(0)[1]
    return out


def _explicit(text: str, props: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Values the request spells out: ``a=2``, ``radius: 5``."""
    out: dict[str, Any] = {}
    for name, sub in props.items():
        kind = _type_of(sub)
        if kind not in ("integer", "number"):
            continue
        m = re.search(r"(?<![\w])" + re.escape(name) + r"\s*(?:=|:|is)\s*(-?\d+(?:\.\d+)?)", text)
        if m:
            raw = m.group(1)
            out[name] = _coerce_number(float(raw) if "." in raw else int(raw), kind)
    return out


def _coerce_number(value: float | int, kind: str) -> float | int:
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "number" and isinstance(value, int):
        return float(value)
    return value


def _find_enum(text: str, values: Sequence[Any]) -> Any:
    low = text.lower()
    best = None
    for v in values:
        if not isinstance(v, str):
            if str(v) in text:
                return v
            continue
        for form in {v.lower(), v.lower().replace("_", " "), v.lower().replace("-", " ")}:
            hit = form and re.search(r"(?<![a-z])" + re.escape(form) + r"(?![a-z])", low)
            if hit and (best is None or len(v) > len(best)):
                best = v
    return best


def _date(text: str) -> str | None:
    m = _ISO_DATE.search(text) or _ZH_DATE.search(text)
    if m:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _EN_DATE.search(text)
    if m:
        month = _MONTHS.split().index(m.group(1).lower()) + 1
        return f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(2)):02d}"
    return None


def free_text_span(text: str) -> str | None:
    """The entity a request is about, e.g. ``北京、上海`` or ``New York``; None if unclear."""
    stripped = text.strip()
    if is_cjk(stripped):
        head = _ZH_TAIL.sub("", _ZH_LEAD.sub("", stripped, count=1))
        head = head.strip(" ,，、")
        return head or None
    m = _EN_SPAN.search(stripped)
    if m:
        return m.group(2).strip(" ,")
    m = _CAPS.search(stripped)
    return m.group(1) if m else None


_TO_HINT = re.compile(r"end|destination|to|arrival|target", re.I)
_FROM_HINT = re.compile(r"start|origin|from|source|departure", re.I)


def _directed_span(text: str, name: str, used: set[str]) -> str | None:
    """For ``start_location``/``end_location`` style pairs: the span after from/to."""
    words = set(split_identifier(name).lower().split())
    wants = "from" if words & {"start", "origin", "from", "source", "departure"} else None
    if words & {"end", "destination", "to", "arrival", "target"}:
        wants = "to"
    if wants is None:
        return None
    order = {"from": ("from", "between"), "to": ("to", "and")}[wants]
    for prep in order:
        for m in _EN_SPAN.finditer(text):
            span = m.group(2).strip(" ,")
            if m.group(1) == prep and span not in used:
                return span
    return None


def split_entities(span: str) -> list[str]:
    """``北京、上海和广州`` -> [``北京``, ``上海``, ``广州``]."""
    parts = [p.strip(" .。") for p in _LIST_SPLIT.split(span)]
    return [p for p in parts if p]


def extract(
    text: str,
    schema: Mapping[str, Any],
    *,
    place_finder: PlaceFinder | None = None,
) -> list[dict[str, Any]]:
    """Argument sets for one tool: one dict per entity the request lists (at least one)."""
    props = schema_props(schema)
    required = set(schema.get("required", ()) or ())
    args: dict[str, Any] = _explicit(text, props)
    numeric: list[tuple[str, Mapping[str, Any], bool]] = []
    strings: list[tuple[str, Mapping[str, Any]]] = []
    for name, sub in props.items():
        if name in args:
            continue
        kind = _type_of(sub)
        enum = sub.get("enum")
        if isinstance(enum, list) and enum:
            found = _find_enum(text, enum)
            if found is not None:
                args[name] = found
            elif name in required:
                args[name] = enum[0]
        elif kind in ("integer", "number"):
            numeric.append((name, sub, name in required))
        elif kind == "boolean":
            keys = _words(name)
            if keys and any(k in text.lower() for k in keys):
                args[name] = _NEGATION.search(text) is None
            elif name in required:
                args[name] = False
        elif kind == "string":
            strings.append((name, sub))
        elif kind == "array":
            item_kind = _type_of(sub.get("items") or {})
            if item_kind in ("integer", "number"):
                values = [_coerce_number(v, item_kind) for _p, v in _numbers(text)]
                if values or name in required:
                    args[name] = values
            elif name in required:
                span = free_text_span(text)
                args[name] = split_entities(span) if span else []
    for name, value in _assign_numbers(text, numeric).items():
        args[name] = _coerce_number(value, _type_of(props[name]))

    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
    fan_out: tuple[str, list[str]] | None = None
    used_spans: set[str] = set()
    for name, sub in sorted(strings, key=lambda p: p[0] not in required):
        hint = f"{name} {sub.get('description', '')} {sub.get('format', '')}"
        if sub.get("format") in ("date", "date-time") or _DATE_HINTS.search(name):
            date = _date(text)
            if date is not None:
                args[name] = date
                continue
        if quoted:
            args[name] = quoted.pop(0)
            continue
        if _PLACE_HINTS.search(hint) and place_finder is not None:
            places = list(dict.fromkeys(place_finder(text)))
            if places:
                args[name] = places[0]
                if len(places) > 1 and fan_out is None:
                    fan_out = (name, places)
                continue
        if name in args or (name not in required and not _PLACE_HINTS.search(hint)):
            continue
        directed = None if is_cjk(text) else _directed_span(text, name, used_spans)
        if directed is not None:
            args[name] = directed
            used_spans.add(directed)
            continue
        span = free_text_span(text)
        if span is None or span in used_spans:
            continue
        used_spans.add(span)
        entities = split_entities(span)
        args[name] = entities[0] if entities else span
        if len(entities) > 1 and fan_out is None:
            fan_out = (name, entities)

    if fan_out is None:
        return [args]
    name, entities = fan_out
    return [{**args, name: entity} for entity in entities]
