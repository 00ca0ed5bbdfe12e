"""Docstring parsing: Google, NumPy, reST, plain; Chinese preserved."""

from __future__ import annotations

import toolwire as tw
from toolwire.schema import parse_docstring


def test_google() -> None:
    doc = parse_docstring(
        """Get the weather for a city.

        Longer explanation that
        wraps over two lines.

        Args:
            location (str): The city name,
                e.g. Paris.
            unit: Either "c" or "f".

        Returns:
            The forecast.

        Raises:
            ValueError: never here.
        """
    )
    assert doc.description == (
        "Get the weather for a city.\n\nLonger explanation that wraps over two lines."
    )
    assert doc.params == {"location": "The city name, e.g. Paris.", "unit": 'Either "c" or "f".'}
    assert doc.returns == "The forecast."


def test_google_chinese_with_fullwidth_colons() -> None:
    doc = parse_docstring(
        """获取指定城市的天气信息

        参数：
            location：城市名称
            days (int)：天数
        """
    )
    assert doc.description == "获取指定城市的天气信息"
    assert doc.params == {"location": "城市名称", "days": "天数"}


def test_numpy() -> None:
    doc = parse_docstring(
        """Compute a distance.

        Parameters
        ----------
        coord1 : tuple of float
            The first point,
            as (lat, lon).
        coord2, coord3 : tuple
            Other points.
        unit : str, optional

        Returns
        -------
        float
            The distance.
        """
    )
    assert doc.description == "Compute a distance."
    assert doc.params == {
        "coord1": "The first point, as (lat, lon).",
        "coord2": "Other points.",
        "coord3": "Other points.",
    }
    assert "The distance." in doc.returns


def test_rest() -> None:
    doc = parse_docstring(
        """Run a query.

        :param sql: The SQL text,
            read-only.
        :param int limit: Max rows.
        :type sql: str
        :returns: rows
        :raises ValueError: on bad SQL
        """
    )
    assert doc.description == "Run a query."
    assert doc.params == {"sql": "The SQL text, read-only.", "limit": "Max rows."}
    assert doc.returns == "rows"


def test_plain_and_empty() -> None:
    assert parse_docstring("Just text.\n\nMore text.").description == "Just text.\n\nMore text."
    assert parse_docstring("Just text.").params == {}
    assert parse_docstring(None).description == ""
    assert parse_docstring("   ").params == {}


def test_docstring_reaches_the_schema_in_every_style() -> None:
    @tw.tool
    def google(a: int) -> None:
        """G.

        Args:
            a: 甲
        """

    @tw.tool
    def numpy(a: int) -> None:
        """N.

        Parameters
        ----------
        a : int
            乙
        """

    @tw.tool
    def rest(a: int) -> None:
        """R.

        :param a: 丙
        """

    for t, text in ((google, "甲"), (numpy, "乙"), (rest, "丙")):
        assert t.spec.input_schema["properties"]["a"]["description"] == text
        assert t.spec.description == t.name[0].upper() + "."
