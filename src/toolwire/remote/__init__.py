"""Import remote services (OpenAPI, gRPC reflection, MCP) as tools."""

__all__: list[str] = []
