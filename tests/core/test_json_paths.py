"""``_json.dumps`` takes a one-call fast path; every input that needs more still serializes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from toolwire import _json


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"城市": "北京"}, '{"城市":"北京"}'),
        ({1: "a", "b": {2: 3}}, '{"1":"a","b":{"2":3}}'),  # non-str keys: the full path
        ({"n": 2**70}, '{"n":1180591620717411303424}'),  # beyond 64 bits: exact
        ({"s": (1, 2), "d": Decimal("1.5")}, '{"s":[1,2],"d":"1.5"}'),
        (Point(x=1, y=2), '{"x":1,"y":2}'),
    ],
)
def test_dumps_fast_and_full_paths_agree_with_canonical(value: object, text: str) -> None:
    assert _json.dumps(value) == text
    assert _json.loads(_json.dumps(value)) == _json.loads(_json.dumps(value, canonical=True))


def test_numpy_values_serialize() -> None:
    np = pytest.importorskip("numpy")
    assert _json.dumps({"a": np.arange(3), "b": np.int64(7)}) == '{"a":[0,1,2],"b":7}'


def test_unserializable_still_raises_type_error() -> None:
    with pytest.raises(TypeError):
        _json.dumps({"x": object()})
