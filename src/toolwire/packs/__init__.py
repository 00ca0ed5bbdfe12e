"""Ready-made tool packs: live weather (Open-Meteo) and read-only SQL."""

__all__: list[str] = []
