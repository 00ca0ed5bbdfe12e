"""docs_hooks.py: the site builds strictly while pages written elsewhere are still missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs_hooks.py")
assert spec is not None and spec.loader is not None
hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hooks)


def make_docs(tmp_path: Path, *pages: str) -> Path:
    for page in pages:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("# x\n", encoding="utf-8")
    return tmp_path


def test_nav_drops_absent_pages_and_empty_sections(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, "index.md", "zh/index.md")
    nav = [
        {"Home": "index.md"},
        {"Tutorials": [{"One": "tutorials/one.md"}]},
        {"中文": [{"首页": "zh/index.md"}, {"教程": [{"一": "zh/tutorials/one.md"}]}]},
    ]
    assert hooks._prune(nav, docs) == [{"Home": "index.md"}, {"中文": [{"首页": "zh/index.md"}]}]


def test_language_switch_only_with_a_zh_home(tmp_path: Path) -> None:
    config = {
        "docs_dir": str(make_docs(tmp_path, "index.md")),
        "nav": None,
        "extra": {"alternate": [{"link": "/zh/"}]},
    }
    assert "alternate" not in hooks.on_config(config)["extra"]


def test_zh_link_to_an_unwritten_zh_page_goes_to_the_english_one(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, "tutorials/eval.md", "tutorials/models.md", "zh/tutorials/models.md")
    text = "[评测](eval.md) [模型](models.md#x) [缺](nowhere.md)"
    out = hooks._english_fallback(text, "zh/tutorials/serving.md", docs)
    assert out == "[评测](../../tutorials/eval.md) [模型](models.md#x) [缺](nowhere.md)"


def test_links_outside_docs_render_as_text() -> None:
    text = "see [RELIABILITY.md](../RELIABILITY.md) and [serving](serving.md)"
    assert (
        hooks._outside_as_text(text, "deploy.md") == "see RELIABILITY.md and [serving](serving.md)"
    )
