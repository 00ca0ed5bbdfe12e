"""Docstrings -> a tool description and per-parameter descriptions.

Understands Google (``Args:``), NumPy (``Parameters`` + dashes), reST (``:param x:``) and plain
docstrings. Text is kept as written (Chinese stays Chinese); only indentation is normalized.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_GOOGLE_PARAM_HEADERS = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "参数"}
)
_GOOGLE_OTHER_HEADERS = frozenset(
    {
        "returns",
        "return",
        "yields",
        "yield",
        "raises",
        "raise",
        "examples",
        "example",
        "notes",
        "note",
        "see also",
        "warning",
        "warnings",
        "references",
        "attributes",
        "todo",
        "返回",
        "异常",
        "示例",
    }
)
_NUMPY_HEADERS = frozenset(
    {
        "parameters",
        "other parameters",
        "returns",
        "yields",
        "raises",
        "see also",
        "notes",
        "examples",
        "references",
        "attributes",
        "warnings",
    }
)
_GOOGLE_HEADER_RE = re.compile(r"^(?P<name>[^\W\d][\w ]*|参数|返回|异常|示例)\s*[:：]\s*$")
_GOOGLE_ITEM_RE = re.compile(
    r"^\*{0,2}(?P<name>\w+)\s*(?:\((?P<type>[^)]*)\))?\s*[:：]\s*(?P<desc>.*)$"
)
_NUMPY_ITEM_RE = re.compile(
    r"^(?P<names>\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::\s*(?P<type>.*))?$"
)
_REST_FIELD_RE = re.compile(r"^:(?P<field>\w+)(?:\s+(?P<arg>[^:]+))?:\s*(?P<desc>.*)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Docstring:
    """What a docstring says: a description and one text per documented parameter."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: str = ""


def parse_docstring(doc: str | None) -> Docstring:
    """Parse a docstring in any of the supported styles.

    Example::

        >>> d = parse_docstring('''Get the weather.

        ...     Args:
        ...         location: 城市名称
        ... ''')
        >>> d.description, d.params
        ('Get the weather.', {'location': '城市名称'})
    """
    if not doc or not doc.strip():
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    if any(_REST_FIELD_RE.match(line.strip()) for line in lines):
        return _parse_rest(lines)
    if _find_numpy_section(lines) is not None:
        return _parse_numpy(lines)
    return _parse_google(lines)


def _join(chunks: list[str]) -> str:
    """Join wrapped lines into paragraphs: single newlines become spaces, blank lines stay."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in chunks:
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# Google ---------------------------------------------------------------------------------------


def _parse_google(lines: list[str]) -> Docstring:
    description: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    section: str | None = None
    current: str | None = None
    base_indent = 0
    for line in lines:
        header = _GOOGLE_HEADER_RE.match(line.strip()) if _indent(line) == 0 else None
        if header:
            name = header.group("name").strip().lower()
            if name in _GOOGLE_PARAM_HEADERS:
                section, current = "params", None
                continue
            if name in _GOOGLE_OTHER_HEADERS:
                section, current = (
                    ("returns" if name in ("returns", "return", "返回") else name),
                    None,
                )
                continue
        if section is None:
            description.append(line)
        elif section == "params":
            if not line.strip():
                continue
            item = _GOOGLE_ITEM_RE.match(line.strip())
            if item and (current is None or _indent(line) <= base_indent):
                current = item.group("name")
                base_indent = _indent(line)
                params[current] = item.group("desc").strip()
            elif current is not None:
                params[current] = (params[current] + " " + line.strip()).strip()
        elif section == "returns":
            returns.append(line)
    return Docstring(
        description=_join(description),
        params={k: v for k, v in params.items() if v},
        returns=_join(returns),
    )


# NumPy ----------------------------------------------------------------------------------------


def _is_numpy_header(lines: list[str], i: int) -> bool:
    if i + 1 >= len(lines):
        return False
    title, underline = lines[i].strip(), lines[i + 1].strip()
    return (
        bool(title)
        and title.lower() in _NUMPY_HEADERS
        and len(underline) >= 3
        and set(underline) == {"-"}
    )


def _find_numpy_section(lines: list[str]) -> int | None:
    for i in range(len(lines)):
        if _is_numpy_header(lines, i):
            return i
    return None


def _parse_numpy(lines: list[str]) -> Docstring:
    description: list[str] = []
    params: dict[str, list[str]] = {}
    returns: list[str] = []
    section: str | None = None
    current: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_numpy_header(lines, i):
            section = lines[i].strip().lower()
            current = []
            i += 2
            continue
        if section is None:
            description.append(line)
        elif section in ("parameters", "other parameters"):
            if line.strip() and _indent(line) == 0:
                item = _NUMPY_ITEM_RE.match(line.strip())
                current = []
                if item:
                    for name in item.group("names").split(","):
                        params[name.strip().lstrip("*")] = current
            elif line.strip():
                current.append(line)
        elif section == "returns":
            returns.append(line)
        i += 1
    return Docstring(
        description=_join(description),
        params={k: _join(v) for k, v in params.items() if _join(v)},
        returns=_join(returns),
    )


# reST -----------------------------------------------------------------------------------------


def _parse_rest(lines: list[str]) -> Docstring:
    description: list[str] = []
    params: dict[str, str] = {}
    returns = ""
    current: tuple[str, str] | None = None  # (field kind, param name)
    in_fields = False
    for line in lines:
        stripped = line.strip()
        match = _REST_FIELD_RE.match(stripped)
        if match:
            in_fields = True
            kind = match.group("field")
            arg = (match.group("arg") or "").split()
            desc = match.group("desc").strip()
            if kind in ("param", "parameter", "arg", "argument", "key", "keyword") and arg:
                name = arg[-1]  # ":param int x:" names x
                params[name] = desc
                current = ("param", name)
            elif kind in ("returns", "return"):
                returns = desc
                current = ("returns", "")
            else:
                current = None
            continue
        if not in_fields:
            description.append(line)
        elif current is not None and stripped:
            if current[0] == "param":
                params[current[1]] = (params[current[1]] + " " + stripped).strip()
            else:
                returns = (returns + " " + stripped).strip()
    return Docstring(
        description=_join(description),
        params={k: v for k, v in params.items() if v},
        returns=returns,
    )
