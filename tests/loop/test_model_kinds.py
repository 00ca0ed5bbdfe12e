"""MODEL_KINDS and ``--model``: offline, a URL, ``KIND:MODEL`` and ``[models.NAME] kind = ...``.

The OpenAI-compatible routes talk to a local server speaking the wire format (FakeOpenAI).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from loop_fake_openai import FakeOpenAI, completion

from toolwire._calls import Parsed
from toolwire._spec import ToolSpec
from toolwire.cli._demo import resolve_model
from toolwire.models import (
    MODEL_KINDS,
    Anthropic,
    Gemini,
    Model,
    ModelKind,
    Offline,
    OpenAICompatible,
    OpenAIResponses,
)
from toolwire.models._base import Message, ModelOptions, ModelTurn
from toolwire.runner._router import Route, Router


def _toml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "toolwire.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_model_kinds_name_their_clients_lazily() -> None:
    assert set(MODEL_KINDS) == {"openai-compatible", "offline", "anthropic", "gemini", "responses"}
    assert MODEL_KINDS["openai-compatible"].load() is OpenAICompatible
    assert MODEL_KINDS["offline"].load() is Offline
    assert MODEL_KINDS["anthropic"].load() is Anthropic
    assert MODEL_KINDS["gemini"].load() is Gemini
    assert MODEL_KINDS["responses"].load() is OpenAIResponses
    assert all(isinstance(kind, ModelKind) for kind in MODEL_KINDS.values())


@pytest.mark.parametrize(
    ("spec", "cls", "env"),
    [
        ("anthropic:claude-x", "Anthropic", "ANTHROPIC_API_KEY"),
        ("gemini:gemini-x", "Gemini", "GEMINI_API_KEY"),
        ("responses:gpt-x", "OpenAIResponses", "OPENAI_API_KEY"),
    ],
)
def test_native_kinds_from_the_command_line_and_the_config(
    spec: str, cls: str, env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip({"Anthropic": "anthropic", "Gemini": "google.genai"}.get(cls, "openai"))
    monkeypatch.setenv(env, "test-key")  # built only: no request is sent
    kind, _, name = spec.partition(":")
    model = resolve_model(spec)
    assert type(model).__name__ == cls and model.model == name  # type: ignore[union-attr]
    path = _toml(tmp_path, f'[models.m]\nkind = "{kind}"\nmodel = "{name}"\n')
    assert type(resolve_model("m", api="text", config_path=path)).__name__ == cls


def test_a_kind_refuses_options_its_client_does_not_take() -> None:
    with pytest.raises(ValueError, match="takes no option text_format"):
        MODEL_KINDS["offline"].build(options={"text_format": "hermes"})


def test_offline_and_url_specs() -> None:
    model = resolve_model("offline", api="functions")
    assert isinstance(model, Offline) and model.api == "functions"
    url = resolve_model("http://127.0.0.1:9/v1", api="text")
    assert isinstance(url, OpenAICompatible)
    assert (url.api, url.text_format) == ("text", "hermes")
    assert str(url._client.base_url).startswith("http://127.0.0.1:9/v1")


def test_kind_colon_model() -> None:
    model = resolve_model("openai-compatible:qwen3-8b")
    assert isinstance(model, OpenAICompatible) and model.model == "qwen3-8b"
    with pytest.raises(click.UsageError, match="not offline, a URL or KIND:MODEL"):
        resolve_model("nosuchkind:x")


def test_config_kind_selects_the_client(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        """
[models.local]
base_url = "http://127.0.0.1:9/v1"
model = "glm-4.5"
api = "text"
text_format = "mistral"

[models.standin]
kind = "offline"

[models.bad]
kind = "offline"
text_format = "hermes"

[models.unknown]
kind = "telepathy"
""",
    )
    local = resolve_model("local", config_path=path)
    assert isinstance(local, OpenAICompatible)
    assert (local.model, local.api, local.text_format) == ("glm-4.5", "text", "mistral")
    assert isinstance(resolve_model("standin", config_path=path), Offline)
    with pytest.raises(click.UsageError, match="takes no option text_format"):
        resolve_model("bad", config_path=path)
    with pytest.raises(click.UsageError, match="unknown model kind 'telepathy'"):
        resolve_model("unknown", config_path=path)


def test_the_contract_declares_text_format() -> None:
    assert Model.text_format is None
    assert Offline().text_format is None
    url = resolve_model("http://127.0.0.1:9/v1", api="text")
    assert url is not None and url.text_format == "hermes"


class _MistralText(Model):
    """A text-mode model of another family: the router must write it a Mistral history."""

    name = "mistral-text"
    api = "text"
    text_format = "mistral"

    def __init__(self) -> None:
        self.seen: list[list[Message]] = []

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> ModelTurn:
        self.seen.append(list(messages))
        return ModelTurn(parsed=Parsed(content="done"))


@pytest.mark.anyio
async def test_router_writes_the_declared_text_format() -> None:
    model = _MistralText()
    history: list[Message] = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
    ]
    router = Router([Route(model=model)])
    await router.complete(history, [], ModelOptions())
    written = model.seen[0]
    assert written[1]["content"].startswith("[TOOL_CALLS]")
    assert written[2]["content"].startswith("[TOOL_RESULTS]")


@pytest.mark.anyio
async def test_a_kind_built_model_talks_to_a_local_server(tmp_path: Path) -> None:
    calls: list[Any] = []
    async with FakeOpenAI([completion("hi")]) as server:
        path = _toml(
            tmp_path,
            f'[models.m]\nkind = "openai-compatible"\nbase_url = "{server.base_url}"\n',
        )
        model = resolve_model("m", config_path=path)
        assert isinstance(model, OpenAICompatible)
        turn = await model.complete([{"role": "user", "content": "x"}], [], ModelOptions())
        calls.append(turn.parsed.content)
        await model.aclose()
    assert calls == ["hi"]
