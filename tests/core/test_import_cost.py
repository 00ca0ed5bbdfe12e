"""``import toolwire`` stays cheap: heavy modules load only when something needs them.

Checked structurally (which modules are in ``sys.modules`` in a fresh interpreter), never by
timing. Each step below needs a little more of the library and must pull in only that.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded later, by what needs them: the executor (asyncio), typed tools (pydantic), the first
# tool definition or validation (jsonschema-rs, which brings email/urllib), exports, the
# suggestions for an unknown tool name (difflib) and wire-name aliases (hashlib).
HEAVY = (
    "asyncio",
    "pydantic",
    "jsonschema_rs",
    "email",
    "ssl",
    "difflib",
    "hashlib",
    "concurrent.futures",
    "toolwire.dialects._export",
    "toolwire.runtime._executor",
    "toolwire.schema._from_types",
)


def loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    modules = set(json.loads(out.strip().splitlines()[-1]))
    return {m for m in HEAVY if m in modules}


def test_import_toolwire_loads_none_of_the_heavy_modules() -> None:
    assert loaded_after("import toolwire") == set()


def test_a_schema_tool_loads_jsonschema_but_not_pydantic_or_asyncio() -> None:
    code = (
        "import toolwire as tw\n"
        "t = tw.Tool.from_schema({'name': 'get_weather', 'parameters': {'type': 'object',"
        " 'properties': {'location': {'type': 'string'}}}}, lambda location: location)\n"
        "assert t.validate('{\"location\": \"北京\"}') == {'location': '北京'}\n"
    )
    loaded = loaded_after(code)
    assert "jsonschema_rs" in loaded
    assert not loaded & {"pydantic", "asyncio", "toolwire.runtime._executor", "difflib"}


def test_a_typed_tool_loads_pydantic_but_not_the_runtime() -> None:
    code = (
        "import toolwire as tw\n"
        "@tw.tool\n"
        "def add(a: int, b: int) -> int:\n"
        "    return a + b\n"
        "assert add.validate('{\"a\": 1, \"b\": 2}') == {'a': 1, 'b': 2}\n"
    )
    loaded = loaded_after(code)
    assert "pydantic" in loaded and "toolwire.schema._from_types" in loaded
    assert "asyncio" not in loaded and "toolwire.runtime._executor" not in loaded


def test_lazy_names_still_resolve() -> None:
    code = (
        "import toolwire as tw, toolwire.schema as s\n"
        "assert s.function_shape.__name__ == 'function_shape'\n"
        "assert s.parse_docstring('x').description == 'x'\n"
        "box = tw.Toolbox([tw.Tool.from_schema({'name': 'a.b', 'parameters': {}})])\n"
        "assert box.export('openai')[0]['function']['name']\n"
        "assert box.get('a_b').name == 'a.b'\n"
        "try:\n"
        "    box.get('a.c')\n"
        "except tw.UnknownTool as exc:\n"
        "    assert 'a.b' in exc.suggestions\n"
        "else:\n"
        "    raise AssertionError('no UnknownTool')\n"
    )
    loaded = loaded_after(code)
    assert {"difflib", "toolwire.dialects._export", "pydantic"} <= loaded
    assert "asyncio" not in loaded
