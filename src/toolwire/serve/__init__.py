"""Serve a toolbox over REST, gRPC and MCP through one runtime.

Its interface is the command line, ``toolwire serve`` (needs ``pip install
"toolwire[serve,grpc,mcp]"``); the modules here are internal, and the public client of the
gRPC service is :mod:`toolwire.serve.grpc_client`.
"""

__all__: list[str] = []
