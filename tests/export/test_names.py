"""Wire names: valid for each dialect, distinct, order-independent and reversible."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire.dialects._names import NAME_RULES, build_name_map, wire_name, wire_names

DIALECTS = sorted(NAME_RULES)


def test_valid_names_are_kept() -> None:
    assert wire_name("get_weather") == "get_weather"
    assert wire_name("spotify.play", "mcp") == "spotify.play"
    assert wire_name("spotify.play", "gemini") == "spotify.play"


def test_dots_become_underscores_for_openai() -> None:
    assert wire_name("spotify.play") == "spotify_play"
    assert wire_name("spotify.play", "anthropic") == "spotify_play"
    assert build_name_map(["spotify.play"]) == {"spotify_play": "spotify.play"}


def test_collision_with_a_valid_name_gives_the_valid_one_its_own_name() -> None:
    mapping = build_name_map(["spotify.play", "spotify_play"])
    assert mapping["spotify_play"] == "spotify_play"
    other = next(w for w, o in mapping.items() if o == "spotify.play")
    assert re.fullmatch(r"spotify_play_[0-9a-f]{8}", other)


def test_two_forbidden_names_that_sanitize_alike_both_get_hashes() -> None:
    mapping = build_name_map(["a.b", "a b"])
    assert sorted(mapping.values()) == ["a b", "a.b"]
    assert "a_b" not in mapping
    assert all(re.fullmatch(r"a_b_[0-9a-f]{8}", w) for w in mapping)


def test_long_and_non_ascii_names() -> None:
    long = "x" * 100
    w = wire_name(long)
    assert len(w) == 64
    assert re.fullmatch(r"x+_[0-9a-f]{8}", w)
    assert wire_name(long, "mcp") == long
    cjk = wire_name("获取天气")
    assert re.fullmatch(r"tool_[0-9a-f]{8}", cjk)
    assert wire_name("获取天气") == cjk  # stable
    assert wire_name("3d.render", "gemini") == "_3d.render"


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="openai"):
        wire_name("x", "cohere")


names_strategy = st.lists(
    st.one_of(
        st.text(min_size=0, max_size=80),
        st.from_regex(r"[a-z]{1,3}[._ -][a-z]{1,3}", fullmatch=True),
        st.from_regex(r"[a-z]{1,3}_[a-z]{1,3}", fullmatch=True),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(names=names_strategy, dialect=st.sampled_from(DIALECTS), data=st.data())
def test_any_names_map_to_distinct_valid_wire_names(
    names: list[str], dialect: str, data: st.DataObject
) -> None:
    rule = NAME_RULES[dialect]
    forward = wire_names(names, dialect)
    assert set(forward) == set(names)
    assert len(set(forward.values())) == len(forward)
    for original, wire in forward.items():
        assert rule.pattern.fullmatch(wire), (original, wire)
        if rule.pattern.fullmatch(original):
            assert wire == original
    back = build_name_map(names, dialect)
    assert {back[w]: w for w in back} == forward
    shuffled = data.draw(st.permutations(names))
    assert build_name_map(shuffled, dialect) == back
