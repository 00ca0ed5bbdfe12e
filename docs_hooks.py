"""mkdocs hooks for the toolwire site (``hooks:`` in mkdocs.yml).

Pages are written in parallel (the Chinese pages on their own branch, the deploy reference by
another writer), so the nav lists pages that may not exist yet. ``--strict`` would fail on
those; this hook drops every nav entry whose file is absent (and a section left empty), and the
language switch when the zh home page is absent; and a link to a page another writer has not
merged yet (``PENDING``) renders as its plain text until that page exists. Nothing else is
changed.
"""

from __future__ import annotations

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


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"])
    for name in PENDING:
        if (docs / name).is_file():
            continue
        # [text](../deploy.md) or [text](deploy.md#anchor) -> text
        link = re.compile(r"\[([^\]]+)\]\((?:\.\./)*" + re.escape(name) + r"(?:#[^)]*)?\)")
        markdown = link.sub(r"\1", markdown)
    return markdown
