"""Examples that ship with toolwire (the seed's weather tool, demo data)."""
