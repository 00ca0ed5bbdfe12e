"""Every tool-parser name of vLLM and SGLang, exactly as issue 14 lists them, selects a format.

A user copies ``--tool-call-parser X`` from their server config into ``parse(format=X)`` or
``StreamParser(X)``: each name must be accepted, map to one record (its own or an alias of the
equivalent format), and be recorded under that peer in the record's ``peers`` (which makes the
docs table name it).
"""

from __future__ import annotations

import pytest

from toolwire._calls import ToolCall
from toolwire.parsing import ALIASES, TEXT_FORMATS, StreamParser, parse, text_format

VLLM = [
    "apertus",
    "cohere_command3",
    "cohere_command4",
    "deepseek_v3",
    "deepseek_v31",
    "deepseek_v32",
    "deepseek_v4",
    "ernie45",
    "functiongemma",
    "gemma4",
    "gigachat3",
    "glm45",
    "glm47",
    "granite",
    "granite-20b-fc",
    "granite4",
    "hermes",
    "hunyuan_a13b",
    "hy_v3",
    "inkling",
    "internlm",
    "jamba",
    "kimi_k2",
    "kimi_k3",
    "lfm2",
    "llama3_json",
    "llama4_json",
    "llama4_pythonic",
    "longcat",
    "mimo",
    "minicpm5",
    "minimax_m2",
    "minimax_m3",
    "mistral",
    "olmo3",
    "openai",
    "phi4_mini_json",
    "poolside_v1",
    "pythonic",
    "qwen3_coder",
    "qwen3_xml",
    "seed_oss",
    "solar_open2",
    "step3",
    "step3p5",
    "xlam",
]

SGLANG = [
    "apertus2509",
    "cohere_command4",
    "deepseekv3",
    "deepseekv31",
    "deepseekv32",
    "deepseekv4",
    "dots",
    "gemma4",
    "gigachat3",
    "gigachat35",
    "glm",
    "glm45",
    "glm47",
    "gpt-oss",
    "hermes",
    "hunyuan",
    "inkling",
    "interns1",
    "k2_horizon",
    "kimi_k2",
    "kimi_k3",
    "lfm2",
    "ling3",
    "llama3",
    "mimo",
    "minicpm5",
    "minimax-m2",
    "minimax-m3",
    "mistral",
    "muse",
    "poolside_v1",
    "pythonic",
    "qwen",
    "qwen25",
    "qwen3_coder",
    "spark25",
    "step3",
    "step3p5",
    "trinity",
]

PEER_NAMES = [("vllm", n) for n in VLLM] + [("sglang", n) for n in SGLANG]


def test_the_lists_are_the_issues() -> None:
    # 46 vLLM names and 39 SGLang names, none repeated (a typo here would pass silently)
    assert len(VLLM) == len(set(VLLM)) == 46
    assert len(SGLANG) == len(set(SGLANG)) == 39


@pytest.mark.parametrize(("peer", "name"), PEER_NAMES, ids=[f"{p}:{n}" for p, n in PEER_NAMES])
def test_peer_name_selects_a_format(peer: str, name: str) -> None:
    record = text_format(name)
    assert record.name != "auto"
    assert name == record.name or ALIASES[name] == record.name
    assert name in record.peers.get(peer, ()), f"{record.name}.peers[{peer!r}] lacks {name!r}"
    # accepted by both entry points, and read exactly as the record's own name reads it
    text = "plain words"
    assert parse(text, name) == parse(text, record.name)
    sp = StreamParser(name)
    sp.feed(text)
    sp.close()
    assert sp.result() == parse(text, record.name)
    if record.call is not None:  # a call written in the format is read back under this name
        call = ToolCall(id="c0", name="get_weather", arguments='{"city": "Paris"}')
        written = record.write_calls([call])
        got = parse(written, name, {"get_weather": {"properties": {"city": {"type": "string"}}}})
        assert [(c.name, c.arguments) for c in got.calls] == [("get_weather", '{"city":"Paris"}')]


def test_every_recorded_peer_name_is_in_the_issue() -> None:
    listed = {"vllm": set(VLLM), "sglang": set(SGLANG)}
    for fmt in TEXT_FORMATS.values():
        for peer, names in fmt.peers.items():
            assert set(names) <= listed[peer], (fmt.name, peer, set(names) - listed[peer])
