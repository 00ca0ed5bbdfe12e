"""Finishing arguments (shared by every dialect) and the import-time dependency rule."""

from __future__ import annotations

import subprocess
import sys

from toolwire._calls import CallParseError
from toolwire.dialects._args import MAX_REPAIR_CHARS, Finished, finish_arguments


def test_valid_text_is_kept_byte_for_byte() -> None:
    text = '{ "a" : 1.50, "b": "\\u00e9" }'
    assert finish_arguments(text, name="f", index=0) == Finished(arguments=text)


def test_fenced_and_commented_json_is_repaired() -> None:
    outcome = finish_arguments('```json\n{"a": 1, // one\n}\n```', name="f", index=0)
    assert outcome == Finished(arguments='{"a":1}', repaired=True)


def test_prose_is_an_error_with_raw_text() -> None:
    outcome = finish_arguments("sorry, I can't", name="f", index=3)
    assert isinstance(outcome, CallParseError)
    assert (outcome.raw, outcome.name, outcome.index) == ("sorry, I can't", "f", 3)


def test_cut_text_is_not_repaired() -> None:
    outcome = finish_arguments('{"a": "x', name="f", index=0, allow_repair=False)
    assert isinstance(outcome, CallParseError)
    assert "cut off" in outcome.message


def test_size_cap() -> None:
    big = "{'a': '" + "x" * MAX_REPAIR_CHARS + "'}"
    outcome = finish_arguments(big, name="f", index=0)
    assert isinstance(outcome, CallParseError)
    assert outcome.raw == big


def test_whitespace_only_arguments_become_empty_object() -> None:
    assert finish_arguments("  ", name="f", index=0) == Finished(arguments="  {}", appended="{}")


def test_dialects_import_no_vendor_sdk() -> None:
    code = (
        "import sys\n"
        "import toolwire.dialects.openai, toolwire.dialects.responses\n"
        "import toolwire.dialects.anthropic, toolwire.dialects.gemini\n"
        "bad = [m for m in ('openai', 'anthropic', 'google.genai', 'httpx', 'aiohttp')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
