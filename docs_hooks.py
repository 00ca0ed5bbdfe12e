"""mkdocs hooks for the toolwire site (``hooks:`` in mkdocs.yml).

Pages are written in parallel (the Chinese pages on their own branch, the deploy reference by
another writer), so the nav lists pages that may not exist yet. ``--strict`` would fail on
those; this hook drops every nav entry whose file is absent (and a section left empty), and the
language switch when the zh home page is absent; in a zh page, a link to a zh page not written
yet goes to the English page; and a link to a page another writer has not
merged yet (``PENDING``) renders as its plain text until that page exists. Nothing else is
changed.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

# pages linked before they exist (docs/deploy.md is written on another branch)
PENDING = ("deploy.md",)


def _prune(items: list[Any], docs: Path) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if isinstance(item, str):
            if item.startswith(("http://", "https://")) or (docs / item).is_file():
                kept.append(item)
            continue
        ((title, value),) = item.items()
        if isinstance(value, list):
            value = _prune(value, docs)
            if value:
                kept.append({title: value})
        elif value.startswith(("http://", "https://")) or (docs / value).is_file():
            kept.append({title: value})
    return kept


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    if config["nav"]:
        config["nav"] = _prune(config["nav"], docs)
    if not (docs / "zh" / "index.md").is_file():
        config["extra"].pop("alternate", None)
    return config


_MD_LINK = re.compile(r"(\]\()([^)#\s]+\.md)([#)])")


def _english_fallback(markdown: str, src_uri: str, docs: Path) -> str:
    """In a zh page, a link to a zh page not written yet goes to the English page instead."""
    here = posixpath.dirname(src_uri)

    def swap(match: re.Match[str]) -> str:
        link = match.group(2)
        if "://" in link:
            return match.group(0)
        target = posixpath.normpath(posixpath.join(here, link))
        english = target.removeprefix("zh/")
        if target == english or (docs / target).is_file() or not (docs / english).is_file():
            return match.group(0)
        return match.group(1) + posixpath.relpath(english, here) + match.group(3)

    return _MD_LINK.sub(swap, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"])
    if page.file.src_uri.startswith("zh/"):
        markdown = _english_fallback(markdown, page.file.src_uri, docs)
    for name in PENDING:
        if (docs / name).is_file():
            continue
        # [text](../deploy.md) or [text](deploy.md#anchor) -> text
        link = re.compile(r"\[([^\]]+)\]\((?:\.\./)*" + re.escape(name) + r"(?:#[^)]*)?\)")
        markdown = link.sub(r"\1", markdown)
    return markdown
