"""Serve a toolbox over REST, gRPC and MCP through one runtime (``toolwire serve``).

Needs ``pip install "toolwire[serve,grpc,mcp]"``. Example::

    from toolwire.serve import ServeConfig, serve
    await serve(box, ServeConfig(port=8000, grpc_port=50051))
"""
