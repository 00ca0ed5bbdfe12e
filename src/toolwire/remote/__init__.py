"""Import remote services (OpenAPI, gRPC reflection, MCP) as tools."""
