"""Unknown keys in ``toolwire.toml`` are errors in every table, naming the file, the table, the
key and the closest known key: a misspelt ``api_keys`` used to start a server with auth off."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from serve_helpers import child_env, serve_command

from toolwire.config import ConfigError, load_config, load_tools
from toolwire.serve._auth import hash_api_key
from toolwire.serve._config import auth_from, limits_from

HASH = hash_api_key("tw_k")

# (file text, the misspelt key, the key suggested)
TYPOS = [
    ("[server]\nprot = 9000\n", "prot", "port"),
    ("[server]\nworkres = 2\n", "workres", "workers"),
    (f'[auth]\napi_key = [{{ id = "a", hash = "{HASH}" }}]\n', "api_key", "api_keys"),
    (f'[auth]\napi_keys = [{{ id = "a", hash = "{HASH}", scope = ["x"] }}]\n', "scope", "scopes"),
    ('[auth.jwt]\nsecret_env = "X"\nissuers = "https://idp"\n', "issuers", "issuer"),
    ('[auth.jwt]\nsecret = "inline"\n', "secret", "secret_env"),
    ('[state]\nbackend = "redis"\nurll = "redis://127.0.0.1:6379"\n', "urll", "url"),
    ('[state]\nprefx = "a:"\n', "prefx", "prefix"),
    ('[policies."get_*"]\ntimout = 2.0\n', "timout", "timeout"),
    (
        '[policies."get_*"]\nretry = { attemps = 2, retry_on = ["timeout"] }\n',
        "attemps",
        "attempts",
    ),
    ('[policies."x"]\ncache = { tll = 5 }\n', "tll", "ttl"),
    ('[models.local]\nbase_ur = "http://127.0.0.1:1/v1"\n', "base_ur", "base_url"),
]


@pytest.mark.parametrize(("text", "key", "suggested"), TYPOS)
def test_an_unknown_key_names_file_key_and_the_close_match(
    tmp_path: Path, text: str, key: str, suggested: str
) -> None:
    path = tmp_path / "toolwire.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        auth_from(load_config(path))
    message = str(caught.value)
    assert str(path) in message
    assert f"unknown key {key!r}" in message
    assert f"did you mean {suggested!r}" in message


def test_unknown_limit_keys_suggest_too(tmp_path: Path) -> None:
    path = tmp_path / "toolwire.toml"
    path.write_text("[server.limits]\nmax_batches = 3\n")
    with pytest.raises(ConfigError, match="did you mean 'max_batch'"):
        limits_from(load_config(path))


def test_every_documented_key_is_accepted() -> None:
    """The example in docs/configuration.md loads (its secrets aside), so every key it shows
    is one a reader knows."""
    import os
    import re
    import tomllib

    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    example = re.search(r"```toml\n(.*?)```", doc, re.S)
    assert example is not None
    from toolwire.config import parse_config

    os.environ.setdefault("TOOLWIRE_JWT_SECRET", "doc-example")
    config = parse_config(tomllib.loads(example.group(1)))
    limits_from(config)
    assert config.server["host"] == "127.0.0.1"


@pytest.mark.anyio
async def test_unknown_source_keys_are_config_errors(tmp_path: Path) -> None:
    tools = tmp_path / "t.py"
    tools.write_text("import toolwire as tw\n\n@tw.tool\ndef a() -> int:\n    return 1\n")
    for table, key, suggested in (
        (
            f'path = "{tools}"\natr = "a"\n',
            "atr",
            "attr",
        ),
        ('sql = "sample"\nmax_row = 5\n', "max_row", "max_rows"),
        (
            'type = "weather"\ntimeout = 3\n',
            "timeout",
            "timeout_s",
        ),
    ):
        path = tmp_path / "toolwire.toml"
        path.write_text("[[sources]]\n" + table)
        config = load_config(path)
        with pytest.raises(ConfigError) as caught:
            await load_tools(config)
        message = str(caught.value)
        assert str(path) in message and f"unknown key {key!r}" in message, message
        assert f"did you mean {suggested!r}" in message


def test_a_misspelt_api_keys_refuses_to_start(tmp_path: Path) -> None:
    """The issue's case, end to end: before, the server started with auth off (here on a
    public address, where it then refused for want of auth, not for the typo)."""
    path = tmp_path / "toolwire.toml"
    path.write_text(f'[auth]\napi_key = [{{ id = "ops", hash = "{HASH}", scopes = ["*"] }}]\n')
    done = subprocess.run(
        serve_command("--config", str(path), "--host", "0.0.0.0", "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 1
    assert "unknown key 'api_key' (did you mean 'api_keys'?)" in done.stderr, done.stderr
    assert str(path) in done.stderr and "Traceback" not in done.stderr
