"""docs/formats.md lists every format with its family, markers and the names peers give it.

The table is made from the records (``TEXT_FORMATS``); when a record changes, this test fails
and prints the table to paste between the markers in the page.
"""

from __future__ import annotations

from pathlib import Path

from toolwire.parsing import TEXT_FORMATS

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
BEGIN = "<!-- formats table: made from TEXT_FORMATS by tests/parsing/test_docs_table.py -->"
END = "<!-- end of formats table -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(marker: str) -> str:
    shown = marker.replace("\n", "\\n")
    return f"``{shown}``" if "`" in shown else f"`{shown}`"


def table() -> str:
    rows = [
        "| format | family | markers | vLLM names | SGLang names | other names | quirks |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, fmt in TEXT_FORMATS.items():
        if name == "auto":
            continue
        peer_names = {n for names in fmt.peers.values() for n in names}
        others = [a for a in fmt.aliases if a not in peer_names]
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{name}`",
                    _cell(fmt.family),
                    " ".join(_cell(_code(m)) for m in fmt.markers[:3]),
                    " ".join(f"`{n}`" for n in fmt.peers.get("vllm", ())) or "—",
                    " ".join(f"`{n}`" for n in fmt.peers.get("sglang", ())) or "—",
                    " ".join(f"`{n}`" for n in others) or "—",
                    _cell(fmt.quirks) or "—",
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def test_docs_list_every_format_with_its_peer_names() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"add the table between {BEGIN!r} and {END!r}"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == table(), "docs/formats.md is out of date; the table should be:\n" + table()


if __name__ == "__main__":
    print(table())
