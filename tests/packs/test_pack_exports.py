"""The packs' public names are pinned (removing one is a breaking change)."""

from __future__ import annotations

from toolwire.packs import sql, weather


def test_sql_exports() -> None:
    assert sql.__all__ == [
        "Limits", "PostgresDatabase", "SQLiteDatabase", "build_postgres", "check_read_only",
        "close_pools", "connect", "sample_database", "tools",
    ]  # fmt: skip
    assert all(hasattr(sql, name) for name in sql.__all__)


def test_weather_exports() -> None:
    assert weather.__all__ == [
        "CITIES", "FORECAST_URL", "GEOCODING_URL", "WEATHER_CODES", "City", "describe",
        "find_cities", "find_city", "tools",
    ]  # fmt: skip
    assert all(hasattr(weather, name) for name in weather.__all__)
