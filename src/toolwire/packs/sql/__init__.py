"""Natural language to SQL, safely: read-only query tools over SQLite or PostgreSQL."""
