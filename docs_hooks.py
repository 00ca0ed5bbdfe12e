"""mkdocs hooks for the toolwire site (``hooks:`` in mkdocs.yml).

Pages are written in parallel (the Chinese pages on their own branch), so the nav lists pages
that may not exist yet, which ``--strict`` would fail on. This hook drops every nav entry whose
file is absent (and a section left empty), and the language switch while the zh home page is
absent; in a zh page, a link to a zh page not written yet goes to the English page; a link to a
repository file outside docs/ (``../RELIABILITY.md``) renders as its text. Nothing else changes.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any


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


_ANY_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _outside_as_text(markdown: str, src_uri: str) -> str:
    """A link to a repository file outside docs/ (``../RELIABILITY.md``, ``../deploy/...``) has
    no page on the site: it renders as its text, which names the file."""
    here = posixpath.dirname(src_uri)

    def plain(match: re.Match[str]) -> str:
        link = match.group(2)
        if "://" in link or link.startswith(("#", "/", "mailto:")):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(here, link.split("#", 1)[0]))
        return match.group(1) if target.startswith("../") else match.group(0)

    return _ANY_LINK.sub(plain, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"])
    markdown = _outside_as_text(markdown, page.file.src_uri)
    if page.file.src_uri.startswith("zh/"):
        markdown = _english_fallback(markdown, page.file.src_uri, docs)
    return markdown
